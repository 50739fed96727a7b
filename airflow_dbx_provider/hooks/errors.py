"""Map an HTTP error answer to a typed exception: one function shared by the sync and async hooks.

Body parsing copes with empty bodies, JSON (standard, legacy ``{"error": ...}``, SCIM, numeric
``error_code``), ``CODE: message`` text and HTML. Classification uses error_code first, then status.
"""

from __future__ import annotations

import email.utils
import html
import json
import re
import time
from collections.abc import Iterable, Mapping
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

# Databricks answers a missing job/run/cluster with 400 INVALID_PARAMETER_VALUE "... does not exist".
_DOES_NOT_EXIST = re.compile(r"does not exist|doesn't exist", re.IGNORECASE)
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


def classify(status: int, error_code: str | int | None, message: str) -> type[DatabricksApiError]:
    """Pick the exception class: error_code first, then the HTTP status."""
    if isinstance(error_code, str):
        cls = ERROR_CODE_MAPPING.get(error_code.upper())
        if cls is DatabricksInvalidParameterError and _DOES_NOT_EXIST.search(message):
            return DatabricksNotFoundError
        if cls is not None:
            return cls
    if status == 403 and error_code in (403, "403") and "invalid access token" in message.lower():
        return DatabricksUnauthenticatedError
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
    cls = classify(status, error_code, message)
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
