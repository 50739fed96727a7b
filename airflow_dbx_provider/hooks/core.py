"""Logic shared by the sync and async hooks; everything here is transport-free.

A hook subclass only supplies the transport (``requests`` or ``httpx``) and the way it sleeps.
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Mapping
from typing import Any

from airflow_dbx_provider import __version__
from airflow_dbx_provider.exceptions import (
    DatabricksConfigError,
    DatabricksConnectionError,
    DatabricksUnauthenticatedError,
    DbxError,
)
from airflow_dbx_provider.hooks.api import ApiRequest, Endpoint, build_request
from airflow_dbx_provider.hooks.auth import Auth, make_auth
from airflow_dbx_provider.hooks.errors import classify, parse_error_body, parse_json, scrub, to_error
from airflow_dbx_provider.hooks.rate_limit import TokenBucket, bucket_for, endpoint_family
from airflow_dbx_provider.hooks.retry import retry_policy
from airflow_dbx_provider.hooks.settings import SETTING_NAMES, DbxSettings, resolve_settings, with_overrides

log = logging.getLogger("airflow_dbx_provider.hooks")

DEFAULT_CONN_ID = "databricks_default"


def user_agent(transport: str) -> str:
    return f"airflow-dbx-provider/{__version__} (+{transport}; python/{platform.python_version()})"


class ClientCore:
    """Settings, request building, retry policy and response handling common to both hooks."""

    _transport_name = "unknown"

    def _init_core(
        self, conn_id: str | None, settings: DbxSettings | None, overrides: Mapping[str, Any]
    ) -> None:
        unknown = set(overrides) - SETTING_NAMES
        if unknown:
            raise TypeError(f"unknown Databricks hook argument(s): {', '.join(sorted(unknown))}")
        self._conn_id = conn_id
        self._overrides = dict(overrides)
        self._settings: DbxSettings | None = None
        self._auth: Auth | None = None
        if settings is not None:
            self._adopt(with_overrides(settings, self._overrides))

    def _adopt(self, settings: DbxSettings) -> DbxSettings:
        self._settings = settings
        self._auth = make_auth(settings)
        return settings

    def _settings_from_connection(self, conn: Any | None) -> DbxSettings:
        """Resolve from a fetched connection (or None when it does not exist: env vars then apply)."""
        return self._adopt(resolve_settings(conn_id=self._conn_id, conn=conn, overrides=self._overrides))

    # ---- request side -------------------------------------------------------------------------
    def _prepare(self, settings: DbxSettings, endpoint: Endpoint, params: Mapping[str, Any]) -> ApiRequest:
        return build_request(settings.host, endpoint, settings.api_version, params)

    def _policy(self, settings: DbxSettings, req: ApiRequest, deadline: float | None) -> dict[str, Any]:
        return retry_policy(
            idempotent=req.idempotent,
            deadline_seconds=settings.retry_deadline_seconds if deadline is None else float(deadline),
            max_retry_after_seconds=settings.max_retry_after_seconds,
            log=log,
            label=f"{req.method} {req.endpoint}",
        )

    def _bucket(self, req: ApiRequest) -> TokenBucket | None:
        """The process-wide token bucket of ``req``'s endpoint family on this workspace."""
        settings = self._settings
        if settings is None:
            return None
        return bucket_for(
            settings.host, endpoint_family(req.method, req.endpoint), settings.requests_per_second
        )

    def _rate_limit_delay(self, req: ApiRequest) -> float:
        """Take a token for ``req``; return the seconds the caller must sleep before sending it."""
        bucket = self._bucket(req)
        return bucket.reserve() if bucket is not None else 0.0

    def _headers(self, req: ApiRequest, authorization: str | None) -> dict[str, str]:
        headers = {"User-Agent": user_agent(self._transport_name), "Accept": "application/json"}
        if req.json_body is not None:
            headers["Content-Type"] = "application/json"
        if authorization:
            headers["Authorization"] = authorization
        return headers

    def _secrets(self) -> tuple[str, ...]:
        found: list[str] = list(self._settings.secrets if self._settings else ())
        if self._auth is not None and hasattr(self._auth, "secrets"):
            found.extend(self._auth.secrets)  # type: ignore[union-attr]
        return tuple(found)

    @staticmethod
    def _connected_message(settings: DbxSettings, me: Mapping[str, Any]) -> str:
        """What Airflow's "Test" button shows after SCIM Me answered (sync and async alike)."""
        who = me.get("userName") or me.get("displayName") or "unknown"
        return f"Connected to {settings.host} as {who}"

    # ---- response side ------------------------------------------------------------------------
    def _should_refresh(self, req: ApiRequest, status: int, body: bytes) -> bool:
        """True when a refreshable credential (OAuth) was refused as a credential: 401, or the 403
        "Invalid access token." Databricks sends for a bad or expired token. Same classification as
        the error that would be raised, so a 403 PERMISSION_DENIED never triggers a refresh."""
        auth = self._auth
        if not req.authenticated or auth is None or not auth.refreshable or status not in (401, 403):
            return False
        error_code, message = parse_error_body(status, body)
        return classify(status, error_code, message) is DatabricksUnauthenticatedError

    def _finish(self, req: ApiRequest, status: int, headers: Mapping[str, str], body: bytes) -> Any:
        """Parse a success body or raise the typed error; feeds the shared rate limiter."""
        bucket = self._bucket(req)
        if status == 429 and bucket is not None:
            bucket.on_throttled()
        if 200 <= status < 300:
            if bucket is not None:
                bucket.on_success()
            try:
                return parse_json(body)
            except ValueError:
                raise DbxError(
                    f"{req.method} {req.endpoint} -> {status}: response is not JSON", status_code=status
                ) from None
        source = self._settings.source if self._settings else ""
        raise to_error(
            status, headers, body, req.method, req.endpoint, secrets=self._secrets(), source=source
        )

    def _connection_error(self, req: ApiRequest, exc: BaseException, *, request_sent: bool) -> DbxError:
        reason = type(exc).__name__
        text = scrub(" ".join(str(exc).split()), self._secrets())[:300]
        return DatabricksConnectionError(
            f"{req.method} {req.endpoint} -> {reason}: {text}",
            method=req.method,
            endpoint=req.endpoint,
            request_sent=request_sent,
            reason=reason,
        )

    def _tls_error(self, req: ApiRequest, exc: BaseException) -> DbxError:
        """TLS failures are configuration problems: never retried."""
        text = scrub(" ".join(str(exc).split()), self._secrets())[:300]
        return DatabricksConfigError(
            f"{req.method} {req.endpoint} -> TLS error: {text} (check ca_bundle or the workspace URL)"
        )
