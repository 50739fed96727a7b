"""Turn an Airflow connection (ours or the official provider's), hook kwargs and env vars into settings.

Resolution is pure (no HTTP, no Airflow DB access) so that every bad setting fails at once with a
one-line :class:`DatabricksConfigError` naming the setting and where to fix it.
Precedence: hook kwargs > connection fields/extras > ``DATABRICKS_*`` env vars > defaults.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

from airflow_dbx_provider.exceptions import DatabricksConfigError

log = logging.getLogger(__name__)

AUTH_PAT = "pat"
AUTH_OAUTH_M2M = "oauth-m2m"
AUTH_TYPES = (AUTH_PAT, AUTH_OAUTH_M2M)
API_VERSIONS = ("2.1", "2.2")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

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
    }
)

_NUMBERS: dict[str, float] = {
    "connect_timeout": 10.0,
    "read_timeout": 60.0,
    "retry_deadline_seconds": 600.0,
    "max_retry_after_seconds": 120.0,
}
_HOSTNAME = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


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


def _fail(source: str, problem: str, fix: str) -> DatabricksConfigError:
    return DatabricksConfigError(f"{source}: {problem} ({fix})")


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
    raise _fail(source, f"{name} {value!r} is not a boolean", f"set {name} to true or false")


def _as_positive(source: str, name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(source, f"{name} {value!r} is not a number", f"set {name} to a positive number") from None
    if not number > 0:
        raise _fail(source, f"{name} {value!r} must be positive", f"set {name} to a positive number")
    return number


def normalise_host(source: str, raw: str, scheme_hint: str | None = None, port: int | None = None) -> str:
    """Return ``scheme://host[:port]``; paths, queries and trailing slashes are dropped."""
    fix = "set the connection's Host or DATABRICKS_HOST"
    text = str(raw).strip()
    candidate = text if "://" in text else f"{(scheme_hint or 'https').lower()}://{text}"
    try:
        parts = urlsplit(candidate)
        parsed_port = parts.port
    except ValueError:
        raise _fail(source, f"host {raw!r} is not a valid URL", fix) from None
    hostname = parts.hostname or ""
    valid_name = bool(_HOSTNAME.match(hostname)) or (
        ":" in hostname and re.fullmatch(r"[0-9A-Fa-f:.]+", hostname)
    )
    if parts.scheme not in ("http", "https") or not valid_name or "@" in parts.netloc:
        raise _fail(source, f"host {raw!r} is not a valid URL", fix)
    if parts.scheme == "http" and hostname not in LOCAL_HOSTS:
        raise _fail(source, f"host {raw!r} uses plain http, allowed only for localhost", "use https://")
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    final_port = parsed_port if parsed_port is not None else port
    if final_port is not None:
        netloc = f"{netloc}:{int(final_port)}"
    return f"{parts.scheme}://{netloc}"


def check_contacted_url(source: str, url: str, what: str) -> str:
    """Apply the workspace host's rule to any other URL the hook contacts (e.g. a discovered OAuth
    token endpoint): an absolute http(s) URL, and https unless the host is localhost. Returns ``url``.

    The error names the URL's host (never a path or query, which could carry secrets).
    """
    text = str(url).strip()
    try:
        parts = urlsplit(text)
        hostname = parts.hostname or ""
    except ValueError:
        parts, hostname = None, ""
    if parts is None or parts.scheme not in ("http", "https") or not hostname or "@" in parts.netloc:
        try:  # name the host even when the scheme is missing ("host:port/path")
            shown = hostname or urlsplit("//" + text.split("://")[-1]).hostname or "(none)"
        except ValueError:
            shown = "(none)"
        raise _fail(
            source, f"{what} on host {shown!r} is not an absolute http(s) URL", "check the workspace URL"
        )
    if parts.scheme == "http" and hostname not in LOCAL_HOSTS:
        raise _fail(
            source, f"{what} on host {hostname!r} uses plain http, allowed only for localhost", "use https://"
        )
    return text


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
        raise _fail(source, "no workspace host is set", "set the connection's Host or DATABRICKS_HOST")
    use_conn_fields = overrides.get("host") is None and conn_host not in (None, "")
    host = normalise_host(
        source,
        raw_host,
        scheme_hint if use_conn_fields else None,
        conn.port if (use_conn_fields and conn is not None) else None,
    )

    auth_type = pick("auth_type")
    if auth_type is None and _as_bool(
        source, "service_principal_oauth", extra.get("service_principal_oauth")
    ):
        auth_type = AUTH_OAUTH_M2M
    if auth_type is not None:
        auth_type = str(auth_type).strip().lower()
        if auth_type not in AUTH_TYPES:
            raise _fail(source, f"auth_type {auth_type!r} is unknown", "use 'pat' or 'oauth-m2m'")

    login = conn.login if conn is not None else None
    password = conn.password if conn is not None else None
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
        raise _fail(
            source,
            "no personal access token is set",
            "set the connection's Password, extra 'token' or DATABRICKS_TOKEN",
        )
    if auth_type == AUTH_OAUTH_M2M:
        if not client_id:
            raise _fail(
                source, "oauth-m2m needs a client_id", "set extra 'client_id', Login or DATABRICKS_CLIENT_ID"
            )
        if not client_secret:
            raise _fail(
                source,
                "oauth-m2m needs a client_secret",
                "set extra 'client_secret', Password or DATABRICKS_CLIENT_SECRET",
            )
        token = None

    numbers = {}
    for name, default in _NUMBERS.items():
        value = pick(name)
        numbers[name] = default if value is None else _as_positive(source, name, value)
    rps = pick("requests_per_second")
    requests_per_second = None if rps is None else _as_positive(source, "requests_per_second", rps)

    api_version = str(_first(pick("api_version"), "2.2")).strip()
    if api_version not in API_VERSIONS:
        raise _fail(source, f"api_version {api_version!r} is not supported", "use '2.2' or '2.1'")

    ca_bundle = pick("ca_bundle")
    if ca_bundle is not None and not os.path.isfile(str(ca_bundle)):
        raise _fail(
            source, f"ca_bundle {ca_bundle!r} is not a readable file", "set ca_bundle to a PEM file path"
        )
    insecure = _as_bool(source, "insecure_skip_verify", pick("insecure_skip_verify"))
    if insecure:
        log.warning("%s: TLS certificate verification is DISABLED (insecure_skip_verify)", source)

    return DbxSettings(
        host=host,
        auth_type=auth_type,
        token=str(token) if token else None,
        client_id=str(client_id) if client_id else None,
        client_secret=str(client_secret) if client_secret else None,
        ca_bundle=str(ca_bundle) if ca_bundle else None,
        insecure_skip_verify=insecure,
        api_version=api_version,
        source=source,
        requests_per_second=requests_per_second,
        **numbers,
    )


def with_overrides(settings: DbxSettings, overrides: Mapping[str, Any]) -> DbxSettings:
    """Apply per-hook kwargs to already resolved settings, validating them the same way."""
    if not overrides:
        return settings
    base = {name: getattr(settings, name) for name in SETTING_NAMES}
    base.update({k: v for k, v in overrides.items()})
    return replace(resolve_settings(conn_id=None, conn=None, overrides=base, env={}), source=settings.source)
