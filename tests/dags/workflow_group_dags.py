"""DAGs for tests/operators/test_workflow_group.py: ``DatabricksWorkflowTaskGroup`` through ``dag.test()``.

Notebooks live under /Shared/dbx_ops in the emulator (see tests/operators/support.py). Each DAG
exists in a sync and a deferred flavour (``_sync`` / ``_deferred``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_dbx_provider.operators import (
    DatabricksNotebookOperator,
    DatabricksTaskOperator,
    DatabricksWorkflowTaskGroup,
)
from airflow_dbx_provider.operators.workflow import _CreateDatabricksWorkflowOperator

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
JOB_CLUSTERS = [{"job_cluster_key": "shared", "new_cluster": CLUSTER}]
POLL = 0.2
START = pendulum.datetime(2024, 1, 1, tz="UTC")
NB = "/Shared/dbx_ops"


def notebook(task_id: str, name: str, deferrable: bool, **kwargs: Any) -> DatabricksNotebookOperator:
    return DatabricksNotebookOperator(
        task_id=task_id,
        notebook_path=f"{NB}/{name}",
        source="WORKSPACE",
        job_cluster_key="shared",
        polling_period_seconds=POLL,
        deferrable=deferrable,
        **kwargs,
    )


class CrashAfterLaunchOnFirstTry(_CreateDatabricksWorkflowOperator):
    """Stands in for a launch worker lost right after run-now: try 2 must re-attach, not relaunch."""

    def execute(self, context: Any) -> dict[str, Any]:
        result = super().execute(context)
        if context["ti"].try_number == 1:
            raise RuntimeError("worker lost after run-now")
        return result


for mode, deferrable in (("sync", False), ("deferred", True)):
    with DAG(f"dbx_workflow_{mode}", schedule=None, start_date=START, catchup=False) as ok_dag:
        with DatabricksWorkflowTaskGroup(
            group_id="wf",
            job_clusters=JOB_CLUSTERS,
            notebook_params={"greeting": "{{ dag_run.conf.get('greeting', 'hi') }}"},
            notebook_packages=[{"pypi": {"package": "simplejson==3.18.0"}}],
            extra_job_params={"tags": {"team": "data"}, "email_notifications": {"on_failure": ["a@b.c"]}},
        ):
            first = notebook("first", "ok", deferrable)
            second = notebook("second", "ok", deferrable, notebook_params={"greeting": "own"})
            side = DatabricksTaskOperator(
                task_id="side",
                databricks_task_key="side_key",
                task_config={"notebook_task": {"notebook_path": f"{NB}/ok", "source": "WORKSPACE"}},
                job_cluster_key="shared",
                polling_period_seconds=POLL,
                deferrable=deferrable,
            )
            first >> second
    globals()[ok_dag.dag_id] = ok_dag

    with DAG(f"dbx_workflow_fail_{mode}", schedule=None, start_date=START, catchup=False) as fail_dag:
        with DatabricksWorkflowTaskGroup(group_id="wf", job_clusters=JOB_CLUSTERS):
            load = notebook("load", "ok", deferrable)
            broken = notebook("broken", "fail", deferrable)
            after = notebook("after", "ok", deferrable)
            parallel = notebook("parallel", "ok", deferrable)
            load >> broken >> after
    globals()[fail_dag.dag_id] = fail_dag

    with DAG(
        f"dbx_workflow_retry_{mode}",
        schedule=None,
        start_date=START,
        catchup=False,
        default_args={"retries": 1, "retry_delay": timedelta(seconds=0)},
    ) as retry_dag:
        with DatabricksWorkflowTaskGroup(group_id="wf", job_clusters=JOB_CLUSTERS):
            flaky = notebook("flaky", "flaky", deferrable, notebook_params={"marker": f"wf-{mode}"})
            downstream = notebook("downstream", "ok", deferrable)
            flaky >> downstream
    globals()[retry_dag.dag_id] = retry_dag

with DAG(
    "dbx_workflow_launch_crash",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=0)},
) as crash_dag:
    with DatabricksWorkflowTaskGroup(group_id="wf", job_clusters=JOB_CLUSTERS):
        notebook("only", "ok", False)
crash_dag.get_task("wf.launch").__class__ = CrashAfterLaunchOnFirstTry

#: A notebook the clear test writes failing, then fixes (tests/operators/test_workflow_group.py).
FIXABLE = f"{NB}/fixable"

for mode, deferrable in (("sync", False), ("deferred", True)):
    with DAG(f"dbx_workflow_clear_{mode}", schedule=None, start_date=START, catchup=False) as clear_dag:
        with DatabricksWorkflowTaskGroup(group_id="wf", job_clusters=JOB_CLUSTERS):
            load = notebook("load", "ok", deferrable)
            fixable = notebook("fixable", "fixable", deferrable)
            report = notebook("report", "ok", deferrable)
            load >> fixable >> report
    globals()[clear_dag.dag_id] = clear_dag
