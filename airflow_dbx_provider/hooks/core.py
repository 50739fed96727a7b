"""The request exchange, written once for both hooks and free of any transport.

:class:`ClientCore` holds settings, credentials and the response handling, and writes every call
as a flow of :mod:`.exchange` steps: rate-limit wait, OAuth discovery and token fetch (under the
hook's lock), send, one token refresh on an expired credential, error mapping, and the retry
decision of the one tenacity policy (:mod:`.retry`). Paging (2.2 continuation pages) is a flow too.
``DatabricksHook`` drives these flows over ``requests`` and ``DatabricksAsyncHook`` over ``httpx``.
"""

from __future__ import annotations

import functools
import logging
import platform
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from tenacity import DoAttempt, DoSleep, RetryCallState, Retrying

from airflow_dbx_provider import __version__
from airflow_dbx_provider.exceptions import (
    DatabricksConfigError,
    DatabricksConnectionError,
    DatabricksUnauthenticatedError,
    DbxError,
)
from airflow_dbx_provider.hooks.api import EP, ApiRequest, Endpoint, build_request, merge_pages
from airflow_dbx_provider.hooks.auth import Auth, OAuthM2MAuth, make_auth
from airflow_dbx_provider.hooks.errors import classify, parse_error_body, parse_json, scrub, to_error
from airflow_dbx_provider.hooks.exchange import Exclusive, Flow, Response, Send, Sleep
from airflow_dbx_provider.hooks.rate_limit import TokenBucket, bucket_for, endpoint_family, generation
from airflow_dbx_provider.hooks.retry import is_retryable, retry_policy
from airflow_dbx_provider.hooks.settings import SETTING_NAMES, DbxSettings, resolve_settings, with_overrides

__all__ = ["ClientCore", "user_agent"]

log = logging.getLogger("airflow_dbx_provider.hooks")


@functools.cache
def user_agent(transport: str) -> str:
    return f"airflow-dbx-provider/{__version__} (+{transport}; python/{platform.python_version()})"


