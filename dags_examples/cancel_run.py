"""Cancel a Databricks run from Airflow.

A long run is started without waiting for it (`wait_for_termination=False`): the operator returns
as soon as Databricks accepted the run and pushes its `run_id` to XCom. A later task cancels it.
Typical uses: a kill switch, a newer run superseding an older one, or cleaning up after a failure.

`DatabricksCancelRunOperator(job_id=...)` instead cancels every active run of a saved job.
Cancelling is asynchronous in Databricks: the run goes TERMINATING, then TERMINATED/CANCELED.
"""

from __future__ import annotations

import time
from pathlib import Path

import pendulum
from airflow.sdk import DAG, task

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.operators import DatabricksCancelRunOperator, DatabricksSubmitRunOperator

CONN_ID = "databricks_default"
NOTEBOOK = Path(__file__).resolve().parent / "notebooks" / "hello_task.py"
NOTEBOOK_PATH = "/Shared/dbx_examples/hello_task"

with DAG(
    dag_id="cancel_run",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["databricks", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def import_notebook() -> None:
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        hook.workspace_mkdirs(str(Path(NOTEBOOK_PATH).parent))
        hook.workspace_import(
            NOTEBOOK_PATH, NOTEBOOK.read_bytes(), format="SOURCE", language="PYTHON", overwrite=True
        )

    start_long_run = DatabricksSubmitRunOperator(
        task_id="start_long_run",
        databricks_conn_id=CONN_ID,
        run_name="a run that will be cancelled",
        tasks=[
            {
                "task_key": "sleep",
                "new_cluster": {
                    "spark_version": "15.4.x-scala2.12",
                    "node_type_id": "i3.xlarge",
                    "num_workers": 1,
                },
                "notebook_task": {"notebook_path": NOTEBOOK_PATH, "base_parameters": {"seconds": "600"}},
            }
        ],
        wait_for_termination=False,  # fire and forget: we only need the run_id
    )

    cancel = DatabricksCancelRunOperator(
        task_id="cancel",
        databricks_conn_id=CONN_ID,
        run_id="{{ ti.xcom_pull(task_ids='start_long_run', key='run_id') }}",
    )

    @task
    def confirm_cancelled(run_id: str) -> str:
        """Wait (briefly) for the cancellation to land and check the run's final state."""
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = hook.get_run(int(run_id))["state"]
            if state["life_cycle_state"] in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
                if state.get("result_state") != "CANCELED":
                    raise ValueError(f"run {run_id} ended {state.get('result_state')}, expected CANCELED")
                return state["result_state"]
            time.sleep(1)
        raise TimeoutError(f"run {run_id} did not terminate within 120 s of the cancel")

    import_notebook() >> start_long_run >> cancel
    cancel >> confirm_cancelled("{{ ti.xcom_pull(task_ids='start_long_run', key='run_id') }}")
