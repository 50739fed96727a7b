"""Statement results on the wire: formats, chunking, and the presigned-style links of EXTERNAL_LINKS.

Databricks serves JSON_ARRAY INLINE (``data_array``) and every format (JSON_ARRAY, ARROW_STREAM,
CSV) as EXTERNAL_LINKS: short-lived cloud-storage URLs that carry their own credential and must be
fetched *without* the workspace's Authorization header. Some serverless warehouses also accept
ARROW_STREAM INLINE and answer with ``attachment`` (base64 Arrow IPC); others refuse it.

The emulator's links point at itself (``/_emulator/sql-results/<token>``). A token is random
(256 bits), grants one chunk of one statement, is minted only for a caller the statement's ACL
allows, and expires like the real ones; unknown, expired or forged tokens get a storage-style
XML 403/404, so a client sees what S3 would tell it.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from airflow_dbx_provider.emulator.services.sql_catalog import SqlError

INLINE_LIMIT_BYTES = 25 * 1024 * 1024  # INLINE results above 25 MiB fail
LINK_TTL_SECONDS = 900.0  # "short-lived cloud-storage URL ... (<= 15 minutes)"
LINK_PREFIX = "/_emulator/sql-results/"
MEDIA_TYPES = {
    "JSON_ARRAY": "application/json",
    "ARROW_STREAM": "application/vnd.apache.arrow.stream",
    "CSV": "text/csv",
}


@dataclass
class Chunk:
    row_offset: int
    row_count: int
    byte_count: int


@dataclass
class ResultSet:
    """One statement's result, cut into chunks; INLINE JSON keeps rows, the rest encoded bytes."""

    format: str
    disposition: str
    schema: pa.Schema
    chunks: list[Chunk] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)
    total_rows: int = 0
    truncated: bool = False

    @property
    def external(self) -> bool:
        return self.disposition == "EXTERNAL_LINKS"


