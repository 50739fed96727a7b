"""``DatabricksSqlOperator`` (common-sql's ``SQLExecuteQueryOperator`` over ``DatabricksSqlHook``) and
the SQL warehouse start/stop operators, under the official provider's names and arguments.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import BaseOperator

from airflow_dbx_provider.exceptions import DatabricksConfigError, DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.sql_dbapi import DatabricksSqlHook
from airflow_dbx_provider.operators.official_args import OfficialRetryArgsMixin
from airflow_dbx_provider.runs.defaults import DEFAULT_POLLING_PERIOD_SECONDS

if TYPE_CHECKING:
    from airflow.sdk import Context

OUTPUT_FORMATS = ("csv", "json", "jsonl", "parquet")


class DatabricksSqlOperator(SQLExecuteQueryOperator):
    """Run SQL on a Databricks SQL warehouse; results to XCom, or to a file with ``output_path``.

    The official arguments. The warehouse is ``http_path`` (``/sql/1.0/warehouses/<id>``),
    ``sql_endpoint_name``, or ``warehouse_id`` in ``hook_params`` or the connection's extras.
    As the official operator, the XCom value is ``(description, rows)`` for one statement (a list
    of them with ``return_last=False``), and ``output_path`` gets the last statement's rows as
    ``csv`` (``csv_params`` go to ``csv.DictWriter``), ``json`` (a list of objects), ``jsonl``
    or ``parquet`` (needs pyarrow). Not offered: ``avro`` and ``gs://`` paths. Thrift-driver
    options (``session_configuration``, ``http_headers``, ``client_parameters``) and
    ``query_tags`` are accepted and not used: statements go through the REST API.
    """

    template_fields: Sequence[str] = tuple(
        {"_output_path", "schema", "catalog", "http_headers", "databricks_conn_id", "query_tags"}
        | set(SQLExecuteQueryOperator.template_fields)
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict] = {"sql": "sql"}
    conn_id_field = "databricks_conn_id"

    def __init__(
        self,
        *,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        http_path: str | None = None,
        sql_endpoint_name: str | None = None,
        session_configuration: dict[str, str] | None = None,
        http_headers: list[tuple[str, str]] | None = None,
        catalog: str | None = None,
        schema: str | None = None,
        output_path: str | None = None,
        output_format: str = "csv",
        csv_params: dict[str, Any] | None = None,
        client_parameters: dict[str, Any] | None = None,
        query_tags: dict[str, str | None] | None = None,
        include_airflow_query_tags: bool = True,
        gcp_conn_id: str = "google_cloud_default",
        gcs_impersonation_chain: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        hook_params = kwargs.pop("hook_params", None) or {}
        super().__init__(conn_id=databricks_conn_id, **kwargs)
        if output_format.lower() not in OUTPUT_FORMATS:
            raise DatabricksConfigError(
                f"output_format {output_format!r} is not offered: use one of {', '.join(OUTPUT_FORMATS)}"
            )
        if output_path and output_path.startswith("gs://"):
            raise DatabricksConfigError("output_path: gs:// is not offered here, write to a local path")
        self.databricks_conn_id = databricks_conn_id
        self.http_path = http_path
        self.sql_endpoint_name = sql_endpoint_name
        self.session_configuration = session_configuration
        self.http_headers = http_headers
        self.catalog = catalog
        self.schema = schema
        self._output_path = output_path
        self._output_format = output_format.lower()
        self._csv_params = csv_params
        self.client_parameters = client_parameters or {}
        self.query_tags = query_tags or {}
        self.include_airflow_query_tags = include_airflow_query_tags
        self.hook_params = hook_params
        self._gcp_conn_id = gcp_conn_id
        self._gcs_impersonation_chain = gcs_impersonation_chain

    @cached_property
    def _hook(self) -> DatabricksSqlHook:
        return DatabricksSqlHook(
            self.databricks_conn_id,
            http_path=self.http_path,
            sql_endpoint_name=self.sql_endpoint_name,
            session_configuration=self.session_configuration,
            http_headers=self.http_headers,
            catalog=self.catalog,
            schema=self.schema,
            **self.hook_params,
        )

    def get_db_hook(self) -> DatabricksSqlHook:
        return self._hook

    def _should_run_output_processing(self) -> bool:
        return self.do_xcom_push or bool(self._output_path)

    def _process_output(self, results: list[Any], descriptions: list[Sequence[Sequence] | None]) -> list[Any]:
        if self._output_path:
            description = descriptions[-1]
            if description is None:
                raise DatabricksConfigError("output_path: the last statement returned no result set to write")
            write_rows(
                self._output_path,
                self._output_format,
                [str(d[0]) for d in description],
                results[-1] or [],
                self._csv_params,
            )
            self.log.info(
                "Wrote %d rows to %s (%s)", len(results[-1] or []), self._output_path, self._output_format
            )
        return list(zip(descriptions, results, strict=False))


def write_rows(
    path: str,
    output_format: str,
    names: list[str],
    rows: Sequence[Sequence[Any]],
    csv_params: dict[str, Any] | None,
) -> None:
    """Rows to ``path``: csv (header unless ``header=False``), json, jsonl or parquet."""
    records = [dict(zip(names, row, strict=False)) for row in rows]
    if output_format == "csv":
        params = dict(csv_params or {})
        header = params.pop("header", True)
        with open(path, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=names, **params)
            if header:
                writer.writeheader()
            writer.writerows(records)
    elif output_format == "json":
        with open(path, "w") as file:
            json.dump(records, file, default=str)
    elif output_format == "jsonl":
        with open(path, "w") as file:
            file.writelines(json.dumps(record, default=str) + "\n" for record in records)
    else:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise DatabricksConfigError("output_format parquet needs pyarrow (pip install pyarrow)") from None
        pq.write_table(pa.Table.from_pydict({n: [r[n] for r in records] for n in names}), path)


class _WarehouseOperator(OfficialRetryArgsMixin, BaseOperator):
    """Start or stop a SQL warehouse and wait (in the worker) for the target state."""

    template_fields: Sequence[str] = ("databricks_conn_id", "warehouse_id")
    ui_color = "#1CB1C2"
    ui_fgcolor = "#fff"
    target = ""
    transition = ""

    def __init__(
        self,
        warehouse_id: str,
        *,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        wait_for_termination: bool = True,
        polling_period_seconds: float = DEFAULT_POLLING_PERIOD_SECONDS,
        timeout: float = 3600,
        databricks_retry_limit: int | None = None,
        databricks_retry_delay: float | None = None,
        databricks_retry_args: dict[Any, Any] | None = None,
        deferrable: bool | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._use_connection(databricks_conn_id, hook_params)
        self._use_official_retry_args(databricks_retry_limit, databricks_retry_delay, databricks_retry_args)
        self.warehouse_id = warehouse_id
        self.wait_for_termination = wait_for_termination
        self.polling_period_seconds = polling_period_seconds
        self.timeout = timeout
        self.deferrable = deferrable  # accepted; the wait (seconds to minutes) stays in the worker

    def request(self) -> None:
        raise NotImplementedError

    def execute(self, context: Context) -> None:
        if not self.warehouse_id:
            raise DatabricksConfigError("warehouse_id must be given")
        state = self.hook.get_warehouse(self.warehouse_id)["state"]
        if state == self.target:
            self.log.info("SQL warehouse %s is already %s", self.warehouse_id, state)
            return
        if state != self.transition:
            self.request()
        if self.wait_for_termination:
            self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + self.timeout
        last = None
        while (state := self.hook.get_warehouse(self.warehouse_id)["state"]) != self.target:
            if state == "DELETED":
                raise DbxError(
                    f"SQL warehouse {self.warehouse_id} was deleted while waiting for {self.target}"
                )
            if state != last:
                self.log.info("SQL warehouse %s is %s; waiting for %s", self.warehouse_id, state, self.target)
                last = state
            left = deadline - time.monotonic()
            if left <= 0:
                raise DbxError(
                    f"SQL warehouse {self.warehouse_id} did not reach {self.target} within {self.timeout}s;"
                    f" last state: {state}"
                )
            time.sleep(min(self.polling_period_seconds, left))
        self.log.info("SQL warehouse %s is %s", self.warehouse_id, self.target)


class DatabricksStartWarehouseOperator(_WarehouseOperator):
    """Start a SQL warehouse and (``wait_for_termination``) wait until it is RUNNING."""

    target, transition = "RUNNING", "STARTING"

    def request(self) -> None:
        self.hook.start_warehouse(self.warehouse_id)


class DatabricksStopWarehouseOperator(_WarehouseOperator):
    """Stop a SQL warehouse and (``wait_for_termination``) wait until it is STOPPED."""

    target, transition = "STOPPED", "STOPPING"

    def request(self) -> None:
        self.hook.stop_warehouse(self.warehouse_id)
