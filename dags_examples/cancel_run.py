"""Cancel a Databricks run from Airflow.

A long run is started without waiting for it (`wait_for_termination=False`): the operator returns
as soon as Databricks accepted the run and pushes its `run_id` to XCom. A later task cancels it.
Typical uses: a kill switch, a newer run superseding an older one, or cleaning up after a failure.

`DatabricksCancelRunOperator(job_id=...)` instead cancels every active run of a saved job.
Cancelling is asynchronous in Databricks: the run goes TERMINATING, then TERMINATED/CANCELED.
"""

from __future__ import annotations

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

    # Waits (wait_for_termination=True, the default) until the run has actually stopped and
    # returns [{"run_id": ..., "result_state": "CANCELED"}].
    cancel = DatabricksCancelRunOperator(
        task_id="cancel",
        databricks_conn_id=CONN_ID,
        run_id="{{ ti.xcom_pull(task_ids='start_long_run', key='run_id') }}",
        polling_period_seconds=1,
    )

    @task
    def confirm_cancelled(cancelled: list[dict]) -> int:
        """Act on the outcome: here, insist the run really ended CANCELED and did not finish first."""
        for run in cancelled:
            if run["result_state"] != "CANCELED":
                raise ValueError(f"run {run['run_id']} ended {run['result_state']}, expected CANCELED")
        return len(cancelled)

    import_notebook() >> start_long_run >> cancel
    confirm_cancelled(cancel.output)
