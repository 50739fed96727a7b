"""Databricks workload identity federation: an OIDC token from the environment, exchanged for a
Databricks OAuth token at the workspace's ``/oidc/v1/token`` (RFC 8693 token exchange).

The subject token comes from, in this order: the official provider's ``federated_token_provider``
(a dotted path to a ``Callable[[], str]``), its ``k8s_projected_volume_token_path`` (with
``federated_k8s``) or the SDK's ``oidc_token_filepath`` / ``DATABRICKS_OIDC_TOKEN_FILEPATH`` (a
file, re-read at each exchange since it rotates), or the environment variable named by
``oidc_token_env`` (default ``DATABRICKS_OIDC_TOKEN``, as the SDK's ``env-oidc``). ``client_id``
names the service principal of a service-principal federation policy; without it the exchange
uses the account-wide policy. The exchange goes through the hook's own request flow (retries, the
https rule), so only reading the subject token is a blocking :class:`~.exchange.Call`.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from airflow_dbx_provider.exceptions import DatabricksApiError, DatabricksConfigError
from airflow_dbx_provider.hooks.api import ApiRequest
from airflow_dbx_provider.hooks.exchange import Call, Flow
from airflow_dbx_provider.hooks.masking import mask_secret
from airflow_dbx_provider.hooks.settings import DbxSettings
from airflow_dbx_provider.hooks.token_cache import RefreshableAuth, expires_in
from airflow_dbx_provider.hooks.urls import check_contacted_url

TOKEN_EXCHANGE_PATH = "/oidc/v1/token"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
DEFAULT_TOKEN_ENV = "DATABRICKS_OIDC_TOKEN"


class FederatedAuth(RefreshableAuth):
    """A Databricks OAuth token obtained by exchanging the workload's OIDC token."""

    def __init__(
        self,
        settings: DbxSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(clock)
        self._settings = settings
        self._environ = os.environ if environ is None else environ
        self._subject: str | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._cache.token, self._subject) if s)

    def token_flow(self, request_flow: Callable[[ApiRequest], Flow[Any]]) -> Flow[str]:
        """Read the subject token, exchange it, keep the answer until shortly before it expires."""
        subject: str = yield Call(self._subject_token)
        self._subject = subject
        settings = self._settings
        url = check_contacted_url(
            settings.source, settings.host + TOKEN_EXCHANGE_PATH, "OIDC token exchange endpoint"
        )
        form = {
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "subject_token_type": JWT_TOKEN_TYPE,
            "subject_token": subject,
            "scope": "all-apis",
        }
        if settings.client_id:
            form["client_id"] = settings.client_id
        request = ApiRequest("POST", url, TOKEN_EXCHANGE_PATH, form=form, authenticated=False)
        try:
            answer = yield from request_flow(request)
        except DatabricksApiError as err:
            reason = (err.api_message or "").split(" [")[0]
            code = f" {err.error_code}" if err.error_code else ""
            raise self._error(
                f"the token exchange answered {err.status_code}{code}: {reason}",
                "check the OIDC token's issuer, subject and audience against the federation policy,"
                " and client_id",
            ) from None
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise self._error("the token exchange answered without an access_token", "check the host")
        return self._keep(str(answer["access_token"]), expires_in(answer))

    # ---- the subject token (blocking: a file, the environment, or the user's callable) --------
    def _subject_token(self) -> str:
        settings = self._settings
        if settings.federated_token_provider:
            where = f"federated_token_provider {settings.federated_token_provider!r}"
            token = self._from_provider(settings.federated_token_provider, where)
        elif settings.oidc_token_filepath:
            where = f"the OIDC token file {settings.oidc_token_filepath!r}"
            try:
                with open(settings.oidc_token_filepath, encoding="utf-8") as handle:
                    token = handle.read()
            except OSError as exc:
                raise self._error(
                    f"cannot read {where}: {exc.strerror or type(exc).__name__}", "check the path"
                ) from None
        else:
            name = settings.oidc_token_env or DEFAULT_TOKEN_ENV
            where = f"the environment variable {name}"
            token = self._environ.get(name, "")
        if not isinstance(token, str) or not token.strip():
            raise self._error(
                f"no OIDC token: {where} is empty or unset",
                "set federated_token_provider, oidc_token_filepath or DATABRICKS_OIDC_TOKEN",
            )
        token = token.strip()
        mask_secret(token)
        return token

    def _from_provider(self, path: str, where: str) -> Any:
        module_name, _, attribute = path.rpartition(".")
        try:
            provider = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError, ValueError):
            raise self._error(f"cannot import {where}", "give a dotted path to a callable") from None
        return provider()

    def _error(self, problem: str, fix: str) -> DatabricksConfigError:
        settings = self._settings
        return DatabricksConfigError(
            f"{settings.source}: {settings.auth_type} authentication failed: {problem} ({fix})"
        )
