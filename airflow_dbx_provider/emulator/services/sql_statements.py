"""Statement Execution API 2.0: statements through PENDING → RUNNING → SUCCEEDED / FAILED / CANCELED.

A statement waits PENDING while its warehouse starts (a statement starts a stopped warehouse),
then runs in a worker thread (`SqlEngine`, DuckDB over Delta), never on the event loop. Results
are kept in memory, cut into chunks of at most `chunk_bytes` JSON bytes, and dropped after
`RESULT_TTL_SECONDS` of simulated time, when the statement turns CLOSED. Statements are not
persisted: after a restart they are unknown (404), as after Databricks' retention.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from airflow_dbx_provider.emulator.errors import EmulatorError, invalid_parameter
from airflow_dbx_provider.emulator.services.sql_catalog import SqlError
from airflow_dbx_provider.emulator.services.sql_engine import SqlEngine, StatementContext

if TYPE_CHECKING:
    import duckdb

    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.services.sql_warehouses import SqlWarehousesService

TERMINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELED", "CLOSED")
INLINE_LIMIT_BYTES = 25 * 1024 * 1024  # INLINE results above 25 MiB fail
CHUNK_BYTES = 4 * 1024 * 1024
RESULT_TTL_SECONDS = 3600.0
FORMATS = ("JSON_ARRAY", "ARROW_STREAM", "CSV")
DISPOSITIONS = ("INLINE", "EXTERNAL_LINKS")


def statement_not_found(statement_id: str) -> EmulatorError:
    return EmulatorError("NOT_FOUND", f"Statement {statement_id} not found.", 404)


@dataclass
class Statement:
    statement_id: str
    warehouse_id: str
    sql: str
    ctx: StatementContext
    format: str
    row_limit: int | None
    byte_limit: int | None
    created_ms: int
    state: str = "PENDING"
    error: SqlError | None = None
    finished_ms: int | None = None
    future: Future[Any] | None = None
    connection: duckdb.DuckDBPyConnection | None = None
    table: pa.Table | None = None
    rows: list[list[str | None]] = field(default_factory=list)
    chunks: list[tuple[int, int, int]] = field(default_factory=list)  # (offset, count, bytes)
    truncated: bool = False


class SqlStatementsService:
    def __init__(
        self,
        clock: Clock,
        warehouses: SqlWarehousesService,
        engine: SqlEngine,
        *,
        workers: int = 2,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self._clock = clock
        self._warehouses = warehouses
        self._engine = engine
        self._workers = workers
        self.chunk_bytes = chunk_bytes
        self._lock = threading.RLock()
        self._statements: dict[str, Statement] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dbx-sql")

    # ---- API operations ----------------------------------------------------------------------
    def execute(
        self,
        warehouse_id: str,
        sql: str,
        ctx: StatementContext,
        *,
        format: str = "JSON_ARRAY",
        disposition: str = "INLINE",
        row_limit: int | None = None,
        byte_limit: int | None = None,
    ) -> str:
        if format not in FORMATS:
            raise invalid_parameter(f"Invalid format {format!r}: expected one of {', '.join(FORMATS)}")
        if disposition not in DISPOSITIONS:
            raise invalid_parameter(f"Invalid disposition {disposition!r}")
        if disposition == "EXTERNAL_LINKS":
            raise EmulatorError("NOT_IMPLEMENTED", "The emulator serves results INLINE only.", 501)
        if format != "JSON_ARRAY":
            raise invalid_parameter(f"The {format} format requires disposition EXTERNAL_LINKS.")
        if row_limit is not None and row_limit < 0 or byte_limit is not None and byte_limit < 0:
            raise invalid_parameter("row_limit and byte_limit must not be negative.")
        self._warehouses.ensure_running(warehouse_id)
        statement = Statement(
            statement_id=str(uuid.uuid4()),
            warehouse_id=warehouse_id,
            sql=sql,
            ctx=ctx,
            format=format,
            row_limit=row_limit,
            byte_limit=byte_limit,
            created_ms=self._clock.now_ms(),
        )
        with self._lock:
            self._statements[statement.statement_id] = statement
            self._advance(statement)
        return statement.statement_id

    def get(self, statement_id: str) -> dict[str, Any]:
        """The StatementResponse: status, and for SUCCEEDED the manifest and the first chunk."""
        with self._lock:
            statement = self._load(statement_id)
            body: dict[str, Any] = {"statement_id": statement_id, "status": self._status(statement)}
            if statement.state == "SUCCEEDED":
                body["manifest"] = self._manifest(statement)
                if statement.chunks:
                    body["result"] = self._chunk(statement, 0)
            return body

    def state(self, statement_id: str) -> str:
        with self._lock:
            return self._load(statement_id).state

    def chunk(self, statement_id: str, index: int) -> dict[str, Any]:
        with self._lock:
            statement = self._load(statement_id)
            if statement.state == "CLOSED":
                raise EmulatorError(
                    "BAD_REQUEST", f"Statement {statement_id} is closed: its result expired.", 400
                )
            if statement.state != "SUCCEEDED":
                raise EmulatorError(
                    "BAD_REQUEST",
                    f"Statement {statement_id} has no result: its state is {statement.state}.",
                    400,
                )
            if not 0 <= index < len(statement.chunks):
                raise invalid_parameter(
                    f"Invalid chunk index {index}: the result has {len(statement.chunks)} chunks."
                )
            return self._chunk(statement, index)

    def cancel(self, statement_id: str) -> None:
        """PENDING and RUNNING statements end CANCELED; a finished one is left as it is."""
        with self._lock:
            statement = self._load(statement_id)
            if statement.state in TERMINAL_STATES:
                return
            self._finish(statement, "CANCELED")
            if statement.connection is not None:
                statement.connection.interrupt()
            if statement.future is not None:
                statement.future.cancel()

    # ---- engine thread ---------------------------------------------------------------------------
    def tick(self) -> None:
        with self._lock:
            for statement in list(self._statements.values()):
                self._advance(statement)

    def after_reset(self) -> None:
        with self._lock:
            for statement in list(self._statements.values()):
                if statement.state not in TERMINAL_STATES:
                    self.cancel(statement.statement_id)
            self._statements.clear()

    def close(self) -> None:
        self.after_reset()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---- lifecycle --------------------------------------------------------------------------------
    def _load(self, statement_id: str) -> Statement:
        statement = self._statements.get(statement_id)
        if statement is None:
            raise statement_not_found(statement_id)
        self._advance(statement)
        return statement

    def _advance(self, statement: Statement) -> None:
        if statement.state == "PENDING":
            warehouse_state = self._warehouses.state_of(statement.warehouse_id)
            if warehouse_state is None:
                statement.error = SqlError(
                    "WAREHOUSE_NOT_FOUND", f"Warehouse {statement.warehouse_id} was deleted.", "08003"
                )
                self._finish(statement, "FAILED")
            elif warehouse_state == "RUNNING":
                statement.state = "RUNNING"
                statement.future = self._pool.submit(self._run, statement)
        elif statement.state == "SUCCEEDED" and statement.finished_ms is not None:
            ttl_ms = self._clock.real_seconds(RESULT_TTL_SECONDS) * 1000
            if self._clock.now_ms() - statement.finished_ms >= ttl_ms:
                statement.state = "CLOSED"
                statement.table, statement.rows, statement.chunks = None, [], []

    def _finish(self, statement: Statement, state: str) -> None:
        statement.state = state
        statement.finished_ms = self._clock.now_ms()
        statement.connection = None

    def _run(self, statement: Statement) -> None:
        """In a worker thread: execute, then publish the outcome unless canceled meanwhile."""

        def on_connect(con: duckdb.DuckDBPyConnection) -> None:
            with self._lock:
                statement.connection = con

        statement.ctx.on_connect = on_connect
        try:
            table = self._engine.execute(statement.sql, statement.ctx)
            rows, chunks, truncated = self._cut(statement, table)
            error = None
        except SqlError as err:
            error, table, rows, chunks, truncated = err, None, [], [], False
        except Exception as err:  # an engine bug must still end the statement, with a reason
            error = SqlError("INTERNAL_ERROR", f"{type(err).__name__}: {err}", "XX000", "INTERNAL_ERROR")
            table, rows, chunks, truncated = None, [], [], False
        with self._lock:
            if statement.state != "RUNNING":
                return
            if error is not None:
                statement.error = error
                self._finish(statement, "FAILED")
                return
            statement.table, statement.rows, statement.chunks = table, rows, chunks
            statement.truncated = truncated
            self._finish(statement, "SUCCEEDED")

    def _cut(
        self, statement: Statement, table: pa.Table
    ) -> tuple[list[list[str | None]], list[tuple[int, int, int]], bool]:
        """JSON rows within row_limit / byte_limit, in chunks; raises SqlError above the INLINE limit."""
        truncated = False
        if statement.row_limit is not None and table.num_rows > statement.row_limit:
            table, truncated = table.slice(0, statement.row_limit), True
        rows = json_rows(table)
        sizes = [len(json.dumps(row, separators=(",", ":"))) + 1 for row in rows]
        if statement.byte_limit is not None:
            total = 0
            for index, size in enumerate(sizes):
                total += size
                if total > statement.byte_limit:
                    rows, sizes, truncated = rows[:index], sizes[:index], True
                    break
        if sum(sizes) > INLINE_LIMIT_BYTES:
            raise SqlError(
                "INLINE_BYTE_LIMIT_EXCEEDED",
                f"Statements executed with disposition=INLINE can have a result size of at most "
                f"{INLINE_LIMIT_BYTES} bytes. Use disposition EXTERNAL_LINKS or a byte_limit.",
                "54000",
            )
        chunks: list[tuple[int, int, int]] = []
        start, size = 0, 0
        for index, row_size in enumerate(sizes):
            if index > start and size + row_size > self.chunk_bytes:
                chunks.append((start, index - start, size))
                start, size = index, 0
            size += row_size
        if rows:
            chunks.append((start, len(rows) - start, size))
        statement.table = table
        return rows, chunks, truncated

    # ---- wire shapes ---------------------------------------------------------------------------
    @staticmethod
    def _status(statement: Statement) -> dict[str, Any]:
        status: dict[str, Any] = {"state": statement.state}
        if statement.error is not None:
            status["error"] = {"error_code": statement.error.error_code, "message": statement.error.message}
            status["sql_state"] = statement.error.sql_state
        return status

    @staticmethod
    def _manifest(statement: Statement) -> dict[str, Any]:
        schema = statement.table.schema if statement.table is not None else pa.schema([])
        return {
            "format": statement.format,
            "schema": {
                "column_count": len(schema),
                "columns": [column_info(f, i) for i, f in enumerate(schema)],
            },
            "total_chunk_count": len(statement.chunks),
            "chunks": [
                {"chunk_index": i, "row_offset": offset, "row_count": count}
                for i, (offset, count, _) in enumerate(statement.chunks)
            ],
            "total_row_count": len(statement.rows),
            "truncated": statement.truncated,
        }

    @staticmethod
    def _chunk(statement: Statement, index: int) -> dict[str, Any]:
        offset, count, _ = statement.chunks[index]
        data: dict[str, Any] = {
            "chunk_index": index,
            "row_offset": offset,
            "row_count": count,
            "data_array": statement.rows[offset : offset + count],
        }
        if index + 1 < len(statement.chunks):
            data["next_chunk_index"] = index + 1
            data["next_chunk_internal_link"] = (
                f"/api/2.0/sql/statements/{statement.statement_id}/result/chunks/{index + 1}"
            )
        return data


# ---- types and values on the wire ----------------------------------------------------------------
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


def json_rows(table: pa.Table) -> list[list[str | None]]:
    columns = [[json_value(v) for v in column.to_pylist()] for column in table.columns]
    return [list(row) for row in zip(*columns, strict=True)] if columns else []
