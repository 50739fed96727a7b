"""SQL warehouses and Statement Execution API 2.0: one method per REST call, none polls.

``execute_statement`` is not retried on 5xx (the API has no idempotency token, so a resent
POST could run an INSERT twice); reads, cancel and warehouse start/stop are. Triggers need only
``get_statement``; :func:`aget_statement` is its twin for ``DatabricksAsyncHook``.

Results are read chunk by chunk in any disposition and format: INLINE ``data_array`` (or the
``attachment`` serverless warehouses send for ARROW_STREAM), and EXTERNAL_LINKS, downloaded
without our credentials (see :mod:`.sql_results`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.hooks.api import EP
from airflow_dbx_provider.hooks.exchange import Flow
from airflow_dbx_provider.hooks.jobs import _Caller
from airflow_dbx_provider.hooks.sql_results import (
    LinkDownload,
    arrow_rows,
    arrow_table,
    check_result_options,
    csv_chunk_rows,
    is_stale_link,
    json_chunk_rows,
)

if TYPE_CHECKING:
    from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook

#: Statement states after which nothing changes but CLOSED.
STATEMENT_TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "CLOSED"})


def statement_parameters(
    parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
) -> list[dict[str, Any]]:
    """Typed parameters ``[{name, value, type}]`` from a list of them or a plain ``{name: value}`` dict.

    Plain values get a type from their Python type (int → BIGINT, float → DOUBLE, bool → BOOLEAN,
    date → DATE, datetime → TIMESTAMP, else STRING); ``None`` is sent as a NULL (no value).
    """
    if not parameters:
        return []
    if isinstance(parameters, Mapping):
        return [typed_parameter(name, value) for name, value in parameters.items()]
    return [dict(p) for p in parameters]


def typed_parameter(name: str | None, value: Any) -> dict[str, Any]:
    import datetime as dt
    from decimal import Decimal

    param: dict[str, Any] = {"name": name} if name else {}
    if value is None:
        return {**param, "type": "STRING"}
    if isinstance(value, bool):
        return {**param, "value": "true" if value else "false", "type": "BOOLEAN"}
    if isinstance(value, int):
        return {**param, "value": str(value), "type": "BIGINT"}
    if isinstance(value, float):
        return {**param, "value": repr(value), "type": "DOUBLE"}
    if isinstance(value, Decimal):
        sign, digits, exponent = value.as_tuple()
        scale = max(0, -int(exponent))
        precision = max(len(digits), scale + 1)
        return {**param, "value": str(value), "type": f"DECIMAL({precision},{scale})"}
    if isinstance(value, dt.datetime):
        return {**param, "value": value.isoformat(), "type": "TIMESTAMP"}
    if isinstance(value, dt.date):
        return {**param, "value": value.isoformat(), "type": "DATE"}
    return {**param, "value": str(value), "type": "STRING"}


class SqlStatementsMixin(_Caller):
    def execute_statement(
        self,
        statement: str,
        warehouse_id: str,
        *,
        catalog: str | None = None,
        schema: str | None = None,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        wait_timeout: str | None = None,
        on_wait_timeout: str | None = None,
        disposition: str | None = None,
        format: str | None = None,
        row_limit: int | None = None,
        byte_limit: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """``POST sql/statements``: the StatementResponse (finished, or PENDING/RUNNING to poll).

        ``disposition`` INLINE (default) or EXTERNAL_LINKS; ``format`` JSON_ARRAY (default),
        ARROW_STREAM or CSV (those two need EXTERNAL_LINKS, ARROW_STREAM INLINE only on serverless).
        """
        check_result_options(format, disposition)
        return self.call(
            EP.SQL_STATEMENTS_EXECUTE,
            statement=statement,
            warehouse_id=warehouse_id,
            catalog=catalog,
            schema=schema,
            parameters=statement_parameters(parameters) or None,
            wait_timeout=wait_timeout,
            on_wait_timeout=on_wait_timeout,
            disposition=disposition,
            format=format,
            row_limit=row_limit,
            byte_limit=byte_limit,
            **extra,
        )

    def get_statement(self, statement_id: str, **extra: Any) -> dict[str, Any]:
        return self.call(EP.SQL_STATEMENTS_GET, statement_id=statement_id, **extra)

    def cancel_statement(self, statement_id: str, **extra: Any) -> dict[str, Any]:
        """Ask for cancellation; a finished statement is left as it is."""
        return self.call(EP.SQL_STATEMENTS_CANCEL, statement_id=statement_id, **extra)

    def get_statement_result_chunk(self, statement_id: str, chunk_index: int, **extra: Any) -> dict[str, Any]:
        """One ResultData chunk (``data_array``, ``next_chunk_index``...)."""
        return self.call(
            EP.SQL_STATEMENTS_RESULT_CHUNK, statement_id=statement_id, chunk_index=chunk_index, **extra
        )

    def iter_statement_chunks(self, response: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every ResultData of a SUCCEEDED StatementResponse: its first, then the next ones in turn."""
        chunk: Mapping[str, Any] | None = response.get("result") or None
        statement_id = str(response.get("statement_id"))
        while chunk:
            yield chunk
            links = chunk.get("external_links") or []
            next_index = links[-1].get("next_chunk_index") if links else chunk.get("next_chunk_index")
            chunk = None if next_index is None else self.get_statement_result_chunk(statement_id, next_index)

    def download_external_link(self, statement_id: str, link: Mapping[str, Any]) -> bytes:
        """One chunk's bytes from its presigned URL (no Authorization header, its ``http_headers``).

        An expired or revoked link (403/404) is replaced once by a fresh one from ``result/chunks``.
        """
        try:
            return self._download(link)
        except Exception as exc:
            if not is_stale_link(exc) or link.get("chunk_index") is None:
                raise
        fresh = self.get_statement_result_chunk(statement_id, int(link["chunk_index"]))
        return self._download((fresh.get("external_links") or [link])[0])

    def _download(self, link: Mapping[str, Any]) -> bytes:
        return bytes(self._run(self._download_flow(link)))

    def _download_flow(self, link: Mapping[str, Any]) -> Flow[Any]:
        """Runs after ``_run`` resolved the settings the download borrows (TLS, retry deadline)."""
        fetch = LinkDownload(self._resolved(), self._transport_name, link)
        return (yield from fetch._request_flow(fetch.request()))

    def iter_statement_rows(self, response: Mapping[str, Any]) -> Iterator[Sequence[Any]]:
        """Every row of a SUCCEEDED StatementResponse, in any disposition and format.

        JSON_ARRAY and CSV rows hold Databricks' strings (``None`` for NULL); ARROW_STREAM rows
        hold Python values (int, Decimal, date...), decoded by pyarrow.
        """
        fmt = str((response.get("manifest") or {}).get("format") or "JSON_ARRAY")
        statement_id = str(response.get("statement_id"))
        for chunk in self.iter_statement_chunks(response):
            if "data_array" in chunk:
                yield from chunk["data_array"] or []
            elif "attachment" in chunk:
                yield from arrow_rows(arrow_table(base64.b64decode(chunk["attachment"])))
            for link in chunk.get("external_links") or []:
                data = self.download_external_link(statement_id, link)
                if fmt == "ARROW_STREAM":
                    yield from arrow_rows(arrow_table(data))
                elif fmt == "CSV":
                    yield from csv_chunk_rows(data, first=link.get("chunk_index") == 0)
                else:
                    yield from json_chunk_rows(data)

    def iter_statement_arrow(self, response: Mapping[str, Any]) -> Iterator[Any]:
        """Each chunk of an ARROW_STREAM result as a ``pyarrow.Table`` (INLINE or EXTERNAL_LINKS)."""
        statement_id = str(response.get("statement_id"))
        for chunk in self.iter_statement_chunks(response):
            if "attachment" in chunk:
                yield arrow_table(base64.b64decode(chunk["attachment"]))
            for link in chunk.get("external_links") or []:
                yield arrow_table(self.download_external_link(statement_id, link))


