"""Reading statement results: EXTERNAL_LINKS downloads and the JSON_ARRAY / CSV / ARROW_STREAM decoders.

An external link is a presigned cloud-storage URL: it carries its own short-lived credential, so
it is fetched with *no* Authorization header (storage refuses a second credential, and our token
must never reach another host), with the ``http_headers`` Databricks lists beside it, and never
written to a log or an error (the URL and those headers are scrubbed from messages). Downloads use
the hook's session, TLS settings and retry policy, but not its rate limiter: the storage service
is not the workspace API. pyarrow is imported only when an ARROW_STREAM result is decoded.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_dbx_provider.exceptions import DatabricksConfigError, DbxError
from airflow_dbx_provider.hooks.api import ApiRequest
from airflow_dbx_provider.hooks.core import ClientCore, user_agent
from airflow_dbx_provider.hooks.errors import to_error
from airflow_dbx_provider.hooks.exchange import Flow, Response, Send

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_dbx_provider.hooks.settings import DbxSettings

#: What logs and errors call a link download (never the URL itself).
LINK_ENDPOINT = "sql/statements external link"
FORMATS = ("JSON_ARRAY", "ARROW_STREAM", "CSV")
DISPOSITIONS = ("INLINE", "EXTERNAL_LINKS")
_XML_FIELD = re.compile(r"<(Code|Message)>(.*?)</\1>", re.DOTALL)


def pyarrow_module(setting: str) -> Any:
    """``pyarrow``, or a one-line error naming the setting that needs it."""
    try:
        import pyarrow as pa
        import pyarrow.ipc
    except ImportError:
        raise DatabricksConfigError(
            f"{setting} needs pyarrow to decode Arrow results: pip install pyarrow (or use JSON_ARRAY)"
        ) from None
    return pa


def check_result_options(format: str | None, disposition: str | None, *, prefix: str = "") -> None:
    """Refuse what Databricks always refuses, before any call: unknown values, CSV INLINE.

    ARROW_STREAM INLINE is left to the warehouse (serverless ones answer it, others refuse it).
    """
    if format is not None and format not in FORMATS:
        raise DatabricksConfigError(f"{prefix}format {format!r} is not one of {', '.join(FORMATS)}")
    if disposition is not None and disposition not in DISPOSITIONS:
        raise DatabricksConfigError(
            f"{prefix}disposition {disposition!r} is not one of {', '.join(DISPOSITIONS)}"
        )
    if format == "CSV" and (disposition or "INLINE") == "INLINE":
        raise DatabricksConfigError(f"{prefix}format CSV needs {prefix}disposition EXTERNAL_LINKS")
    if format == "ARROW_STREAM":
        pyarrow_module(f"{prefix}format=ARROW_STREAM")


class LinkDownload(ClientCore):
    """One external link's GET, run through the hook's retry loop with no credential at all."""

    def __init__(self, settings: DbxSettings, transport: str, link: Mapping[str, Any]) -> None:
        self._init_core(None, None, {})
        self._settings = settings  # only for the retry policy; no Auth: nothing to authorize
        self._transport_name = transport
        self.url = str(link["external_link"])
        self.http_headers = {str(k): str(v) for k, v in (link.get("http_headers") or {}).items()}

    def request(self) -> ApiRequest:
        return ApiRequest("GET", self.url, LINK_ENDPOINT, idempotent=True, authenticated=False)

    def _attempt_flow(self, req: ApiRequest) -> Flow[Any]:
        headers = {"User-Agent": user_agent(self._transport_name), **self.http_headers}
        response: Response = yield Send(req, headers)
        if 200 <= response.status < 300:
            return response.body
        raise to_error(
            response.status,
            response.headers,
            _storage_error_json(response.status, response.body),
            "GET",
            LINK_ENDPOINT,
            secrets=self._secrets(),
        )

    def _secrets(self) -> tuple[str, ...]:
        """The URL in every form a transport error may quote it, and the header values."""
        parts = urlsplit(self.url)
        pieces = [self.url, parts.path, parts.query, parts.path.rsplit("/", 1)[-1]]
        return tuple(p for p in [*pieces, *self.http_headers.values()] if len(p) >= 8)


def _storage_error_json(status: int, body: bytes) -> bytes:
    """S3/GCS answer XML ``<Error><Code/><Message/>``, Azure JSON-ish: keep code and message."""
    text = body.decode("utf-8", "replace")
    fields = dict(_XML_FIELD.findall(text))
    if not fields:
        return body
    message = fields.get("Message") or f"HTTP {status}"
    return json.dumps({"error_code": fields.get("Code"), "message": f"external link: {message}"}).encode()


def is_stale_link(exc: BaseException) -> bool:
    """An expired or revoked link (403/404 from storage): ask Databricks for a fresh one."""
    return isinstance(exc, DbxError) and exc.status_code in (403, 404)


# ---- decoders -------------------------------------------------------------------------------------
def arrow_table(data: bytes, setting: str = "format=ARROW_STREAM") -> pa.Table:
    pa = pyarrow_module(setting)
    return pa.ipc.open_stream(data).read_all()


def arrow_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows of Python values (int, Decimal, date, datetime...), column by column for speed."""
    columns = [column.to_pylist() for column in table.columns]
    return list(zip(*columns, strict=True)) if columns else []


def json_chunk_rows(data: bytes) -> list[list[str | None]]:
    return list(json.loads(data))


def csv_chunk_rows(data: bytes, *, first: bool) -> list[list[str | None]]:
    """CSV rows as JSON_ARRAY strings; ``null`` is NULL (as Databricks writes it); the first chunk's header is dropped."""
    rows: list[list[str | None]] = [
        [None if value == "null" else value for value in row]
        for row in csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    ]
    return rows[1:] if first else rows
