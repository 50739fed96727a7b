"""``DatabricksSqlHook``: common-sql's ``DbApiHook`` over the Statement Execution API (no Thrift driver).

A DB-API 2.0 connection and cursor whose ``execute`` is one ``sql/statements`` call through
``DatabricksHook`` (same retries, rate limits, errors and masking), then ``get_statement`` polls
until a terminal state. Rows arrive as JSON_ARRAY strings and are converted by column type, so
``fetchall`` returns ints, Decimals, dates... as a driver would. ``result_format="ARROW_STREAM"``
with ``result_disposition="EXTERNAL_LINKS"`` fetches large results as Arrow chunks instead.

Parameters: a mapping binds ``:name`` markers (Databricks' native style), a sequence binds ``?``
markers in order; plain Python values get a SQL type (see ``hooks.sql.typed_parameter``).
The warehouse comes from the ``warehouse_id`` argument, else ``http_path``
(``/sql/1.0/warehouses/<id>``), each from the argument or the connection's extras.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from airflow.providers.common.sql.hooks.sql import DbApiHook

from airflow_dbx_provider.exceptions import DatabricksConfigError, DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.settings import SETTING_NAMES
from airflow_dbx_provider.hooks.sql import STATEMENT_TERMINAL_STATES, typed_parameter
from airflow_dbx_provider.hooks.sql_results import check_result_options

apilevel = "2.0"
threadsafety = 1
paramstyle = "named"


class DatabricksSqlError(DbxError):
    """A statement that ended FAILED or CANCELED, with Databricks' error code and SQLSTATE."""

    def __init__(self, message: str, *, state: str, error_code: str | None, sql_state: str | None) -> None:
        super().__init__(message)
        self.state = state
        self.error_code = error_code
        self.sql_state = sql_state


def warehouse_from_http_path(http_path: str | None) -> str | None:
    """``/sql/1.0/warehouses/<id>`` (or ``endpoints``) → ``<id>``."""
    if not http_path:
        return None
    parts = [p for p in http_path.strip().split("/") if p]
    if len(parts) >= 2 and parts[-2] in ("warehouses", "endpoints"):
        return parts[-1]
    raise DatabricksConfigError(f"http_path {http_path!r} names no SQL warehouse (/sql/1.0/warehouses/<id>)")


def _convert(type_name: str) -> Callable[[str], Any]:
    def timestamp(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))

    converters: dict[str, Callable[[str], Any]] = {
        "BYTE": int,
        "SHORT": int,
        "INT": int,
        "LONG": int,
        "FLOAT": float,
        "DOUBLE": float,
        "DECIMAL": Decimal,
        "BOOLEAN": lambda text: text.lower() == "true",
        "DATE": dt.date.fromisoformat,
        "TIMESTAMP": timestamp,
        "BINARY": base64.b64decode,
        "ARRAY": json.loads,
        "MAP": json.loads,
        "STRUCT": json.loads,
    }
    return converters.get(type_name, str)


