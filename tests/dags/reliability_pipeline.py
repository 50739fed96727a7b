"""The example pipeline's shape, small enough to run 20 times under fault injection (tests/reliability).

    import_notebooks ─┐
    ensure_api_secret ┴─> upsert_job ─> run_pipeline (deferrable) ─> report

Same tasks and operators as ``dags_examples/ingest_transform_delta.py`` (notebooks imported through
the Workspace API, a secret stored, the job upserted by name, a three-notebook job on one job
cluster run with ``run-now``), but the notebooks only pass a few rows through DBFS (FUSE path): they
make no API calls of their own, so the injected faults hit exactly what Airflow sends. Every task may
be retried (as in production): a non-idempotent call that fails with a 5xx is not resent by the hook,
the task fails, and its retry must still end with one Databricks run per DAG run.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_dbx_provider.exceptions import DatabricksResourceConflictError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.operators import DatabricksCreateJobOperator, DatabricksRunNowOperator

WORKSPACE_DIR = "/Shared/reliability"
SECRET_SCOPE = "reliability"
JOB_NAME = "reliability-pipeline"

_FUSE = 'import json, os\nroot = os.environ.get("DATABRICKS_DBFS_FUSE_ROOT", "/dbfs")\n'
NOTEBOOKS = {
    "fetch": _FUSE
    + """dbutils.widgets.text("out", "/reliability/default")
out = root + dbutils.widgets.get("out")
os.makedirs(out, exist_ok=True)
rows = [{"id": i, "amount": i * 10} for i in range(int(dbutils.widgets.get("rows")))]
with open(out + "/raw.json", "w") as f:
    json.dump(rows, f)
dbutils.notebook.exit(json.dumps({"records": len(rows)}))
""",
    "transform": _FUSE
    + """out = root + dbutils.widgets.get("out")
rows = [r for r in json.load(open(out + "/raw.json")) if r["amount"] > 0]
with open(out + "/clean.json", "w") as f:
    json.dump(rows, f)
dbutils.notebook.exit(json.dumps({"kept": len(rows)}))
""",
    "write": _FUSE
    + """out = root + dbutils.widgets.get("out")
rows = json.load(open(out + "/clean.json"))
dbutils.notebook.exit(json.dumps({"written": len(rows), "total": sum(r["amount"] for r in rows)}))
""",
}


def _notebook_task(key: str, depends_on: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "task_key": key,
        "notebook_task": {"notebook_path": f"{WORKSPACE_DIR}/{key}", "source": "WORKSPACE"},
        "job_cluster_key": "pipeline_cluster",
    }
    if depends_on:
        spec["depends_on"] = [{"task_key": depends_on}]
    return spec


JOB_SETTINGS: dict[str, Any] = {
    "name": JOB_NAME,
    "max_concurrent_runs": 1,
    "queue": {"enabled": True},
    "job_clusters": [
        {
            "job_cluster_key": "pipeline_cluster",
            "new_cluster": {
                "spark_version": "15.4.x-scala2.12",
                "node_type_id": "i3.xlarge",
                "num_workers": 1,
            },
        }
    ],
    "parameters": [{"name": "out", "default": "/reliability/default"}, {"name": "rows", "default": "5"}],
    "tasks": [
        _notebook_task("fetch"),
        _notebook_task("transform", "fetch"),
        _notebook_task("write", "transform"),
    ],
}

RETRIES = {"retries": 4, "retry_delay": timedelta(seconds=0)}

with DAG(
    dag_id="reliability_pipeline",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=RETRIES,
):

    @task
    def import_notebooks() -> list[str]:
        hook = DatabricksHook()
        hook.workspace_mkdirs(WORKSPACE_DIR)
        for name, source in NOTEBOOKS.items():
            hook.workspace_import(
                f"{WORKSPACE_DIR}/{name}",
                ("# Databricks notebook source\n" + source).encode(),
                format="SOURCE",
                language="PYTHON",
                overwrite=True,
            )
        return sorted(NOTEBOOKS)

    @task
    def ensure_api_secret() -> str:
        hook = DatabricksHook()
        if SECRET_SCOPE not in {scope["name"] for scope in hook.list_secret_scopes()}:
            try:
                hook.create_secret_scope(SECRET_SCOPE)
            except DatabricksResourceConflictError:
                pass  # an earlier try created it before its answer was lost
        hook.put_secret(SECRET_SCOPE, "api_key", string_value="reliability-demo-key")
        return f"{SECRET_SCOPE}/api_key"

    upsert_job = DatabricksCreateJobOperator(task_id="upsert_job", json=JOB_SETTINGS)

    run_pipeline = DatabricksRunNowOperator(
        task_id="run_pipeline",
        job_id=upsert_job.output,
        job_parameters={
            "out": "/reliability/{{ run_id | replace(':', '_') | replace('+', '_') }}",
            "rows": "5",
        },
        deferrable=True,
        polling_period_seconds=0.2,
    )

    @task
    def report(result: dict[str, Any]) -> dict[str, Any]:
        outputs = {key: json.loads(value) for key, value in (result.get("task_outputs") or {}).items()}
        if outputs["fetch"]["records"] != 5 or outputs["write"]["written"] != 4:
            raise ValueError(f"unexpected notebook outputs: {outputs}")
        return {"run_id": result["run_id"], **outputs["write"]}

    [import_notebooks(), ensure_api_secret()] >> upsert_job
    report(run_pipeline.output)
