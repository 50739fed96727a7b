"""One-time runs (runs/submit) on the two kinds of compute.

* **Ephemeral job cluster** (`new_cluster`): created for the run, deleted after it. Cheapest per
  DBU and isolated; you pay the start-up time on every run. The default for scheduled pipelines.
* **All-purpose cluster** (`existing_cluster_id`): already running, shared, billed at the
  interactive rate. Starts instantly, so it suits many small, latency-sensitive runs.

Here the all-purpose cluster is created by a set-up task and terminated by a teardown task,
which Airflow runs even when the runs in between fail.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG, task

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.operators import DatabricksSubmitRunOperator

CONN_ID = "databricks_default"
NOTEBOOK = Path(__file__).resolve().parent / "notebooks" / "hello_task.py"
NOTEBOOK_PATH = "/Shared/dbx_examples/hello_task"
CLUSTER_SPEC = {
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 1,
}

with DAG(
    dag_id="submit_run_ephemeral_vs_all_purpose",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["databricks", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def import_notebook() -> str:
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        hook.workspace_mkdirs(str(Path(NOTEBOOK_PATH).parent))
        hook.workspace_import(
            NOTEBOOK_PATH, NOTEBOOK.read_bytes(), format="SOURCE", language="PYTHON", overwrite=True
        )
        return NOTEBOOK_PATH

    @task
    def create_all_purpose_cluster() -> str:
        """Create the shared cluster and wait until it accepts work; returns its id (an XCom)."""
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        cluster_id = hook.create_cluster(
            {
                **CLUSTER_SPEC,
                "cluster_name": "dbx-examples-all-purpose",
                # A safety net in case the teardown never runs (e.g. the Airflow worker dies).
                "autotermination_minutes": 30,
            }
        )
        hook.wait_for_cluster_state(cluster_id, ["RUNNING"], timeout_seconds=900, poll_seconds=2)
        return cluster_id

    @task
    def terminate_cluster(cluster_id: str) -> None:
        DatabricksHook(databricks_conn_id=CONN_ID).terminate_cluster(cluster_id)

    notebook = import_notebook()
    cluster_id = create_all_purpose_cluster()

    # `tasks=` with a `new_cluster` per task: Databricks starts a cluster for this run only.
    on_ephemeral_cluster = DatabricksSubmitRunOperator(
        task_id="on_ephemeral_cluster",
        databricks_conn_id=CONN_ID,
        run_name="hello on a job cluster",
        # Deferrable: the wait (cluster start + run) happens in the triggerer, freeing the worker slot.
        deferrable=True,
        # How often to check the run (default 30 s); short runs deserve a shorter period.
        polling_period_seconds=3,
        tasks=[
            {
                "task_key": "hello",
                "new_cluster": CLUSTER_SPEC,
                "notebook_task": {
                    "notebook_path": NOTEBOOK_PATH,
                    "base_parameters": {"message": "ran on an ephemeral job cluster"},
                },
            }
        ],
    )

    # `json=` holds a whole runs/submit body; the cluster id is an XCom resolved when the task runs.
    on_all_purpose_cluster = DatabricksSubmitRunOperator(
        task_id="on_all_purpose_cluster",
        databricks_conn_id=CONN_ID,
        polling_period_seconds=3,
        json={
            "run_name": "hello on the all-purpose cluster",
            "tasks": [
                {
                    "task_key": "hello",
                    "existing_cluster_id": cluster_id,
                    "notebook_task": {
                        "notebook_path": NOTEBOOK_PATH,
                        "base_parameters": {"message": "ran on an all-purpose cluster"},
                    },
                }
            ],
        },
    )

    notebook >> [on_ephemeral_cluster, on_all_purpose_cluster]
    # as_teardown: runs after the runs whatever their outcome, and does not decide the DAG run's state.
    on_all_purpose_cluster >> terminate_cluster(cluster_id).as_teardown(setups=cluster_id)
