"""Statement Execution API 2.0: statements through PENDING → RUNNING → SUCCEEDED / FAILED / CANCELED.

A statement waits PENDING while its warehouse starts (a statement starts a stopped warehouse),
then runs in a worker thread (`SqlEngine`, DuckDB over Delta), never on the event loop. Results
are kept in memory, cut into chunks of at most `chunk_bytes` (see `sql_results`), and dropped
after `RESULT_TTL_SECONDS` of simulated time, when the statement turns CLOSED. Statements are not
persisted: after a restart they are unknown (404), as after Databricks' retention.

Only the user who ran a statement (or a workspace admin) may read it: its result, and the
EXTERNAL_LINKS that grant its chunks, are minted for no one else.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from airflow_dbx_provider.emulator.errors import EmulatorError, invalid_parameter
from airflow_dbx_provider.emulator.services.sql_catalog import SqlError
from airflow_dbx_provider.emulator.services.sql_context import StatementContext
from airflow_dbx_provider.emulator.services.sql_engine import SqlEngine
from airflow_dbx_provider.emulator.services.sql_results import (
    LINK_PREFIX,
    LINK_TTL_SECONDS,
    MEDIA_TYPES,
    LinkError,
    LinkRegistry,
    ResultSet,
    build_result,
    external_link,
    inline_data,
    manifest,
)

if TYPE_CHECKING:
    import duckdb

    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.services.sql_warehouses import SqlWarehousesService

TERMINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELED", "CLOSED")
CHUNK_BYTES = 4 * 1024 * 1024
RESULT_TTL_SECONDS = 3600.0
FORMATS = ("JSON_ARRAY", "ARROW_STREAM", "CSV")
DISPOSITIONS = ("INLINE", "EXTERNAL_LINKS")


def statement_not_found(statement_id: str) -> EmulatorError:
    return EmulatorError("NOT_FOUND", f"Statement {statement_id} not found.", 404)


@dataclass
class Reader:
    """Who asks: a statement is readable by the user who ran it and by workspace admins."""

    name: str
    is_admin: bool = False


@dataclass
class Statement:
    statement_id: str
    warehouse_id: str
    sql: str
    ctx: StatementContext
    format: str
    disposition: str
    row_limit: int | None
    byte_limit: int | None
    created_ms: int
    state: str = "PENDING"
    error: SqlError | None = None
    finished_ms: int | None = None
    future: Future[Any] | None = None
    connection: duckdb.DuckDBPyConnection | None = None
    result: ResultSet | None = None


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
        #: simulated seconds an external link stays valid; tests shorten it
        self.link_ttl_seconds = LINK_TTL_SECONDS
        #: send ``http_headers`` with each link (a key its fetch must echo), as some clouds do
        self.link_headers = False
        self.links = LinkRegistry()
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
            raise invalid_parameter(
                f"Invalid disposition {disposition!r}: expected one of {', '.join(DISPOSITIONS)}"
            )
        if row_limit is not None and row_limit < 0 or byte_limit is not None and byte_limit < 0:
            raise invalid_parameter("row_limit and byte_limit must not be negative.")
        serverless = bool(self._warehouses.get(warehouse_id).get("enable_serverless_compute"))
        # Documented: INLINE is JSON_ARRAY only. Serverless warehouses also take ARROW_STREAM
        # INLINE (answered as `attachment`); CSV always needs EXTERNAL_LINKS.
        if (
            disposition == "INLINE"
            and format != "JSON_ARRAY"
            and not (serverless and format == "ARROW_STREAM")
        ):
            raise invalid_parameter(
                "The format field must be JSON_ARRAY when the disposition field is INLINE."
            )
        self._warehouses.ensure_running(warehouse_id)
        statement = Statement(
            statement_id=str(uuid.uuid4()),
            warehouse_id=warehouse_id,
            sql=sql,
            ctx=ctx,
            format=format,
            disposition=disposition,
            row_limit=row_limit,
            byte_limit=byte_limit,
            created_ms=self._clock.now_ms(),
        )
        with self._lock:
            self._statements[statement.statement_id] = statement
            self._advance(statement)
        return statement.statement_id

    def get(self, statement_id: str, reader: Reader | None = None, base_url: str = "") -> dict[str, Any]:
        """The StatementResponse: status, and for SUCCEEDED the manifest and the first chunk."""
        with self._lock:
            statement = self._load(statement_id, reader)
            body: dict[str, Any] = {"statement_id": statement_id, "status": self._status(statement)}
            result = statement.result
            if statement.state == "SUCCEEDED" and result is not None:
                body["manifest"] = manifest(result)
                if result.chunks:
                    body["result"] = self._data(statement, result, 0, base_url)
            return body

    def state(self, statement_id: str) -> str:
        with self._lock:
            return self._load(statement_id).state

    def chunk(
        self, statement_id: str, index: int, reader: Reader | None = None, base_url: str = ""
    ) -> dict[str, Any]:
        """One chunk's ResultData; for EXTERNAL_LINKS a freshly minted link (a new expiry)."""
        with self._lock:
            statement = self._load(statement_id, reader)
            if statement.state == "CLOSED":
                raise EmulatorError(
                    "BAD_REQUEST", f"Statement {statement_id} is closed: its result expired.", 400
                )
            result = statement.result
            if statement.state != "SUCCEEDED" or result is None:
                raise EmulatorError(
                    "BAD_REQUEST",
                    f"Statement {statement_id} has no result: its state is {statement.state}.",
                    400,
                )
            if not 0 <= index < len(result.chunks):
                raise invalid_parameter(
                    f"Invalid chunk index {index}: the result has {len(result.chunks)} chunks."
                )
            return self._data(statement, result, index, base_url)

    def fetch_link(self, token: str, headers: dict[str, str]) -> tuple[bytes, str]:
        """The bytes behind an external link, and their media type; raises ``LinkError``."""
        link = self.links.resolve(token, self._clock.now_ms(), headers)
        with self._lock:
            statement = self._statements.get(link.statement_id)
            if statement is not None:
                self._advance(statement)
            result = statement.result if statement is not None else None
            if result is None or statement is None or statement.state != "SUCCEEDED":
                raise LinkError(404, "NoSuchKey", "The specified key does not exist.")
            return result.payloads[link.chunk_index], MEDIA_TYPES[result.format]

    def cancel(self, statement_id: str, reader: Reader | None = None) -> None:
        """PENDING and RUNNING statements end CANCELED; a finished one is left as it is."""
        with self._lock:
            statement = self._load(statement_id, reader)
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
            self.links.forget()

    def close(self) -> None:
        self.after_reset()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---- lifecycle --------------------------------------------------------------------------------
    def _load(self, statement_id: str, reader: Reader | None = None) -> Statement:
        statement = self._statements.get(statement_id)
        if statement is None:
            raise statement_not_found(statement_id)
        if reader is not None and not reader.is_admin and reader.name != statement.ctx.user:
            raise EmulatorError(
                "PERMISSION_DENIED",
                f"User {reader.name} cannot access statement {statement_id}: it was run by another user.",
                403,
            )
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
                statement.result = None  # its links now lead to NoSuchKey, as a deleted object's

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
        result: ResultSet | None = None
        try:
            table = self._engine.execute(statement.sql, statement.ctx)
            result = self._encode(statement, table)
            error = None
        except SqlError as err:
            error = err
        except Exception as err:  # an engine bug must still end the statement, with a reason
            error = SqlError("INTERNAL_ERROR", f"{type(err).__name__}: {err}", "XX000", "INTERNAL_ERROR")
        with self._lock:
            if statement.state != "RUNNING":
                return
            if error is not None:
                statement.error = error
                self._finish(statement, "FAILED")
                return
            statement.result = result
            self._finish(statement, "SUCCEEDED")

    def _encode(self, statement: Statement, table: pa.Table) -> ResultSet:
        return build_result(
            table,
            format=statement.format,
            disposition=statement.disposition,
            row_limit=statement.row_limit,
            byte_limit=statement.byte_limit,
            chunk_bytes=self.chunk_bytes,
        )

    # ---- wire shapes ---------------------------------------------------------------------------
    @staticmethod
    def _status(statement: Statement) -> dict[str, Any]:
        status: dict[str, Any] = {"state": statement.state}
        if statement.error is not None:
            status["error"] = {"error_code": statement.error.error_code, "message": statement.error.message}
            status["sql_state"] = statement.error.sql_state
        return status

    def _data(self, statement: Statement, result: ResultSet, index: int, base_url: str) -> dict[str, Any]:
        if not result.external:
            return inline_data(statement.statement_id, result, index)
        now = self._clock.now_ms()
        ttl_ms = max(1, int(self._clock.real_seconds(self.link_ttl_seconds) * 1000))
        token = self.links.mint(statement.statement_id, index, now, ttl_ms, headers=self.link_headers)
        url = f"{base_url.rstrip('/')}{LINK_PREFIX}{token}"
        return external_link(
            statement.statement_id, result, index, url, now + ttl_ms, self.links.headers_of(token)
        )
