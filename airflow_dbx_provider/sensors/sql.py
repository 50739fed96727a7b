"""SQL sensors on a Databricks SQL warehouse, under the official names and arguments.

- ``DatabricksSqlSensor``: done when the query returns at least one row.
- ``DatabricksPartitionSensor``: done when the table has a row in the given partition(s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.sql.hooks.handlers import fetch_all_handler
from airflow.sdk import BaseSensorOperator

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.sql_dbapi import DatabricksSqlError, DatabricksSqlHook

if TYPE_CHECKING:
    from airflow.sdk import Context

_OPERATORS = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})
_PARTITION_HEADER = "# Partition Information"


class _DatabricksSqlSensorBase(BaseSensorOperator):
    """Connection and warehouse arguments shared by the SQL sensors (the official ones)."""

    def __init__(
        self,
        *,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        http_path: str | None = None,
        sql_warehouse_name: str | None = None,
        session_configuration: dict[str, str] | None = None,
        http_headers: list[tuple[str, str]] | None = None,
        catalog: str = "",
        schema: str = "default",
        handler: Callable[[Any], Any] = fetch_all_handler,
        client_parameters: dict[str, Any] | None = None,
        query_tags: dict[str, str | None] | None = None,
        include_airflow_query_tags: bool = True,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.databricks_conn_id = databricks_conn_id
        self._http_path = http_path
        self._sql_warehouse_name = sql_warehouse_name
        self.session_config = session_configuration
        self.http_headers = http_headers
        self.catalog = catalog
        self.schema = schema
        self.handler = handler
        self.client_parameters = client_parameters or {}
        self.query_tags = query_tags or {}
        self.include_airflow_query_tags = include_airflow_query_tags
        self.hook_params = dict(hook_params or {})

    @cached_property
    def hook(self) -> DatabricksSqlHook:
        return DatabricksSqlHook(
            self.databricks_conn_id,
            http_path=self._http_path,
            sql_endpoint_name=self._sql_warehouse_name,
            catalog=self.catalog or None,
            schema=self.schema or None,
            **self.hook_params,
        )

    def _run(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Any:
        result = self.hook.run(sql, parameters=parameters, handler=self.handler)
        self.log.debug("SQL result: %s", result)
        return result


class DatabricksSqlSensor(_DatabricksSqlSensorBase):
    """Done when ``sql`` returns at least one row (as the official sensor).

    The warehouse: ``http_path``, ``sql_warehouse_name``, or ``warehouse_id``/``http_path`` in
    ``hook_params`` or the connection's extras (the official sensor requires one of the first two).
    """

    template_fields: Sequence[str] = (
        "databricks_conn_id",
        "sql",
        "catalog",
        "schema",
        "http_headers",
        "query_tags",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql"}

    def __init__(self, *, sql: str | Iterable[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sql = sql

    def poke(self, context: Context) -> bool:
        return bool(self._run(self.sql))  # type: ignore[arg-type]


class DatabricksPartitionSensor(_DatabricksSqlSensorBase):
    """Done when ``table_name`` has a row in ``partitions`` (``{"day": "2024-01-01", "country": ["FR", "DE"]}``).

    Each key must be a partition column of the table (``DESCRIBE DETAIL``'s ``partitionColumns``,
    else the ``# Partition Information`` part of ``DESCRIBE TABLE``); a warehouse that answers
    neither has each key checked as a column, with a warning. Values are sent as
    bound parameters; a list means ``IN``. Unlike the official sensor, a partition not found yet
    keeps the sensor waiting (poke returns False) instead of failing the task.

    :param table_name: ``table``, ``schema.table``, ``catalog.schema.table`` or ``delta.`<path>```.
    :param partition_operator: comparison for single values: ``=``, ``!=``, ``<>``, ``<``, ``<=``,
        ``>`` or ``>=``.
    """

    template_fields: Sequence[str] = (
        "databricks_conn_id",
        "catalog",
        "schema",
        "table_name",
        "partitions",
        "http_headers",
        "query_tags",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql"}

    def __init__(
        self, *, table_name: str, partitions: dict[str, Any], partition_operator: str = "=", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if partition_operator not in _OPERATORS:
            raise DatabricksConfigError(
                f"partition_operator {partition_operator!r} is not one of {', '.join(sorted(_OPERATORS))}"
            )
        self.table_name = table_name
        self.partitions = partitions
        self.partition_operator = partition_operator

    def _full_name(self) -> str:
        name = self.table_name
        if name.split(".")[0] == "delta" or name.count(".") >= 2:
            return name
        if name.count(".") == 1:
            return f"{self.catalog}.{name}" if self.catalog else name
        return ".".join(part for part in (self.catalog, self.schema, name) if part)

    def _partition_columns(self, table: str) -> list[str] | None:
        """The table's partition columns; None when the warehouse cannot say."""
        try:
            cursor = self.hook.get_conn().cursor()
            cursor.execute(f"DESCRIBE DETAIL {table}")
            names = [d[0] for d in cursor.description or []]
            row = cursor.fetchone()
            if row is not None and "partitionColumns" in names:
                return list(row[names.index("partitionColumns")] or [])
        except DatabricksSqlError as err:
            self.log.info("DESCRIBE DETAIL %s: %s", table, err)
        rows = self.hook.get_records(f"DESCRIBE TABLE {table}") or []
        names = [str(r[0]) for r in rows]
        if _PARTITION_HEADER in names:
            after = names[names.index(_PARTITION_HEADER) + 1 :]
            return [n for n in after if n and not n.startswith("#")]
        return None

    def _query(self, table: str) -> tuple[str, dict[str, Any]]:
        if not self.partitions:
            raise DatabricksConfigError("No partitions specified to check with the sensor")
        partition_columns = self._partition_columns(table)
        if partition_columns is None:
            self.log.warning(
                "%s: the warehouse does not report partition columns; checking %s as columns",
                table,
                ", ".join(self.partitions),
            )
        elif not partition_columns:
            raise DatabricksConfigError(f"Table {table} does not have partitions")
        clauses: list[str] = []
        params: dict[str, Any] = {}
        for column, value in self.partitions.items():
            if partition_columns is not None and column not in partition_columns:
                raise DatabricksConfigError(
                    f"Column {column} is not a partition column of {table}: {partition_columns}"
                )
            quoted = "`" + str(column).replace("`", "``") + "`"
            values = list(value) if isinstance(value, list | tuple) else [value]
            names = []
            for v in values:
                names.append(f":p{len(params)}")
                params[f"p{len(params)}"] = v  # dates bind as DATE, datetimes as TIMESTAMP
            if len(values) == 1 and not isinstance(value, list | tuple):
                clauses.append(f"{quoted} {self.partition_operator} {names[0]}")
            else:
                clauses.append(f"{quoted} IN ({', '.join(names)})")
        return f"SELECT 1 FROM {table} WHERE {' AND '.join(clauses)} LIMIT 1", params

    def poke(self, context: Context) -> bool:
        table = self._full_name()
        sql, params = self._query(table)
        found = bool(self._run(sql, params))
        if not found:
            self.log.info("No row yet in %s for partitions %s", table, self.partitions)
        return found
