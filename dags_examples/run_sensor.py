"""Wait for a Databricks run that something else started.

Here a plain @task starts the run with the hook (standing in for a CI pipeline, another team's
scheduler, or a Databricks schedule) and returns its `run_id`. `DatabricksRunSensor` then waits
for that run; in deferrable mode the wait happens in the triggerer and holds no worker slot.
The sensor succeeds when the run succeeds and fails the task when the run fails.

To wait for "the latest run of job X" instead, pass `job_name=` (or `job_id=`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pendulum
from airflow.sdk import DAG, task

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.sensors import DatabricksRunSensor

CONN_ID = "databricks_default"
NOTEBOOK = Path(__file__).resolve().parent / "notebooks" / "hello_task.py"
NOTEBOOK_PATH = "/Shared/dbx_examples/hello_task"

with DAG(
    dag_id="run_sensor",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["databricks", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def start_run_elsewhere() -> int:
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        hook.workspace_mkdirs(str(Path(NOTEBOOK_PATH).parent))
        hook.workspace_import(
            NOTEBOOK_PATH, NOTEBOOK.read_bytes(), format="SOURCE", language="PYTHON", overwrite=True
        )
        return hook.submit_run(
            {
                "run_name": "started outside the sensor",
                "tasks": [
                    {
                        "task_key": "hello",
                        "new_cluster": {
                            "spark_version": "15.4.x-scala2.12",
                            "node_type_id": "i3.xlarge",
                            "num_workers": 1,
                        },
                        "notebook_task": {
                            "notebook_path": NOTEBOOK_PATH,
                            "base_parameters": {"seconds": "3"},
                        },
                    }
                ],
            }
        )

    run_id = start_run_elsewhere()

    wait_for_run = DatabricksRunSensor(
        task_id="wait_for_run",
        databricks_conn_id=CONN_ID,
        run_id=run_id,  # an XComArg: rendered to the returned run_id when the sensor runs
        deferrable=True,
        poke_interval=2,
        timeout=30 * 60,
    )

    @task
    def read_output(databricks_run_id: int) -> dict:
        """Output is per task run: look the task up in the parent run, then ask for its output."""
        # (not `run_id`: that name is reserved for the Airflow context's own run_id)
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        task_run = hook.get_run(databricks_run_id)["tasks"][0]
        return json.loads(hook.get_run_output(task_run["run_id"])["notebook_output"]["result"])

    wait_for_run >> read_output(run_id)
