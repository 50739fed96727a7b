"""Turn an Airflow connection (ours or the official provider's), hook kwargs and env vars into settings.

Resolution is pure (no HTTP, no Airflow DB access) so that every bad setting fails at once with a
one-line :class:`DatabricksConfigError` naming the setting and where to fix it.
Precedence: hook kwargs > connection fields/extras > ``DATABRICKS_*`` env vars > defaults.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from airflow_dbx_provider.hooks.urls import LOCAL_HOSTS, check_contacted_url, fail, normalise_host

__all__ = ["LOCAL_HOSTS", "DbxSettings", "check_contacted_url", "normalise_host", "resolve_settings"]

log = logging.getLogger(__name__)

AUTH_PAT = "pat"
AUTH_OAUTH_M2M = "oauth-m2m"
AUTH_AZURE_SP = "azure-client-secret"  # Entra ID service principal (official: extra azure_tenant_id)
AUTH_AZURE_MSI = "azure-msi"  # managed identity (official: use_azure_managed_identity)
AUTH_AZURE_DEFAULT = "azure-default-credential"  # official: use_default_azure_credential
AUTH_FEDERATED = "oidc-federation"  # an OIDC token exchanged at /oidc/v1/token (official: federated_*)
AUTH_AZURE_TYPES = (AUTH_AZURE_SP, AUTH_AZURE_MSI, AUTH_AZURE_DEFAULT)
AUTH_TYPES = (AUTH_PAT, AUTH_OAUTH_M2M, *AUTH_AZURE_TYPES, AUTH_FEDERATED)
API_VERSIONS = ("2.1", "2.2")

#: Names accepted as connection extras and as hook kwargs.
SETTING_NAMES = frozenset(
    {
        "host",
        "token",
        "auth_type",
        "client_id",
        "client_secret",
        "ca_bundle",
        "insecure_skip_verify",
        "connect_timeout",
        "read_timeout",
        "retry_deadline_seconds",
        "max_retry_after_seconds",
        "requests_per_second",
        "api_version",
        "azure_tenant_id",
        "azure_resource_id",
        "azure_ad_endpoint",
        "azure_managed_identity_client_id",
        "federated_token_provider",
        "oidc_token_filepath",
        "oidc_token_env",
    }
)

_NUMBERS: dict[str, float] = {
    "connect_timeout": 10.0,
    "read_timeout": 60.0,
    "retry_deadline_seconds": 600.0,
    "max_retry_after_seconds": 120.0,
}


class ConnectionLike(Protocol):
    """The few fields of an Airflow ``Connection`` we read (kept structural for tests)."""

    host: str | None
    login: str | None
    password: str | None
    schema: str | None
    port: int | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DbxSettings:
    """Fully resolved and validated client settings; secrets are kept out of ``repr``."""

    host: str
    auth_type: str = AUTH_PAT
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None
    insecure_skip_verify: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry_deadline_seconds: float = 600.0
    max_retry_after_seconds: float = 120.0
    #: Client-side rate for every endpoint family, replacing the published per-family defaults
    #: (None: those defaults; see rate_limit.FAMILY_RATES).
    requests_per_second: float | None = None
    api_version: str = "2.2"
    source: str = "explicit settings"
    #: Azure (auth types azure-*): tenant, the workspace's ARM resource id (adds the SP management
    #: token headers), the authority host, and a user-assigned managed identity's client id.
    azure_tenant_id: str | None = None
    azure_resource_id: str | None = None
    azure_ad_endpoint: str | None = None
    azure_managed_identity_client_id: str | None = None
    #: Federation: where the OIDC subject token comes from (a callable's dotted path, a file, or the
    #: environment variable named by oidc_token_env, default DATABRICKS_OIDC_TOKEN).
    federated_token_provider: str | None = None
    oidc_token_filepath: str | None = None
    oidc_token_env: str | None = None

    @property
    def verify(self) -> bool | str:
        """Value for ``requests``/``httpx`` ``verify``: a CA path, or a bool."""
        if self.insecure_skip_verify:
            return False
        return self.ca_bundle or True

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in logs or exception text."""
        return tuple(s for s in (self.token, self.client_secret) if s)