class WarehousesMixin(_Caller):
    def create_warehouse(self, spec: Mapping[str, Any], **extra: Any) -> str:
        """Create a SQL warehouse (returns while STARTING); its ``id``. Not retried on 5xx."""
        return str(self.call(EP.SQL_WAREHOUSES_CREATE, **{**spec, **extra})["id"])

    def get_warehouse(self, warehouse_id: str, **extra: Any) -> dict[str, Any]:
        return self.call(EP.SQL_WAREHOUSES_GET, id=warehouse_id, **extra)

    def list_warehouses(self, **extra: Any) -> list[dict[str, Any]]:
        return list(self.call(EP.SQL_WAREHOUSES_LIST, **extra).get("warehouses") or [])

    def edit_warehouse(self, warehouse_id: str, spec: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        return self.call(EP.SQL_WAREHOUSES_EDIT, id=warehouse_id, **{**spec, **extra})

    def start_warehouse(self, warehouse_id: str, **extra: Any) -> dict[str, Any]:
        return self.call(EP.SQL_WAREHOUSES_START, id=warehouse_id, **extra)

    def stop_warehouse(self, warehouse_id: str, **extra: Any) -> dict[str, Any]:
        return self.call(EP.SQL_WAREHOUSES_STOP, id=warehouse_id, **extra)

    def delete_warehouse(self, warehouse_id: str, **extra: Any) -> dict[str, Any]:
        return self.call(EP.SQL_WAREHOUSES_DELETE, id=warehouse_id, **extra)


class SqlMixin(SqlStatementsMixin, WarehousesMixin):
    """Everything SQL on ``DatabricksHook``."""


async def aget_statement(hook: DatabricksAsyncHook, statement_id: str) -> dict[str, Any]:
    """``get_statement`` for triggers, over the async hook's one request path."""
    return dict(await hook.call(EP.SQL_STATEMENTS_GET, statement_id=statement_id))


async def acancel_statement(hook: DatabricksAsyncHook, statement_id: str) -> None:
    """``cancel_statement`` for triggers (a trigger's ``on_kill`` and its timeout)."""
    await hook.call(EP.SQL_STATEMENTS_CANCEL, statement_id=statement_id)