class ClientCore:
    """Settings, credentials and the request exchange common to both hooks.

    A hook resolves its settings (sync or async), then drives the flows below; flows read
    :attr:`_settings` and never touch a transport.
    """

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
        #: (method, endpoint) -> (settings, limiter generation, bucket): looked up once, not per call
        self._bucket_cache: dict[tuple[str, str], tuple[DbxSettings, int, TokenBucket]] = {}
        #: with a body or not -> (the Authorization value, the headers built for it)
        self._header_cache: dict[bool, tuple[str | None, Mapping[str, str]]] = {}
        if settings is not None:
            self._adopt(with_overrides(settings, self._overrides))

    def _adopt(self, settings: DbxSettings) -> DbxSettings:
        self._settings = settings
        self._auth = make_auth(settings)
        return settings

    def _settings_from_connection(self, conn: Any | None) -> DbxSettings:
        """Resolve from a fetched connection (or None when it does not exist: env vars then apply)."""
        return self._adopt(resolve_settings(conn_id=self._conn_id, conn=conn, overrides=self._overrides))

    def _resolved(self) -> DbxSettings:
        """The settings a flow runs with (the hook resolves them before driving any flow)."""
        if self._settings is None:  # pragma: no cover - a hook bug, not a user error
            raise RuntimeError("settings are resolved before a flow runs")
        return self._settings

    # ---- flows: the exchange, written once ---------------------------------------------------------
    def _call_flow(
        self, endpoint: Endpoint, params: Mapping[str, Any], deadline: float | None = None
    ) -> Flow[Any]:
        """One REST call: build the request, then exchange it with retries; returns parsed JSON."""
        settings = self._resolved()
        req = build_request(settings.host, endpoint, settings.api_version, params)
        return (yield from self._request_flow(req, deadline))

    def _paged_flow(
        self,
        endpoint: Endpoint,
        keys: tuple[str, ...],
        params: Mapping[str, Any],
        deadline: float | None = None,
    ) -> Flow[dict[str, Any]]:
        """GET one object and append the arrays of its 2.2 continuation pages (jobs/get, runs/get)."""
        first = yield from self._call_flow(endpoint, params, deadline)
        token = first.get("next_page_token")
        while token:
            page = yield from self._call_flow(endpoint, {**params, "page_token": token}, deadline)
            merge_pages(first, page, keys)
            token = page.get("next_page_token")
        first.pop("next_page_token", None)
        first.pop("has_more", None)
        return dict(first)

    def _request_flow(self, req: ApiRequest, deadline: float | None = None) -> Flow[Any]:
        """Attempts of ``req`` as the tenacity policy decides: its waits become :class:`Sleep` steps.

        The first attempt runs before any retry state is built: most calls succeed at once, and a
        failure the policy would not retry is raised as tenacity would raise it (``reraise``).
        """
        started = time.monotonic()
        try:
            return (yield from self._attempt_flow(req))
        except Exception as exc:
            first = exc
        if not is_retryable(first, req.idempotent):
            raise first
        retrying = Retrying(**self._policy(self._resolved(), req, deadline))
        retrying.begin()
        state = RetryCallState(retrying, fn=None, args=(), kwargs={})
        state.start_time = started  # the deadline counts from the first attempt
        state.set_exception((type(first), first, first.__traceback__))
        while True:
            action = retrying.iter(state)
            if isinstance(action, DoAttempt):
                try:
                    result = yield from self._attempt_flow(req)
                except Exception as exc:
                    state.set_exception((type(exc), exc, exc.__traceback__))
                else:
                    state.set_result(result)
            elif isinstance(action, DoSleep):
                state.prepare_for_next_attempt()
                yield Sleep(float(action))
            else:
                return action

    def _attempt_flow(self, req: ApiRequest) -> Flow[Any]:
        """One attempt: authorize, send, refresh a rejected OAuth token once, map the answer."""
        authorization = (yield from self._authorization_flow()) if req.authenticated else None
        response = yield from self._send_flow(req, authorization)
        auth = self._auth
        if auth is not None and self._should_refresh(req, response.status, response.body):
            auth.invalidate()  # the cached OAuth token was rejected: fetch a new one, once
            response = yield from self._send_flow(req, (yield from self._authorization_flow()))
        return self._finish(req, response.status, response.headers, response.body)

    def _send_flow(self, req: ApiRequest, authorization: str | None) -> Flow[Response]:
        delay = self._rate_limit_delay(req)
        if delay > 0:
            yield Sleep(delay)
        response: Response = yield Send(req, self._headers(req, authorization))
        return response

    def _authorization_flow(self) -> Flow[str | None]:
        """The Authorization value: a PAT, a cached OAuth token, or a token fetched under the lock."""
        auth = self._auth
        if auth is None:  # pragma: no cover - _adopt always sets it
            raise RuntimeError("credentials are resolved before a flow runs")
        header = auth.cached_header()
        if header is not None or not auth.refreshable:
            return header
        fetched: str = yield Exclusive(self._token_flow(auth))
        return fetched

    def _token_flow(self, auth: Auth) -> Flow[str]:
        """OAuth M2M: discover the token endpoint (once; the well-known path when discovery fails),
        then fetch. Azure and federated credentials bring their own fetch flow."""
        header = auth.cached_header()  # another caller may have fetched it while this one waited
        if header is not None:
            return header
        if not isinstance(auth, OAuthM2MAuth):
            return (yield from auth.token_flow(self._request_flow))  # type: ignore[union-attr]
        if auth.token_endpoint is None:
            try:
                auth.accept_discovery((yield from self._request_flow(auth.discovery_request())))
            except DbxError:
                auth.use_fallback_endpoint()
        return auth.accept_token((yield from self._request_flow(auth.token_request())))

    def _test_connection_flow(self) -> Flow[str]:
        """Airflow's "Test" button: authenticate and call SCIM Me once; returns what the UI shows."""
        me = yield from self._call_flow(EP.SCIM_ME, {}, deadline=30)
        who = me.get("userName") or me.get("displayName") or "unknown"
        return f"Connected to {self._resolved().host} as {who}"

    # ---- request side -------------------------------------------------------------------------
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
        key = (req.method, req.endpoint)
        cached = self._bucket_cache.get(key)
        current = generation()
        if cached is not None and cached[0] is settings and cached[1] == current:
            return cached[2]
        bucket = bucket_for(
            settings.host, endpoint_family(req.method, req.endpoint), settings.requests_per_second
        )
        self._bucket_cache[key] = (settings, current, bucket)
        return bucket

    def _rate_limit_delay(self, req: ApiRequest) -> float:
        """Take a token for ``req``; return the seconds the caller must sleep before sending it."""
        bucket = self._bucket(req)
        return bucket.reserve() if bucket is not None else 0.0

    def _headers(self, req: ApiRequest, authorization: str | None) -> Mapping[str, str]:
        """The request headers; read-only, and reused while the credential stays the same."""
        has_body = req.json_body is not None
        extra = getattr(self._auth, "extra_headers", None) if authorization else None
        cached = self._header_cache.get(has_body)
        if extra is None and cached is not None and cached[0] == authorization:
            return cached[1]
        headers = {"User-Agent": user_agent(self._transport_name), "Accept": "application/json"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if authorization:
            headers["Authorization"] = authorization
            if extra is not None:  # Azure: the SP management token headers, when azure_resource_id is set
                headers.update(extra())
        frozen = MappingProxyType(headers)
        if extra is None:
            self._header_cache[has_body] = (authorization, frozen)
        return frozen

    def _secrets(self) -> tuple[str, ...]:
        found: list[str] = list(self._settings.secrets if self._settings else ())
        if self._auth is not None and hasattr(self._auth, "secrets"):
            found.extend(self._auth.secrets)  # type: ignore[union-attr]
        return tuple(found)

    # ---- response side ------------------------------------------------------------------------
    def _should_refresh(self, req: ApiRequest, status: int, body: bytes) -> bool:
        """True when a refreshable credential (OAuth) was refused as a credential: 401, or the 403
        "Invalid access token." Databricks sends for a bad or expired token. Same classification as
        the error that would be raised, so a 403 PERMISSION_DENIED never triggers a refresh."""
        auth = self._auth
        if not req.authenticated or auth is None or not auth.refreshable or status not in (401, 403):
            return False
        error_code, message = parse_error_body(status, body)
        return (
            classify(status, error_code, message, req.method, req.endpoint) is DatabricksUnauthenticatedError
        )

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