def build_result(
    table: pa.Table,
    *,
    format: str,
    disposition: str,
    row_limit: int | None,
    byte_limit: int | None,
    chunk_bytes: int,
) -> ResultSet:
    """Truncate to the limits, cut into chunks of about ``chunk_bytes``, encode what needs it.

    Sizes are JSON bytes for JSON_ARRAY and CSV and Arrow buffer bytes for ARROW_STREAM (the
    real API also counts ``byte_limit`` on "internal representations"). Raises ``SqlError`` for an
    INLINE result above 25 MiB, as Databricks fails the statement.
    """
    truncated = False
    if row_limit is not None and table.num_rows > row_limit:
        table, truncated = table.slice(0, row_limit), True
    result = ResultSet(format=format, disposition=disposition, schema=table.schema)
    rows: list[list[str | None]] = []
    if format == "ARROW_STREAM":
        per_row = max(1, -(-table.nbytes // table.num_rows)) if table.num_rows else 1
        if byte_limit is not None and table.num_rows * per_row > byte_limit:
            table, truncated = table.slice(0, byte_limit // per_row), True
        sizes = [per_row] * table.num_rows
    else:
        rows = json_rows(table)
        sizes = [len(json.dumps(row, separators=(",", ":"))) + 1 for row in rows]
        if byte_limit is not None:
            total = 0
            for index, size in enumerate(sizes):
                total += size
                if total > byte_limit:
                    rows, sizes, truncated = rows[:index], sizes[:index], True
                    break
    if disposition == "INLINE" and sum(sizes) > INLINE_LIMIT_BYTES:
        raise SqlError(
            "INLINE_BYTE_LIMIT_EXCEEDED",
            f"Statements executed with disposition=INLINE can have a result size of at most "
            f"{INLINE_LIMIT_BYTES} bytes. Use disposition EXTERNAL_LINKS or a byte_limit.",
            "54000",
        )
    result.truncated, result.total_rows = truncated, len(sizes)
    for offset, count in _cut(sizes, chunk_bytes):
        if format == "JSON_ARRAY" and disposition == "INLINE":
            payload = b""
        elif format == "ARROW_STREAM":
            payload = arrow_ipc(table.slice(offset, count))
        elif format == "CSV":
            header = [f.name for f in table.schema] if offset == 0 else None
            payload = csv_bytes(rows[offset : offset + count], header)
        else:
            payload = json.dumps(rows[offset : offset + count], separators=(",", ":")).encode()
        result.chunks.append(Chunk(offset, count, len(payload) or sum(sizes[offset : offset + count])))
        if payload:
            result.payloads.append(payload)
    if format == "JSON_ARRAY" and disposition == "INLINE":
        result.rows = rows
    return result


def _cut(sizes: list[int], chunk_bytes: int) -> list[tuple[int, int]]:
    """(offset, count) of consecutive chunks of at most ``chunk_bytes`` (at least one row each)."""
    chunks: list[tuple[int, int]] = []
    start, size = 0, 0
    for index, row_size in enumerate(sizes):
        if index > start and size + row_size > chunk_bytes:
            chunks.append((start, index - start))
            start, size = index, 0
        size += row_size
    if sizes:
        chunks.append((start, len(sizes) - start))
    return chunks


# ---- wire shapes ---------------------------------------------------------------------------------
def manifest(result: ResultSet) -> dict[str, Any]:
    body: dict[str, Any] = {
        "format": result.format,
        "schema": {
            "column_count": len(result.schema),
            "columns": [column_info(f, i) for i, f in enumerate(result.schema)],
        },
        "total_chunk_count": len(result.chunks),
        "chunks": [_chunk_info(result, i) for i in range(len(result.chunks))],
        "total_row_count": result.total_rows,
        "truncated": result.truncated,
    }
    if result.external:  # "not available when using INLINE disposition"
        body["total_byte_count"] = sum(c.byte_count for c in result.chunks)
    return body


def _chunk_info(result: ResultSet, index: int) -> dict[str, Any]:
    chunk = result.chunks[index]
    info: dict[str, Any] = {
        "chunk_index": index,
        "row_offset": chunk.row_offset,
        "row_count": chunk.row_count,
    }
    if result.external:
        info["byte_count"] = chunk.byte_count
    return info


def _next(statement_id: str, result: ResultSet, index: int) -> dict[str, Any]:
    if index + 1 >= len(result.chunks):
        return {}
    return {
        "next_chunk_index": index + 1,
        "next_chunk_internal_link": f"/api/2.0/sql/statements/{statement_id}/result/chunks/{index + 1}",
    }


def inline_data(statement_id: str, result: ResultSet, index: int) -> dict[str, Any]:
    """ResultData of an INLINE chunk: ``data_array`` (JSON_ARRAY) or ``attachment`` (ARROW_STREAM)."""
    chunk = result.chunks[index]
    data: dict[str, Any] = _chunk_info(result, index)
    if result.format == "JSON_ARRAY":
        data["data_array"] = result.rows[chunk.row_offset : chunk.row_offset + chunk.row_count]
    else:
        data["attachment"] = base64.b64encode(result.payloads[index]).decode("ascii")
    return {**data, **_next(statement_id, result, index)}


def external_link(
    statement_id: str, result: ResultSet, index: int, url: str, expires_ms: int, headers: dict[str, str]
) -> dict[str, Any]:
    """ResultData of an EXTERNAL_LINKS chunk: one entry in ``external_links``."""
    link: dict[str, Any] = {
        **_chunk_info(result, index),
        "external_link": url,
        "expiration": iso_ms(expires_ms),
        **_next(statement_id, result, index),
    }
    if headers:
        link["http_headers"] = dict(headers)
    return {"external_links": [link]}


def iso_ms(epoch_ms: int) -> str:
    """``2024-01-30T22:23:23.140Z``, as Databricks writes an expiration."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---- links ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Link:
    statement_id: str
    chunk_index: int
    expires_ms: int
    headers: dict[str, str]


class LinkError(Exception):
    """What the storage side answers for a link it will not serve (XML, as S3 does)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def xml(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{self.message}</Message></Error>"
        ).encode()


class LinkRegistry:
    """Tokens → (statement, chunk, expiry). Expired tokens are kept a while to say "expired"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._links: dict[str, Link] = {}

    def mint(self, statement_id: str, chunk_index: int, now_ms: int, ttl_ms: int, *, headers: bool) -> str:
        """A fresh token for one chunk; with ``headers``, also a key the fetch must send back."""
        token = secrets.token_urlsafe(32)
        required = {"x-emulator-result-key": secrets.token_urlsafe(16)} if headers else {}
        with self._lock:
            self._links = {t: v for t, v in self._links.items() if v.expires_ms + 2 * ttl_ms > now_ms}
            self._links[token] = Link(statement_id, chunk_index, now_ms + ttl_ms, required)
        return token

    def headers_of(self, token: str) -> dict[str, str]:
        with self._lock:
            link = self._links.get(token)
        return dict(link.headers) if link else {}

    def resolve(self, token: str, now_ms: int, sent_headers: dict[str, str]) -> Link:
        with self._lock:
            link = self._links.get(token)
        if link is None:
            raise LinkError(403, "AccessDenied", "Access Denied")
        if now_ms >= link.expires_ms:
            raise LinkError(403, "AccessDenied", "Request has expired")
        for name, value in link.headers.items():
            if not secrets.compare_digest(sent_headers.get(name, ""), value):
                raise LinkError(403, "AccessDenied", f"The {name} header is missing or wrong")
        return link

    def forget(self, statement_id: str | None = None) -> None:
        with self._lock:
            if statement_id is None:
                self._links.clear()
            else:
                self._links = {t: v for t, v in self._links.items() if v.statement_id != statement_id}


# ---- encodings -------------------------------------------------------------------------------------
def arrow_ipc(table: pa.Table) -> bytes:
    """One Arrow IPC stream (schema, then record batches)."""
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def csv_bytes(rows: list[list[str | None]], header: list[str] | None) -> bytes:
    """RFC 4180 CSV: JSON_ARRAY's string values, ``null`` for NULL, a header in the first chunk only."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows([["null" if v is None else v for v in row] for row in rows])
    return out.getvalue().encode()


def type_of(arrow_type: pa.DataType) -> tuple[str, str]:
    """(type_name, type_text) as Databricks names an Arrow type."""
    simple = [
        (pa.types.is_boolean, "BOOLEAN", "BOOLEAN"),
        (pa.types.is_int8, "BYTE", "TINYINT"),
        (pa.types.is_int16, "SHORT", "SMALLINT"),
        (pa.types.is_int32, "INT", "INT"),
        (pa.types.is_integer, "LONG", "BIGINT"),
        (pa.types.is_float32, "FLOAT", "FLOAT"),
        (pa.types.is_floating, "DOUBLE", "DOUBLE"),
        (pa.types.is_date, "DATE", "DATE"),
        (pa.types.is_timestamp, "TIMESTAMP", "TIMESTAMP"),
        (pa.types.is_binary, "BINARY", "BINARY"),
        (pa.types.is_large_binary, "BINARY", "BINARY"),
        (pa.types.is_null, "NULL", "VOID"),
    ]
    if pa.types.is_decimal(arrow_type):
        return "DECIMAL", f"DECIMAL({arrow_type.precision},{arrow_type.scale})"
    for check, name, text in simple:
        if check(arrow_type):
            if name == "TIMESTAMP" and getattr(arrow_type, "tz", None) is None:
                return name, "TIMESTAMP_NTZ"
            return name, text
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return "ARRAY", f"ARRAY<{type_of(arrow_type.value_type)[1]}>"
    if pa.types.is_map(arrow_type):
        return "MAP", f"MAP<{type_of(arrow_type.key_type)[1]},{type_of(arrow_type.item_type)[1]}>"
    if pa.types.is_struct(arrow_type):
        inner = ",".join(f"{f.name}:{type_of(f.type)[1]}" for f in arrow_type)
        return "STRUCT", f"STRUCT<{inner}>"
    return "STRING", "STRING"


def column_info(arrow_field: pa.Field, position: int) -> dict[str, Any]:
    type_name, type_text = type_of(arrow_field.type)
    info: dict[str, Any] = {
        "name": arrow_field.name,
        "position": position,
        "type_name": type_name,
        "type_text": type_text,
    }
    if type_name == "DECIMAL":
        info["type_precision"] = arrow_field.type.precision
        info["type_scale"] = arrow_field.type.scale
    return info


def json_value(value: Any) -> str | None:
    """JSON_ARRAY cells: every non-null value as a string, as Databricks sends them."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = value.isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")
    if isinstance(value, date | Decimal | int | float):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=json_value, separators=(",", ":"))
    return str(value)


def _python_values(column: pa.ChunkedArray) -> list[Any]:
    """A column's values; a MAP cell as an object (Arrow lists it as key/value pairs), as Databricks sends it."""
    values = column.to_pylist()
    if pa.types.is_map(column.type):
        return [None if v is None else dict(v) for v in values]
    return values


def json_rows(table: pa.Table) -> list[list[str | None]]:
    columns = [[json_value(v) for v in _python_values(column)] for column in table.columns]
    return [list(row) for row in zip(*columns, strict=True)] if columns else []
