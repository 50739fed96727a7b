"""Azure credentials through azure-identity (the ``[azure]`` extra): an Entra ID service principal
with a client secret, a managed identity, or ``DefaultAzureCredential``.

azure-identity gives the token; this module decides when to ask (60 s, or 10% of the token's life,
before it expires), checks every URL it will contact against the hook's https rule, adds the
service-principal management headers when ``azure_resource_id`` is set (as the official provider
does), and turns a refusal into one line naming the connection and the auth type. The token fetch
is a :class:`~.exchange.Call` step: the sync hook runs it inline, the async hook in a thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_dbx_provider.exceptions import DatabricksConfigError, DatabricksConnectionError
from airflow_dbx_provider.hooks.exchange import Call, Flow
from airflow_dbx_provider.hooks.masking import mask_secret
from airflow_dbx_provider.hooks.settings import AUTH_AZURE_MSI, AUTH_AZURE_SP, DbxSettings
from airflow_dbx_provider.hooks.token_cache import RefreshableAuth
from airflow_dbx_provider.hooks.urls import check_contacted_url

log = logging.getLogger(__name__)

#: The Azure Databricks first-party application (the resource every workspace token is for).
DATABRICKS_RESOURCE_ID = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"
DATABRICKS_SCOPE = f"{DATABRICKS_RESOURCE_ID}/.default"
MANAGEMENT_SCOPE = "https://management.core.windows.net//.default"
#: Azure's instance metadata service: plain http on a link-local address, by design.
IMDS_HOST = "169.254.169.254"
#: Microsoft's own authority hosts: verified with the system CAs, instance discovery as usual.
KNOWN_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)
_FIXES = {
    AUTH_AZURE_SP: "check the Login (client id), Password (client secret) and extra azure_tenant_id",
    AUTH_AZURE_MSI: "check that this machine has a managed identity, and azure_managed_identity_client_id",
}
_DEFAULT_FIX = "check the AZURE_* environment variables or the identity DefaultAzureCredential finds"
#: azure-identity's own lines during our fetch: its multi-line failure warning (we raise one line
#: instead) and azure-core's per-request INFO lines. Their ERRORs, and other callers', pass.
_QUIETED_LOGGERS = (
    "azure.identity._internal.get_token_mixin",
    "azure.identity._internal.decorators",
    "azure.identity._credentials.chained",
    "azure.identity._credentials.default",
    "azure.core.pipeline.policies.http_logging_policy",
)
_fetching = threading.local()


class _QuietDuringFetch(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or not getattr(_fetching, "active", False)


_QUIET = _QuietDuringFetch()
for _name in _QUIETED_LOGGERS:
    logging.getLogger(_name).addFilter(_QUIET)


class AzureAuth(RefreshableAuth):
    """An Azure AD token for the Databricks resource, fetched through an azure-identity credential."""

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
        self._management_token: str | None = None
        self._credential: Any = None
        if settings.client_secret:
            mask_secret(settings.client_secret)

    def extra_headers(self) -> dict[str, str]:
        """The SP management headers (a service principal not yet in the workspace is added)."""
        resource_id = self._settings.azure_resource_id
        if not resource_id or not self._management_token:
            return {}
        return {
            "X-Databricks-Azure-Workspace-Resource-Id": resource_id,
            "X-Databricks-Azure-SP-Management-Token": self._management_token,
        }

    def invalidate(self) -> None:
        """The workspace refused the token: drop it and the credential (and so its token cache)."""
        super().invalidate()
        self._credential = None

    def token_flow(self, request_flow: Any) -> Flow[str]:
        header: str = yield Call(self._fetch)
        return header

    @property
    def secrets(self) -> tuple[str, ...]:
        found = (self._cache.token, self._management_token, self._settings.client_secret)
        return tuple(s for s in found if s)

    # ---- the blocking part (run inline by the sync hook, in a thread by the async one) ---------
    def _fetch(self) -> str:
        _fetching.active = True
        try:
            return self._fetch_quietly()
        finally:
            _fetching.active = False

    def _fetch_quietly(self) -> str:
        try:
            from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
        except ImportError:
            raise self._config_error(
                "needs azure-identity", "pip install 'airflow-dbx-provider[azure]'"
            ) from None
        try:
            if self._credential is None:
                self._credential = self._new_credential()
            token = self._credential.get_token(DATABRICKS_SCOPE)
            management = (
                self._credential.get_token(MANAGEMENT_SCOPE) if self._settings.azure_resource_id else None
            )
        except ClientAuthenticationError as exc:  # CredentialUnavailableError is one too
            self._credential = None
            raise self._config_error(f"authentication failed: {self._reason(exc)}", self._fix()) from None
        except ServiceRequestError as exc:  # never reached the token endpoint: retried by our policy
            self._credential = None
            raise DatabricksConnectionError(
                f"{self._settings.source}: {self._settings.auth_type}: token endpoint unreachable:"
                f" {self._reason(exc)}",
                method="POST",
                endpoint="(Azure token)",
                request_sent=False,
                reason=type(exc).__name__,
            ) from None
        except ValueError as exc:  # azure-identity's checks of a tenant id or authority
            self._credential = None
            raise self._config_error(f"is misconfigured: {self._reason(exc)}", self._fix()) from None
        if management is not None:
            mask_secret(management.token)
            self._management_token = management.token
        return self._keep(token.token, token.expires_on - time.time())

    def _new_credential(self) -> Any:
        from azure.identity import ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential

        settings = self._settings
        if settings.auth_type == AUTH_AZURE_MSI:
            return ManagedIdentityCredential(
                client_id=settings.azure_managed_identity_client_id, **self._identity_endpoint_kwargs()
            )
        authority = self._authority_kwargs()
        if settings.auth_type == AUTH_AZURE_SP:
            return ClientSecretCredential(
                tenant_id=str(settings.azure_tenant_id),
                client_id=str(settings.client_id),
                client_secret=str(settings.client_secret),
                **authority,
            )
        kwargs: dict[str, Any] = dict(authority)
        if settings.azure_managed_identity_client_id:
            kwargs["managed_identity_client_id"] = settings.azure_managed_identity_client_id
        if settings.azure_tenant_id:
            kwargs["tenant_id"] = settings.azure_tenant_id
        kwargs.update(self._identity_endpoint_kwargs())
        return DefaultAzureCredential(**kwargs)

    def _authority_kwargs(self) -> dict[str, Any]:
        """The Entra ID authority: azure_ad_endpoint, else AZURE_AUTHORITY_HOST, else Microsoft's.

        Held to the https rule here (azure-identity insists on https too). A host other than
        Microsoft's own (a sovereign or private cloud, the emulator) is verified with the
        connection's TLS settings and skips instance discovery, which asks login.microsoftonline.com.
        """
        authority = self._settings.azure_ad_endpoint or self._environ.get("AZURE_AUTHORITY_HOST")
        if not authority:
            return {}
        text = authority.strip().rstrip("/")
        url = check_contacted_url(
            self._settings.source, text if "://" in text else f"https://{text}", "Entra ID authority"
        )
        if (urlsplit(url).hostname or "") in KNOWN_AUTHORITY_HOSTS:
            return {"authority": url}
        return {"authority": url, "disable_instance_discovery": True, "connection_verify": self._verify()}

    def _identity_endpoint_kwargs(self) -> dict[str, Any]:
        """Check the managed-identity endpoint azure-identity will call (it reads the environment):
        IMDS on plain http at 169.254.169.254 as Azure documents it, anything else https (or
        localhost, as App Service's IDENTITY_ENDPOINT is) and verified with the connection's TLS."""
        env = self._environ
        for name in ("IDENTITY_ENDPOINT", "MSI_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"):
            url = env.get(name)
            if not url:
                continue
            parts = urlsplit(url.strip())
            if parts.scheme == "http" and parts.hostname == IMDS_HOST:
                return {}
            check_contacted_url(self._settings.source, url.strip(), f"managed identity endpoint ({name})")
            return {"connection_verify": self._verify()}
        return {}  # IMDS at http://169.254.169.254, by design

    def _verify(self) -> bool | str:
        return self._settings.verify

    def _config_error(self, problem: str, fix: str) -> DatabricksConfigError:
        settings = self._settings
        return DatabricksConfigError(f"{settings.source}: {settings.auth_type} {problem} ({fix})")

    def _fix(self) -> str:
        return _FIXES.get(self._settings.auth_type, _DEFAULT_FIX)

    def _reason(self, exc: BaseException) -> str:
        """The first line of azure-identity's message (the AADSTS code and sentence), secrets out."""
        text = str(getattr(exc, "message", None) or exc).replace("\r", "\n")
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        reason = lines[0] if lines else type(exc).__name__
        for prefix in ("Authentication failed:", "ClientSecretCredential authentication failed:"):
            if reason.startswith(prefix):
                reason = reason[len(prefix) :].strip()
        for secret in self.secrets:
            reason = reason.replace(secret, "***")
        return reason[:300]
