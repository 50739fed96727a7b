"""Wire values: coercion of loosely typed JSON/query values, base64 fields and page tokens.

A leaf module (imports only `errors`), so both handlers and services can use it without the
services ever depending on HTTP routing. Clients disagree on wire types: Airflow stringifies
numbers and sends "True", so every integer and boolean is read through `to_int`/`to_bool`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from airflow_dbx_provider.emulator.errors import invalid_parameter

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def to_int(value: Any, name: str, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> int:
    """An integer field, within int64 (the wire type of every Databricks integer) or the bounds given."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and len(value) <= 40:
        try:
            number = int(value.strip())
        except ValueError:
            number = None
    if number is None:
        raise invalid_parameter(f"Invalid value for field {name}: expected an integer, got {_shown(value)}")
    if not minimum <= number <= maximum:
        raise invalid_parameter(
            f"Invalid value for field {name}: {_shown(number)} is out of range [{minimum}, {maximum}]."
        )
    return number


def to_bool(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def decode_base64(value: Any, name: str) -> bytes:
    """A base64 string field (`contents`, `bytes_value`); None is empty."""
    if value is None:
        return b""
    if not isinstance(value, str):
        raise invalid_parameter(f"Invalid value for field {name}: expected a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_parameter(f"Invalid value for field {name}: not valid base64") from None


# -- page tokens: opaque to clients ----------------------------------------------------------
def encode_token(data: dict[str, Any]) -> str:
    """A JSON cursor (`{"after": id}`, `{"o": offset}`) as unpadded urlsafe base64."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    """A cursor made by `encode_token`: a flat object of small non-negative integers."""
    try:
        if len(token) > 200:
            raise ValueError(token)
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(data, dict) and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= INT64_MAX for v in data.values()
        ):
            return data
    except (ValueError, UnicodeError, RecursionError):
        pass
    raise invalid_parameter(f"Invalid page token: {_shown(token)}")


def encode_offset_token(offset: int) -> str:
    """clusters/list 2.1 tokens: `offset:<n>` in urlsafe base64."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_offset_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        if len(token) > 200:
            raise ValueError(token)
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "offset" and value.isdigit() and int(value) <= INT32_MAX:
            return int(value)
    except (ValueError, UnicodeError):
        pass
    raise invalid_parameter(f"Invalid page token: {_shown(token)}")
