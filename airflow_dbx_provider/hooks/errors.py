"""Map an HTTP error answer to a typed exception: one function shared by the sync and async hooks.

Body parsing copes with empty bodies, JSON (standard, legacy ``{"error": ...}``, SCIM, numeric
``error_code``), ``CODE: message`` text and HTML. Classification uses ``error_code`` first, then the
HTTP status. Message text is read only by :data:`OVERRIDES`: the few answers, on named endpoints,
where Databricks says in words what its code and status do not (as the SDK's ``overrides.py``).
"""

from __future__ import annotations

import email.utils
import html
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from airflow_dbx_provider.exceptions import (
    DatabricksApiError,
    DatabricksInvalidParameterError,
    DatabricksNotFoundError,
    DatabricksPermissionDeniedError,
    DatabricksRateLimitedError,
    DatabricksResourceConflictError,
    DatabricksServerError,
    DatabricksUnauthenticatedError,
)

ERROR_CODE_MAPPING: dict[str, type[DatabricksApiError]] = {
    "RESOURCE_DOES_NOT_EXIST": DatabricksNotFoundError,
    "NOT_FOUND": DatabricksNotFoundError,
    "PERMISSION_DENIED": DatabricksPermissionDeniedError,
    "UNAUTHENTICATED": DatabricksUnauthenticatedError,
    "INVALID_PARAMETER_VALUE": DatabricksInvalidParameterError,
    "MALFORMED_REQUEST": DatabricksInvalidParameterError,
    "RESOURCE_ALREADY_EXISTS": DatabricksResourceConflictError,
    "ALREADY_EXISTS": DatabricksResourceConflictError,
    "REQUEST_LIMIT_EXCEEDED": DatabricksRateLimitedError,
    "RESOURCE_EXHAUSTED": DatabricksRateLimitedError,
    "TEMPORARILY_UNAVAILABLE": DatabricksServerError,
}

STATUS_CODE_MAPPING: dict[int, type[DatabricksApiError]] = {
    400: DatabricksInvalidParameterError,
    401: DatabricksUnauthenticatedError,
    403: DatabricksPermissionDeniedError,
    404: DatabricksNotFoundError,
    409: DatabricksResourceConflictError,
    429: DatabricksRateLimitedError,
}


@dataclass(frozen=True)
class Override:
    """An answer whose error_code and status say less than its message, matched in full."""

    method: str | None  # None: any method
    path: re.Pattern[str] | None  # None: any endpoint
    status: int
    error_codes: frozenset[str | int]
    message: re.Pattern[str]
    cls: type[DatabricksApiError]

    def matches(
        self, method: str, endpoint: str, status: int, error_code: str | int | None, message: str
    ) -> bool:
        return (
            status == self.status
            and error_code in self.error_codes
            and (self.method is None or method == self.method)
            and (self.path is None or self.path.match(endpoint) is not None)
            and self.message.search(message) is not None
        )


def _missing(action: str, message: str) -> Override:
    """Databricks answers a missing cluster/job/run on its get endpoint with 400 INVALID_PARAMETER_VALUE."""
    path = re.compile(rf"^/api/2\.\d/{re.escape(action)}$")
    return Override(
        "GET", path, 400, frozenset({"INVALID_PARAMETER_VALUE"}), re.compile(message), DatabricksNotFoundError
    )


OVERRIDES: tuple[Override, ...] = (
    _missing("clusters/get", r"Cluster .+ does not exist"),
    _missing("jobs/get", r"Job .+ does not exist"),
    _missing("jobs/runs/get", r"Run .+ does not exist|Run: .+ in job: .+ doesn't exist"),
    # Any endpoint: the gateway refuses a bad or expired token with 403 and a numeric error_code.
    # Other numeric-403 answers (an IP access list, say) are not credential problems.
    Override(
        None,
        None,
        403,
        frozenset({403, "403"}),
        re.compile(r"^Invalid access token", re.IGNORECASE),
        DatabricksUnauthenticatedError,
    ),
)

_TEXT_ERROR = re.compile(r"^([A-Z][A-Z_]+): (.+)$", re.DOTALL)
_HTML_TAG = re.compile(r"<(pre|title)>(.*?)</\1>", re.IGNORECASE | re.DOTALL)
_MAX_MESSAGE = 500


def parse_error_body(status: int, body: bytes | str | None) -> tuple[str | int | None, str]:
    """Return ``(error_code, message)`` from whatever the server sent."""
    reason = _reason(status)
    if body is None or len(body) == 0:
        return None, reason
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    if not text:
        return None, reason
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        code = data.get("error_code", data.get("errorCode"))
        message = data.get("message") or data.get("error_description") or data.get("detail")
        if message is None and isinstance(data.get("error"), str):
            message = data["error"]  # legacy {"error": "..."}; also OAuth {"error": "invalid_client"}
        if code is None and ("scimType" in data or ("detail" in data and "status" in data)):
            code = f"SCIM_{data.get('status')}"
        return code, str(message) if message is not None else reason
    match = _TEXT_ERROR.match(text)
    if match:
        return match.group(1), match.group(2)
    found = _HTML_TAG.findall(text)
    if found or text.lstrip().startswith("<"):
        inner = found[-1][1] if found else re.sub(r"<[^>]+>", " ", text)
        return None, html.unescape(" ".join(inner.split())) or reason
    return None, text


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: integer seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def classify(
    status: int, error_code: str | int | None, message: str, method: str = "", endpoint: str = ""
) -> type[DatabricksApiError]:
    """Pick the exception class: an endpoint override, else error_code, else the HTTP status.

    ``endpoint`` is the request path (``/api/2.2/jobs/runs/get``); without it no override applies.
    """
    for override in OVERRIDES:
        if override.matches(method, endpoint, status, error_code, message):
            return override.cls
    if isinstance(error_code, str):
        cls = ERROR_CODE_MAPPING.get(error_code.upper())
        if cls is not None:
            return cls
    if status in STATUS_CODE_MAPPING:
        return STATUS_CODE_MAPPING[status]
    if status >= 500:
        return DatabricksServerError
    return DatabricksApiError


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret in ``text`` by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def to_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str | None,
    method: str,
    endpoint: str,
    *,
    secrets: Iterable[str] = (),
    source: str = "",
) -> DatabricksApiError:
    """Build the typed error for one HTTP answer; headers are read (Retry-After) but never quoted."""
    error_code, message = parse_error_body(status, body)
    cls = classify(status, error_code, message, method, endpoint)
    message = scrub(" ".join(message.split()), list(secrets))
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    if cls is DatabricksUnauthenticatedError and source:
        message += f" [{source}: check the token or OAuth client id/secret and that it has not expired]"
    elif cls is DatabricksPermissionDeniedError and source:
        message += f" [{source}: the identity is valid but lacks permission on this object]"
    retry_after = parse_retry_after(_header(headers, "Retry-After"))
    return cls(
        message,
        status_code=status,
        error_code=error_code,
        method=method,
        endpoint=endpoint,
        retry_after=retry_after,
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    for key, val in headers.items():
        if key.lower() == lower:
            return val
    return None


def parse_json(body: bytes) -> Any:
    """Parse a success body; an empty body is ``{}``."""
    if not body or not body.strip():
        return {}
    return json.loads(body)