class DatabricksSqlCursor:
    """DB-API 2.0 cursor: one statement at a time, rows streamed chunk by chunk."""

    arraysize = 1

    def __init__(self, connection: DatabricksSqlConnection) -> None:
        self.connection = connection
        self.description: list[tuple[Any, ...]] | None = None
        self.rowcount = -1
        self.statement_id: str | None = None
        self._rows: Iterator[tuple[Any, ...]] = iter(())

    def execute(self, operation: str, parameters: Mapping[str, Any] | Sequence[Any] | None = None) -> None:
        conn = self.connection
        if isinstance(parameters, Mapping):
            params = [typed_parameter(str(name), value) for name, value in parameters.items()]
        else:
            params = [typed_parameter(None, value) for value in parameters or ()]
        response = conn.api.execute_statement(
            operation.strip().rstrip(";"),
            conn.warehouse_id,
            catalog=conn.catalog,
            schema=conn.schema,
            parameters=params or None,
            wait_timeout=conn.wait_timeout,
            on_wait_timeout="CONTINUE",
            disposition=conn.result_disposition,
            format=conn.result_format,
        )
        self.statement_id = str(response["statement_id"])
        response = conn.wait(response)
        status = response["status"]
        if status["state"] != "SUCCEEDED":
            error = status.get("error") or {}
            raise DatabricksSqlError(
                f"Statement {self.statement_id} {status['state']}: {error.get('message', 'no message')}",
                state=status["state"],
                error_code=error.get("error_code"),
                sql_state=status.get("sql_state"),
            )
        self._read(response)

    def executemany(
        self, operation: str, seq_of_parameters: Sequence[Mapping[str, Any] | Sequence[Any]]
    ) -> None:
        for parameters in seq_of_parameters:
            self.execute(operation, parameters)

    def _read(self, response: Mapping[str, Any]) -> None:
        manifest = response.get("manifest") or {}
        columns = (manifest.get("schema") or {}).get("columns") or []
        self.description = [
            (
                c["name"],
                str(c.get("type_text", c.get("type_name", "STRING"))).split("(")[0].split("<")[0].lower(),
                None,
                None,
                c.get("type_precision"),
                c.get("type_scale"),
                None,
            )
            for c in columns
        ] or None
        raw = self.connection.api.iter_statement_rows(response)
        if manifest.get("format") == "ARROW_STREAM":  # already Python values
            rows: Iterator[tuple[Any, ...]] = (tuple(row) for row in raw)
        else:
            converters = [_convert(str(c.get("type_name", "STRING"))) for c in columns]
            rows = (
                tuple(None if v is None else f(v) for f, v in zip(converters, row, strict=False))
                for row in raw
            )
        names = [c["name"] for c in columns]
        if names[:1] == ["num_affected_rows"]:  # DML answers with its counts
            counts = list(rows)
            self.rowcount = int(counts[0][0] or 0) if counts else 0
            self._rows = iter(counts)
        else:
            self.rowcount = int(manifest.get("total_row_count", -1))
            self._rows = rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return next(self._rows, None)

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        count = size or self.arraysize
        return [row for _, row in zip(range(count), self._rows, strict=False)]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self._rows

    def cancel(self) -> None:
        if self.statement_id:
            self.connection.api.cancel_statement(self.statement_id)

    def close(self) -> None:
        self._rows = iter(())

    def setinputsizes(self, sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass


class DatabricksSqlConnection:
    """DB-API 2.0 connection: the warehouse and defaults; every statement commits on its own."""

    autocommit = True

    def __init__(
        self,
        api: DatabricksHook,
        warehouse_id: str,
        *,
        catalog: str | None = None,
        schema: str | None = None,
        wait_timeout: str = "10s",
        timeout_seconds: float | None = None,
        poll_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        result_format: str | None = None,
        result_disposition: str | None = None,
    ) -> None:
        self.api = api
        self.result_format = result_format
        self.result_disposition = result_disposition
        self.warehouse_id = warehouse_id
        self.catalog = catalog
        self.schema = schema
        self.wait_timeout = wait_timeout
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self._sleep = sleep

    def wait(self, response: dict[str, Any]) -> dict[str, Any]:
        """Poll ``get_statement`` to a terminal state; cancel and raise past ``timeout_seconds``."""
        started, delay = time.monotonic(), min(0.05, self.poll_seconds)
        while response["status"]["state"] not in STATEMENT_TERMINAL_STATES:
            if self.timeout_seconds is not None and time.monotonic() - started > self.timeout_seconds:
                self.api.cancel_statement(response["statement_id"])
                raise DatabricksSqlError(
                    f"Statement {response['statement_id']} did not finish in {self.timeout_seconds}s: canceled",
                    state="CANCELED",
                    error_code="DEADLINE_EXCEEDED",
                    sql_state=None,
                )
            self._sleep(delay)
            delay = min(delay * 2, self.poll_seconds)
            response = self.api.get_statement(response["statement_id"])
        return response

    def cursor(self) -> DatabricksSqlCursor:
        return DatabricksSqlCursor(self)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        raise DbxError("Databricks SQL statements commit on their own: there is nothing to roll back")

    def close(self) -> None:
        pass


class DatabricksSqlHook(DbApiHook):
    """Common-sql hook for Databricks SQL warehouses over the Statement Execution API.

    It is the hook class of conn type ``dbx``: common-sql's operators and ``SqlSensor`` given a
    ``dbx`` connection id get this hook from ``conn.get_hook()``. REST calls go through a
    ``DatabricksHook`` (:attr:`api`), which our own operators build directly.

    Positional arguments follow the official hook's order (``databricks_conn_id``, ``http_path``,
    ``sql_endpoint_name``, ``session_configuration``, ``http_headers``, ``catalog``, ``schema``).

    :param databricks_conn_id: connection (conn type ``dbx``); its extras may hold
        ``warehouse_id``, ``http_path`` or ``sql_endpoint_name``, ``catalog`` and ``schema``.
    :param http_path: ``/sql/1.0/warehouses/<id>``, as the official provider takes it.
    :param sql_endpoint_name: the warehouse's name (looked up once with ``sql/warehouses`` list).
    :param session_configuration: / :param http_headers: / :param caller: the official hook's
        Thrift-driver options; the Statement Execution API has no use for them (logged, ignored).
    :param catalog: default catalog of each statement.
    :param schema: default schema of each statement.
    :param warehouse_id: SQL warehouse to run on (wins over ``http_path`` and the name).
    :param timeout_seconds: cancel a statement still running after this long (default: wait).
    :param result_format: ``JSON_ARRAY`` (default), ``ARROW_STREAM`` (needs pyarrow) or ``CSV``.
    :param result_disposition: ``INLINE`` (default, at most 25 MiB) or ``EXTERNAL_LINKS`` (large
        results, downloaded from presigned URLs without our token). Both may be connection extras.
    :param kwargs: connection settings (``read_timeout``, ``retry_deadline_seconds``...) go to
        ``DatabricksHook``; common-sql also passes every connection extra, and extras that are not
        settings are ignored here (the connection is read whole by ``DatabricksHook`` anyway).
    """

    conn_name_attr = "databricks_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "dbx"
    hook_name = "Databricks (dbx)"
    supports_autocommit = True
    _placeholder = "?"
    _test_connection_sql = "SELECT 1"

    def __init__(
        self,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        http_path: str | None = None,
        sql_endpoint_name: str | None = None,
        session_configuration: Mapping[str, str] | None = None,
        http_headers: Sequence[tuple[str, str]] | None = None,
        catalog: str | None = None,
        schema: str | None = None,
        caller: str | None = None,
        *,
        warehouse_id: str | None = None,
        wait_timeout: str = "10s",
        timeout_seconds: float | None = None,
        poll_seconds: float = 1.0,
        sleep: Callable[[float], None] | None = None,
        api: DatabricksHook | None = None,
        result_format: str | None = None,
        result_disposition: str | None = None,
        **kwargs: Any,
    ) -> None:
        log_sql = kwargs.pop("log_sql", True)
        super().__init__(databricks_conn_id=databricks_conn_id, schema=schema, log_sql=log_sql)
        self.databricks_conn_id = databricks_conn_id
        self._http_path = http_path or kwargs.pop("http_path", None)
        self._warehouse_id = warehouse_id or kwargs.pop("warehouse_id", None)
        self._warehouse_name = sql_endpoint_name or kwargs.pop("sql_warehouse_name", None)
        self.catalog = catalog or kwargs.pop("catalog", None)
        self.schema = schema or kwargs.pop("schema", None)
        self.wait_timeout = wait_timeout
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self._sleep = sleep or time.sleep
        self._api = api
        self.result_format = result_format or kwargs.pop("result_format", None)
        self.result_disposition = result_disposition or kwargs.pop("result_disposition", None)
        check_result_options(self.result_format, self.result_disposition, prefix="result_")
        self._resolved_warehouse: str | None = None
        if session_configuration or http_headers:
            self.log.info(
                "session_configuration and http_headers are Thrift-driver options: the Statement"
                " Execution API does not take them (ignored)"
            )
        self._api_overrides = {k: v for k, v in kwargs.items() if k in SETTING_NAMES}
        ignored = sorted(set(kwargs) - SETTING_NAMES)
        if ignored:
            self.log.debug("Not Databricks settings, ignored: %s", ", ".join(ignored))

    @property
    def api(self) -> DatabricksHook:
        """The REST hook every statement goes through (same retries, rate limits and masking)."""
        if self._api is None:
            self._api = DatabricksHook(self.databricks_conn_id, sleep=self._sleep, **self._api_overrides)
        return self._api

    def test_connection(self) -> tuple[bool, str]:  # type: ignore[override]  # DbApiHook's says None
        """Airflow's "Test" button: the REST hook's check (authenticate, SCIM Me once); no warehouse needed."""
        return self.api.test_connection()

    def _extras(self) -> dict[str, Any]:
        try:
            return dict(self.connection_extra)
        except Exception:  # no Airflow connection (settings from the environment)
            return {}

    @property
    def warehouse_id(self) -> str:
        """The argument, else ``http_path``, else the warehouse named, else the same from the extras."""
        if self._resolved_warehouse is None:
            explicit = self._warehouse_id or self._http_path or self._warehouse_name
            extras = {} if explicit else self._extras()
            found = (
                self._warehouse_id
                or warehouse_from_http_path(self._http_path)
                or extras.get("warehouse_id")
                or warehouse_from_http_path(extras.get("http_path"))
            )
            name = self._warehouse_name or extras.get("sql_endpoint_name")
            if not found and name:
                found = self._warehouse_named(str(name))
            if not found:
                raise DatabricksConfigError(
                    f"No SQL warehouse for {self.databricks_conn_id}: pass warehouse_id, http_path or "
                    "sql_endpoint_name, or set one of them in the connection's extras"
                )
            self._resolved_warehouse = str(found)
        return self._resolved_warehouse

    def _warehouse_named(self, name: str) -> str:
        matches = [w["id"] for w in self.api.list_warehouses() if w.get("name") == name]
        if len(matches) != 1:
            raise DatabricksConfigError(
                f"sql_endpoint_name {name!r}: {len(matches) or 'no'} SQL warehouses have that name"
                + (" (give warehouse_id)" if matches else "")
            )
        return str(matches[0])

    def get_conn(self) -> DatabricksSqlConnection:
        extras = self._extras() if not (self.catalog and self.schema) else {}
        return DatabricksSqlConnection(
            self.api,
            self.warehouse_id,
            catalog=self.catalog or extras.get("catalog"),
            schema=self.schema or extras.get("schema"),
            wait_timeout=self.wait_timeout,
            timeout_seconds=self.timeout_seconds,
            poll_seconds=self.poll_seconds,
            sleep=self._sleep,
            result_format=self.result_format,
            result_disposition=self.result_disposition,
        )

    def get_uri(self) -> str:
        return f"databricks://{self.api.settings.host}?warehouse_id={self.warehouse_id}"

    def _make_common_data_structure(self, result: Any) -> Any:
        if isinstance(result, list):
            return [tuple(row) for row in result]
        return tuple(result) if result is not None else None

    def _get_pandas_df(self, sql: Any, parameters: Any = None, **kwargs: Any) -> Any:
        """A DataFrame from the rows and column names (no SQLAlchemy engine needed)."""
        import pandas as pd

        conn = self.get_conn()
        cursor = conn.cursor()
        cursor.execute(sql, parameters)
        columns = [d[0] for d in cursor.description or []]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns, **kwargs)
