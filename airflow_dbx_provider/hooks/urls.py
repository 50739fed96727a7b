"""Workspace and other contacted URLs: https everywhere, plain http for localhost only (a leaf module).

Errors are one-line :class:`DatabricksConfigError`s naming the setting's source and the host,
never a path or query (which could carry secrets).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from airflow_dbx_provider.exceptions import DatabricksConfigError

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_HOSTNAME = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def fail(source: str, problem: str, fix: str) -> DatabricksConfigError:
    return DatabricksConfigError(f"{source}: {problem} ({fix})")


def normalise_host(source: str, raw: str, scheme_hint: str | None = None, port: int | None = None) -> str:
    """Return ``scheme://host[:port]``; paths, queries and trailing slashes are dropped."""
    fix = "set the connection's Host or DATABRICKS_HOST"
    text = str(raw).strip()
    candidate = text if "://" in text else f"{(scheme_hint or 'https').lower()}://{text}"
    try:
        parts = urlsplit(candidate)
        parsed_port = parts.port
    except ValueError:
        raise fail(source, f"host {raw!r} is not a valid URL", fix) from None
    hostname = parts.hostname or ""
    valid_name = bool(_HOSTNAME.match(hostname)) or (
        ":" in hostname and re.fullmatch(r"[0-9A-Fa-f:.]+", hostname)
    )
    if parts.scheme not in ("http", "https") or not valid_name or "@" in parts.netloc:
        raise fail(source, f"host {raw!r} is not a valid URL", fix)
    if parts.scheme == "http" and hostname not in LOCAL_HOSTS:
        raise fail(source, f"host {raw!r} uses plain http, allowed only for localhost", "use https://")
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
        raise fail(
            source, f"{what} on host {shown!r} is not an absolute http(s) URL", "check the workspace URL"
        )
    if parts.scheme == "http" and hostname not in LOCAL_HOSTS:
        raise fail(
            source, f"{what} on host {hostname!r} uses plain http, allowed only for localhost", "use https://"
        )
    return text
