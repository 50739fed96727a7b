"""Ingest an external API into a Delta table with a three-step Databricks job.

                  ┌─> import_notebooks ─┐
    check_inputs ─┤                     ├─> upsert_job ─> run_pipeline (deferrable) ─> report ─┐
                  └─> ensure_api_secret ┘                                                      │
    ensure_warehouse ─────────────────────────────────────────────────────> register_table <─┘
        register_table ─> no_null_keys, positive_amounts, row_count_within_expectations ─> revenue_report

* Inputs are checked before any API call: the orders API's address comes from the Airflow
  connection ``orders_api_default`` (never from a trigger Param: whoever may trigger the DAG must not
  choose where the stored API key is sent), and ``table_path`` must stay under ``dbfs:/delta/``.

* Set-up is part of the DAG and idempotent: the notebooks are (re)imported through the Workspace
  API and the API key is stored in a secret scope, so a fresh workspace needs no clicking around.
* The job is *upserted* by name, so editing JOB_SETTINGS below and re-running the DAG updates
  the job in Databricks instead of creating a second one.
* The run is deferrable: while Databricks works, the Airflow worker slot is free and the
  triggerer polls the run.
* The last notebook MERGEs on `order_id`, so re-running a window never duplicates rows.
* Then SQL, on a SQL warehouse (the connection's ``warehouse_id``/``http_path`` extra, else one
  named ``dbx-examples``, created on first use): the Delta location is registered as a table
  (``CREATE TABLE IF NOT EXISTS ... USING DELTA LOCATION``, a deferrable statement: the
  triggerer waits for it, as for the run), common-sql's check operators check it
  (no null or duplicate keys, positive amounts, a row count between the ``min_rows`` and
  ``max_rows`` params) and a failed check fails the DAG naming the check; ``revenue_report``
  returns revenue per day and country (its XCom; ``scripts/dev.py demo`` prints it).

Works unchanged against a real workspace or the bundled emulator (`python scripts/dev.py demo`).
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pendulum
from airflow.providers.common.sql.operators.sql import (
    SQLColumnCheckOperator,
    SQLExecuteQueryOperator,
    SQLTableCheckOperator,
    SQLThresholdCheckOperator,
)
from airflow.sdk import DAG, BaseHook, Param, Variable, task

from airflow_dbx_provider._compat import AirflowNotFoundException
from airflow_dbx_provider.exceptions import DatabricksConfigError, DatabricksResourceConflictError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.sql_dbapi import DatabricksSqlHook
from airflow_dbx_provider.operators import (
    DatabricksCreateJobOperator,
    DatabricksRunNowOperator,
    DatabricksSQLStatementsOperator,
)

log = logging.getLogger(__name__)

CONN_ID = "databricks_default"
NOTEBOOK_DIR = Path(__file__).resolve().parent / "notebooks"
WORKSPACE_DIR = "/Shared/dbx_examples"  # where the notebooks live in the workspace
PIPELINE_NOTEBOOKS = ("fetch_data", "transform_data", "write_results")
SECRET_SCOPE = "dbx_examples"
SECRET_KEY = "sample_source_api_key"
# The demo API's key. In production keep the real one in an Airflow Variable or secrets backend:
# Variable.get() below reads it from there first.
DEMO_API_KEY = os.environ.get("ORDERS_API_KEY", "dbx-sample-source-demo-key")
# Where the orders API lives: the host of this connection (e.g. https://orders.example.com/v1).
ORDERS_CONN_ID = "orders_api_default"
# Without that connection: the demo API (python -m orders_api, see dags_examples/README.md).
DEMO_ORDERS_API_URL = "http://127.0.0.1:8765/v1"
# The Delta table must live under this root; the trigger form cannot point the MERGE elsewhere.
TABLE_ROOT = "dbfs:/delta/"
_PATH_CHARS = re.compile(r"^dbfs:/[A-Za-z0-9_./-]+$")
# SQL: the warehouse used when the connection names none, and where the table is registered.
WAREHOUSE_NAME = "dbx-examples"
SQL_SCHEMA = "main.default"
REVENUE_REPORT_SQL = (
    "SELECT order_date AS day, country, count(*) AS orders, sum(amount) AS revenue"
    " FROM {table} GROUP BY order_date, country ORDER BY day, country"
)


class InputError(ValueError):
    """A DAG input that would send data or writes somewhere it must not go (one line)."""


def orders_api_url() -> str:
    """Base URL of the orders API, from the ``orders_api_default`` connection (or the demo default)."""
    try:
        conn = BaseHook.get_connection(ORDERS_CONN_ID)
    except AirflowNotFoundException:  # no such connection: the demo API on this machine
        return DEMO_ORDERS_API_URL
    raw = (conn.host or "").strip()
    if raw and "://" not in raw:
        raw = f"{conn.schema or 'https'}://{raw}" + (f":{conn.port}" if conn.port else "")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query:
        raise InputError(f"connection {ORDERS_CONN_ID!r}: host {raw!r} is not an http(s) base URL")
    return raw.rstrip("/")


def table_path_inside_root(path: str) -> str:
    """``path`` when it names a folder strictly under ``TABLE_ROOT`` (no ``..``, no odd characters)."""
    if not isinstance(path, str) or not _PATH_CHARS.match(path):
        raise InputError(
            f"table_path {path!r} must be a dbfs:/ path of letters, digits, '_', '-', '.' and '/'"
        )
    inner = path.removeprefix("dbfs:")
    if ".." in inner.split("/") or "//" in inner or posixpath.normpath(inner) != inner.rstrip("/"):
        raise InputError(f"table_path {path!r} must not contain '..', '.' or empty segments")
    if not path.startswith(TABLE_ROOT) or path.rstrip("/") == TABLE_ROOT.rstrip("/"):
        raise InputError(f"table_path {path!r} must be inside {TABLE_ROOT}")
    return path.rstrip("/")


def table_name_for(path: str) -> str:
    """The SQL name a checked ``table_path`` is registered under: ``main.default.`<last segment>```."""
    return f"{SQL_SCHEMA}.`{re.sub(r'[^A-Za-z0-9_]', '_', path.rstrip('/').rsplit('/', 1)[-1])}`"


# Every task gets every job parameter as a widget; these defaults apply when run-now omits one.
JOB_PARAMETERS = {
    "start_date": "2024-01-01",
    "end_date": "2024-01-07",
    "source_url": "",
    "table_path": "dbfs:/delta/orders",
    "raw_root": "dbfs:/raw/orders",
    "staging_root": "dbfs:/staging/orders",
    "secret_scope": SECRET_SCOPE,
    "secret_key": SECRET_KEY,
    "page_size": "100",
}


def _notebook_task(key: str, depends_on: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "task_key": key,
        "notebook_task": {"notebook_path": f"{WORKSPACE_DIR}/{key}", "source": "WORKSPACE"},
        # All three steps share one job cluster: it starts once per run, not once per task.
        "job_cluster_key": "pipeline_cluster",
        "timeout_seconds": 1800,
    }
    if depends_on:
        spec["depends_on"] = [{"task_key": depends_on}]
    return spec


JOB_SETTINGS: dict[str, Any] = {
    "name": "Multi-Step Pipeline",
    "description": "Orders API -> raw JSON -> typed Parquet -> Delta MERGE (managed by Airflow)",
    # A second trigger for the same table waits instead of racing the first MERGE.
    "max_concurrent_runs": 1,
    "queue": {"enabled": True},
    "job_clusters": [
        {
            "job_cluster_key": "pipeline_cluster",
            "new_cluster": {
                "spark_version": "15.4.x-scala2.12",
                "node_type_id": "i3.xlarge",
                "num_workers": 1,
                "spark_env_vars": {"PYSPARK_PYTHON": "/databricks/python3/bin/python3"},
            },
        }
    ],
    "parameters": [{"name": name, "default": default} for name, default in JOB_PARAMETERS.items()],
    "tasks": [
        _notebook_task("fetch_data"),
        _notebook_task("transform_data", depends_on="fetch_data"),
        _notebook_task("write_results", depends_on="transform_data"),
    ],
    "tags": {"managed_by": "airflow", "example": "ingest_transform_delta"},
}

with DAG(
    dag_id="ingest_transform_delta",
    description="Orders API -> Databricks job (fetch, transform, Delta MERGE)",
    schedule=None,  # triggered by hand or by the REST API; see the README for a daily variant
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    # Every task here is safe to retry: imports overwrite, the job is upserted by name, and a
    # retried run_pipeline re-sends the same idempotency token, so it re-attaches to the run it
    # started (or to its success) instead of launching another. One retry also covers an Airflow
    # 3.3 scheduler race that can fail a deferred task whose trigger fires within seconds of
    # deferring (apache/airflow#67287).
    default_args={"retries": 1, "retry_delay": pendulum.duration(seconds=5)},
    tags=["databricks", "example", "delta"],
    doc_md=__doc__,
    # Params become the trigger form in the UI and are validated before a run is created.
    params={
        "start_date": Param(
            JOB_PARAMETERS["start_date"],
            type="string",
            format="date",
            title="Window start",
            description="First day of orders to ingest (inclusive).",
        ),
        "end_date": Param(
            JOB_PARAMETERS["end_date"],
            type="string",
            format="date",
            title="Window end",
            description="Last day of orders to ingest (inclusive). Re-running a window is safe: rows are merged.",
        ),
        "table_path": Param(
            JOB_PARAMETERS["table_path"],
            type="string",
            pattern="^dbfs:/delta/[A-Za-z0-9_][A-Za-z0-9_./-]*$",
            title="Delta table location",
            description="DBFS path of the Delta table the orders are merged into (under dbfs:/delta/).",
        ),
        "page_size": Param(100, type="integer", minimum=1, maximum=500, description="Records per API call."),
        "min_rows": Param(
            1, type="integer", minimum=0, description="Fewest rows the table may hold (a check)."
        ),
        "max_rows": Param(
            1_000_000, type="integer", minimum=0, description="Most rows the table may hold (a check)."
        ),
    },
) as dag:

    @task
    def check_inputs(params: dict[str, Any] | None = None) -> dict[str, str]:
        """Fail in one line, before any API call, on inputs that would send data or writes astray."""
        params = params or {}
        table_path = table_path_inside_root(params.get("table_path", JOB_PARAMETERS["table_path"]))
        return {
            "source_url": orders_api_url(),
            "table_path": table_path,
            "table_name": table_name_for(table_path),
        }

    @task
    def import_notebooks() -> list[str]:
        """Push the pipeline's notebooks to the workspace (overwrite: the repo is the source of truth)."""
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        hook.workspace_mkdirs(WORKSPACE_DIR)
        imported = []
        for name in PIPELINE_NOTEBOOKS:
            path = f"{WORKSPACE_DIR}/{name}"
            source = (NOTEBOOK_DIR / f"{name}.py").read_bytes()
            hook.workspace_import(path, source, format="SOURCE", language="PYTHON", overwrite=True)
            imported.append(path)
        log.info("imported %s", imported)
        return imported

    @task
    def ensure_api_secret() -> str:
        """Create the secret scope if missing and (re)store the API key: notebooks read it with dbutils.secrets."""
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        if SECRET_SCOPE not in {scope["name"] for scope in hook.list_secret_scopes()}:
            try:
                hook.create_secret_scope(SECRET_SCOPE)
            except DatabricksResourceConflictError:
                pass  # created concurrently by another run: fine
        # put_secret overwrites, so a rotated key reaches Databricks on the next run.
        hook.put_secret(SECRET_SCOPE, SECRET_KEY, string_value=Variable.get(SECRET_KEY, default=DEMO_API_KEY))
        return f"{SECRET_SCOPE}/{SECRET_KEY}"  # never return the secret itself: XComs are visible in the UI

    upsert_job = DatabricksCreateJobOperator(
        task_id="upsert_job", databricks_conn_id=CONN_ID, json=JOB_SETTINGS
    )

    # The job id comes from upsert_job's XCom; params are rendered per run (they are template fields).
    run_pipeline = DatabricksRunNowOperator(
        task_id="run_pipeline",
        databricks_conn_id=CONN_ID,
        job_id=upsert_job.output,
        job_parameters={
            "start_date": "{{ params.start_date }}",
            "end_date": "{{ params.end_date }}",
            # Checked by check_inputs; the source URL comes from a connection, not from the trigger.
            "table_path": "{{ ti.xcom_pull(task_ids='check_inputs')['table_path'] }}",
            "source_url": "{{ ti.xcom_pull(task_ids='check_inputs')['source_url'] }}",
            "page_size": "{{ params.page_size }}",
        },
        deferrable=True,
        polling_period_seconds=1,
    )

    @task
    def report(result: dict[str, Any]) -> dict[str, Any]:
        """Turn the notebooks' exit values into one summary (visible as this task's XCom)."""
        outputs = {
            key: json.loads(value) for key, value in (result.get("task_outputs") or {}).items() if value
        }
        fetched, cleaned, written = outputs["fetch_data"], outputs["transform_data"], outputs["write_results"]
        log.info(
            "fetched %s records in %s pages (%s retries)",
            fetched["records"],
            fetched["pages"],
            fetched["retries"],
        )
        log.info("rejected %s rows: %s", cleaned["rejected_rows"], cleaned["rejects_by_reason"])
        log.info(
            "Delta table %s is at version %s with %s rows",
            written["table_path"],
            written["version"],
            written["total_rows"],
        )

        # Cross-check through the DBFS API: one commit file per table version in _delta_log.
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        commits = [
            f
            for f in hook.dbfs_list(written["table_path"].removeprefix("dbfs:") + "/_delta_log")
            if f["path"].endswith(".json")
        ]
        if len(commits) != written["version"] + 1:
            raise ValueError(f"expected {written['version'] + 1} commits in _delta_log, found {len(commits)}")
        return {
            "run_id": result["run_id"],
            "records_fetched": fetched["records"],
            "rows_rejected": cleaned["rejected_rows"],
            "rejects_by_reason": cleaned["rejects_by_reason"],
            "rows_inserted": written["rows_inserted"],
            "rows_updated": written["rows_updated"],
            "total_rows": written["total_rows"],
            "table_path": written["table_path"],
            "table_version": written["version"],
        }

    @task
    def ensure_warehouse() -> str:
        """The connection's SQL warehouse, else the one named ``dbx-examples`` (created on first use)."""
        hook = DatabricksSqlHook(CONN_ID)
        try:
            return hook.warehouse_id
        except DatabricksConfigError:
            pass
        found = [w["id"] for w in hook.api.list_warehouses() if w.get("name") == WAREHOUSE_NAME]
        if found:
            return str(found[0])
        spec = {
            "name": WAREHOUSE_NAME,
            "cluster_size": "2X-Small",
            "auto_stop_mins": 10,
            "max_num_clusters": 1,
        }
        return hook.api.create_warehouse(spec)

    # SQL on the merged table: registered, checked by common-sql's operators, then reported on.
    warehouse = ensure_warehouse()
    table = "{{ ti.xcom_pull(task_ids='check_inputs')['table_name'] }}"
    sql_args: dict[str, Any] = {
        "conn_id": CONN_ID,  # conn type dbx: its hook is DatabricksSqlHook, a common-sql DbApiHook
        "hook_params": {"warehouse_id": "{{ ti.xcom_pull(task_ids='ensure_warehouse') }}"},
    }
    register_table = DatabricksSQLStatementsOperator(
        task_id="register_table",
        databricks_conn_id=CONN_ID,
        warehouse_id=warehouse,
        statement=(
            f"CREATE TABLE IF NOT EXISTS {table} USING DELTA"
            " LOCATION '{{ ti.xcom_pull(task_ids='check_inputs')['table_path'] }}'"
        ),
        polling_period_seconds=1,
        deferrable=True,
    )
    checks = [
        SQLColumnCheckOperator(
            task_id="no_null_keys",
            table=table,
            column_mapping={"order_id": {"null_check": {"equal_to": 0}, "unique_check": {"equal_to": 0}}},
            **sql_args,
        ),
        SQLTableCheckOperator(
            task_id="positive_amounts",
            table=table,
            checks={"positive_amounts": {"check_statement": "MIN(amount) > 0"}},
            **sql_args,
        ),
        SQLThresholdCheckOperator(
            task_id="row_count_within_expectations",
            sql=f"SELECT count(*) FROM {table}",
            min_threshold="SELECT {{ params.min_rows | int }}",
            max_threshold="SELECT {{ params.max_rows | int }}",
            **sql_args,
        ),
    ]
    revenue_report = SQLExecuteQueryOperator(
        task_id="revenue_report",
        sql=REVENUE_REPORT_SQL.format(table=table),
        show_return_value_in_logs=True,
        **sql_args,
    )

    checked = check_inputs()
    checked >> [import_notebooks(), ensure_api_secret()] >> upsert_job
    checked >> [run_pipeline, warehouse]  # nothing reaches the workspace before the inputs are checked
    [report(run_pipeline.output), warehouse] >> register_table >> checks >> revenue_report
