"""Several notebooks as one Databricks job, run once per DAG run: `DatabricksWorkflowTaskGroup`.

The three notebook tasks inside the group become the tasks of one job, `workflow_group.daily_sales`
(created on the first run, reset on later ones), sharing one job cluster; `extract >> aggregate >>
publish` becomes their `depends_on`. The group's `launch` task starts one run of that job per DAG
run, and each Airflow task follows its own Databricks task: its state, its run page (the
**Databricks run** link), the notebook's exit value (`task_outputs` XCom), its error when it fails.

**Clearing repairs.** When a task fails, clear it (with its downstream) in the Airflow UI: the
cleared tasks repair their own Databricks tasks in the *same* run (`runs/repair`), the tasks that
succeeded are not run again, and no new run starts. Trigger with `fail_first_attempt` on to see it:
`aggregate` fails the first time it runs in a DAG run and succeeds once repaired. (With
`retries=1` on a task, Airflow's retry repairs it the same way, without anyone clearing it.)

Set-up tasks first import the notebooks (`DatabricksImportNotebookOperator`), so the DAG ships the
code its job runs.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param

from airflow_dbx_provider.operators import (
    DatabricksImportNotebookOperator,
    DatabricksNotebookOperator,
    DatabricksWorkflowTaskGroup,
)

CONN_ID = "databricks_default"
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
WORKSPACE_DIR = "/Shared/dbx_examples/workflow_group"
CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
# How often each task checks its Databricks task (default 30 s); short tasks deserve a short period.
POLL_SECONDS = 1

with DAG(
    dag_id="workflow_group",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["databricks", "example"],
    doc_md=__doc__,
    params={
        "fail_first_attempt": Param(
            False,
            type="boolean",
            title="Fail the first attempt of aggregate",
            description=(
                "aggregate fails the first time it runs in this DAG run and succeeds after: clear it"
                " (with its downstream) to repair it in the same Databricks run."
            ),
        ),
    },
) as dag:
    imports = [
        DatabricksImportNotebookOperator(
            task_id=f"import_{name}",
            databricks_conn_id=CONN_ID,
            source_file=str(NOTEBOOKS / f"wf_{name}.py"),
            workspace_path=f"{WORKSPACE_DIR}/wf_{name}",
        )
        for name in ("extract", "aggregate", "publish")
    ]

    with DatabricksWorkflowTaskGroup(
        group_id="daily_sales",
        databricks_conn_id=CONN_ID,
        job_clusters=[{"job_cluster_key": "shared", "new_cluster": CLUSTER}],
        # Every notebook's base_parameters (the group's win over a task's own): one DBFS folder
        # per DAG run, shared by the three tasks.
        notebook_params={"run_key": "{{ run_id }}"},
    ) as daily_sales:

        def notebook(name: str, **params: str) -> DatabricksNotebookOperator:
            return DatabricksNotebookOperator(
                task_id=name,
                databricks_task_key=name,  # readable task keys in the job (default: a hash)
                databricks_conn_id=CONN_ID,
                notebook_path=f"{WORKSPACE_DIR}/wf_{name}",
                source="WORKSPACE",
                job_cluster_key="shared",  # one of the group's job_clusters
                notebook_params=params,
                polling_period_seconds=POLL_SECONDS,
            )

        extract = notebook("extract", rows="30")
        aggregate = notebook("aggregate", fail_first_attempt="{{ params.fail_first_attempt }}")
        publish = notebook("publish", report_title="Daily sales by store")
        extract >> aggregate >> publish

    imports >> daily_sales