def _first(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    return None


def _as_bool(source: str, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return False
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise fail(source, f"{name} {value!r} is not a boolean", f"set {name} to true or false")


def _as_positive(source: str, name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise fail(source, f"{name} {value!r} is not a number", f"set {name} to a positive number") from None
    if not number > 0:
        raise fail(source, f"{name} {value!r} must be positive", f"set {name} to a positive number")
    return number


def _official_auth_type(
    source: str, extra: Mapping[str, Any], login: str | None, password: str | None
) -> str | None:
    """The auth type an official-provider connection implies by its extras, in its precedence
    (a token in the extra, or a Password without a Login, is a PAT before anything else)."""
    if (
        password
        and not login
        and not _as_bool(source, "service_principal_oauth", extra.get("service_principal_oauth"))
    ):
        return None
    if extra.get("azure_tenant_id"):
        return AUTH_AZURE_SP
    if _as_bool(source, "use_azure_managed_identity", extra.get("use_azure_managed_identity")):
        return AUTH_AZURE_MSI
    if _as_bool(source, "use_default_azure_credential", extra.get("use_default_azure_credential")):
        return AUTH_AZURE_DEFAULT
    if _as_bool(source, "service_principal_oauth", extra.get("service_principal_oauth")):
        return AUTH_OAUTH_M2M
    if extra.get("federated_token_provider"):
        return AUTH_FEDERATED
    if login == "federated_aws" or _as_bool(source, "federated_aws", extra.get("federated_aws")):
        raise fail(
            source,
            "AWS IAM token federation (federated_aws) is not offered",
            "use federated_token_provider, a token file (oidc_token_filepath) or DATABRICKS_OIDC_TOKEN",
        )
    if login == "federated_k8s" or _as_bool(source, "federated_k8s", extra.get("federated_k8s")):
        if not extra.get("k8s_projected_volume_token_path"):
            raise fail(
                source,
                "federated_k8s reads a projected service-account token only (the TokenRequest API is not offered)",
                "set extra 'k8s_projected_volume_token_path'",
            )
        return AUTH_FEDERATED
    return None


def resolve_settings(
    *,
    conn_id: str | None,
    conn: ConnectionLike | None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> DbxSettings:
    """Merge kwargs, connection and env into validated :class:`DbxSettings` (no I/O)."""
    overrides = dict(overrides or {})
    unknown = set(overrides) - SETTING_NAMES
    if unknown:
        raise TypeError(f"unknown Databricks setting(s): {', '.join(sorted(unknown))}")
    env = os.environ if env is None else env
    source = f"connection {conn_id!r}" if conn_id else "explicit settings"
    extra: dict[str, Any] = dict(conn.extra_dejson or {}) if conn is not None else {}

    def pick(name: str) -> Any:
        return _first(overrides.get(name), extra.get(name))

    # Host: kwargs > host field (official style: scheme stripped, schema=http, port) > extra host > env.
    conn_host = conn.host if conn is not None else None
    scheme_hint = None
    if conn is not None and (conn.schema or "").lower() in ("http", "https"):
        scheme_hint = conn.schema
    raw_host = _first(overrides.get("host"), conn_host, extra.get("host"), env.get("DATABRICKS_HOST"))
    if raw_host is None:
        raise fail(source, "no workspace host is set", "set the connection's Host or DATABRICKS_HOST")
    use_conn_fields = overrides.get("host") is None and conn_host not in (None, "")
    host = normalise_host(
        source,
        raw_host,
        scheme_hint if use_conn_fields else None,
        conn.port if (use_conn_fields and conn is not None) else None,
    )

    login = conn.login if conn is not None else None
    password = conn.password if conn is not None else None
    auth_type = pick("auth_type")
    if auth_type is None and not pick("token"):  # the official provider: a token wins over the rest
        auth_type = _official_auth_type(source, extra, login, password)
    if auth_type is not None:
        auth_type = str(auth_type).strip().lower()
        if auth_type not in AUTH_TYPES:
            raise fail(source, f"auth_type {auth_type!r} is unknown", f"use one of {', '.join(AUTH_TYPES)}")
    if auth_type in (*AUTH_AZURE_TYPES, AUTH_FEDERATED):
        credentials = _token_source_fields(source, auth_type, pick, extra, login, password, env)
    else:
        credentials = _pat_or_m2m_fields(source, auth_type, overrides, extra, login, password, env)
    return DbxSettings(host=host, source=source, **credentials, **_transport_fields(source, pick))


def _pat_or_m2m_fields(
    source: str,
    auth_type: str | None,
    overrides: Mapping[str, Any],
    extra: Mapping[str, Any],
    login: str | None,
    password: str | None,
    env: Mapping[str, str],
) -> dict[str, Any]:
    token = _first(overrides.get("token"), extra.get("token"))
    client_id = _first(overrides.get("client_id"), extra.get("client_id"))
    client_secret = _first(overrides.get("client_secret"), extra.get("client_secret"))
    if auth_type == AUTH_OAUTH_M2M:
        client_id = _first(client_id, login, env.get("DATABRICKS_CLIENT_ID"))
        client_secret = _first(client_secret, password, env.get("DATABRICKS_CLIENT_SECRET"))
    else:
        token = _first(token, password)
        if auth_type is None and token is None:
            client_id = _first(client_id, env.get("DATABRICKS_CLIENT_ID"))
            client_secret = _first(client_secret, env.get("DATABRICKS_CLIENT_SECRET"))
            if client_id and client_secret:
                auth_type = AUTH_OAUTH_M2M
        if auth_type != AUTH_OAUTH_M2M:
            auth_type = AUTH_PAT
            token = _first(token, env.get("DATABRICKS_TOKEN"))
    if auth_type == AUTH_PAT and not token:
        raise fail(
            source,
            "no personal access token is set",
            "set the connection's Password, extra 'token' or DATABRICKS_TOKEN",
        )
    if auth_type == AUTH_OAUTH_M2M:
        if not client_id:
            raise fail(
                source, "oauth-m2m needs a client_id", "set extra 'client_id', Login or DATABRICKS_CLIENT_ID"
            )
        if not client_secret:
            raise fail(
                source,
                "oauth-m2m needs a client_secret",
                "set extra 'client_secret', Password or DATABRICKS_CLIENT_SECRET",
            )
        token = None
    return {
        "auth_type": auth_type,
        "token": str(token) if token else None,
        "client_id": str(client_id) if client_id else None,
        "client_secret": str(client_secret) if client_secret else None,
    }


def _token_source_fields(
    source: str,
    auth_type: str,
    pick: Callable[[str], Any],
    extra: Mapping[str, Any],
    login: str | None,
    password: str | None,
    env: Mapping[str, str],
) -> dict[str, Any]:
    """The Azure and federated auth types: no PAT; a client secret only for an Entra ID SP."""

    def text(name: str) -> str | None:
        value = pick(name)
        return str(value).strip() if value not in (None, "") else None

    client_id = _first(text("client_id"), None if (login or "").startswith("federated_") else login)
    client_secret = None
    authority = text("azure_ad_endpoint")
    if authority:  # an authority host, bare or as a URL: https (localhost aside), as for the host
        authority = authority.rstrip("/")
        authority = check_contacted_url(
            source, authority if "://" in authority else f"https://{authority}", "azure_ad_endpoint"
        )
    if auth_type == AUTH_AZURE_SP:
        client_secret = _first(text("client_secret"), password)
        for what, value, fix in (
            ("azure_tenant_id", text("azure_tenant_id"), "set extra 'azure_tenant_id'"),
            ("a client id", client_id, "set the connection's Login to the application (client) id"),
            ("a client secret", client_secret, "set the connection's Password to the client secret"),
        ):
            if not value:
                raise fail(source, f"{auth_type} needs {what}", fix)
    token_file = None
    if auth_type == AUTH_FEDERATED:
        token_file = _first(
            extra.get("k8s_projected_volume_token_path"),
            text("oidc_token_filepath"),
            env.get("DATABRICKS_OIDC_TOKEN_FILEPATH"),
        )
    return {
        "auth_type": auth_type,
        "client_id": str(client_id) if client_id else None,
        "client_secret": str(client_secret) if client_secret else None,
        "azure_tenant_id": text("azure_tenant_id"),
        "azure_resource_id": text("azure_resource_id"),
        "azure_ad_endpoint": authority,
        "azure_managed_identity_client_id": text("azure_managed_identity_client_id"),
        "federated_token_provider": text("federated_token_provider"),
        "oidc_token_filepath": str(token_file) if token_file else None,
        "oidc_token_env": text("oidc_token_env"),
    }


def _transport_fields(source: str, pick: Callable[[str], Any]) -> dict[str, Any]:
    """Timeouts, retry bounds, rate, API version and TLS: the same for every auth type."""
    fields: dict[str, Any] = {}
    for name, default in _NUMBERS.items():
        value = pick(name)
        fields[name] = default if value is None else _as_positive(source, name, value)
    rps = pick("requests_per_second")
    fields["requests_per_second"] = None if rps is None else _as_positive(source, "requests_per_second", rps)

    api_version = str(_first(pick("api_version"), "2.2")).strip()
    if api_version not in API_VERSIONS:
        raise fail(source, f"api_version {api_version!r} is not supported", "use '2.2' or '2.1'")
    fields["api_version"] = api_version

    ca_bundle = pick("ca_bundle")
    if ca_bundle is not None and not os.path.isfile(str(ca_bundle)):
        raise fail(
            source, f"ca_bundle {ca_bundle!r} is not a readable file", "set ca_bundle to a PEM file path"
        )
    fields["ca_bundle"] = str(ca_bundle) if ca_bundle else None
    insecure = _as_bool(source, "insecure_skip_verify", pick("insecure_skip_verify"))
    if insecure:
        log.warning("%s: TLS certificate verification is DISABLED (insecure_skip_verify)", source)
    fields["insecure_skip_verify"] = insecure
    return fields


def with_overrides(settings: DbxSettings, overrides: Mapping[str, Any]) -> DbxSettings:
    """Apply per-hook kwargs to already resolved settings, validating them the same way."""
    if not overrides:
        return settings
    base = {name: getattr(settings, name) for name in SETTING_NAMES}
    base.update({k: v for k, v in overrides.items()})
    return replace(resolve_settings(conn_id=None, conn=None, overrides=base, env={}), source=settings.source)
