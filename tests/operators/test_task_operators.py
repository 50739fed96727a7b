"""DatabricksNotebookOperator and DatabricksTaskOperator standalone, against the live emulator."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest

from airflow_dbx_provider.exceptions import DatabricksConfigError, DatabricksRunFailedError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.operators import DatabricksNotebookOperator, DatabricksTaskOperator
from tests.operators.support import CLUSTER, notebook_path, requests_to, runs_created
from tests.support.task_instance import FakeTaskInstance

FAST = {"polling_period_seconds": 0.1}


def test_notebook_operator_submits_one_task_and_returns_its_output(workspace: Any) -> None:
    op = DatabricksNotebookOperator(
        task_id="nb",
        notebook_path=notebook_path("ok"),
        source="WORKSPACE",
        notebook_params={"greeting": "notebook"},
        notebook_packages=[{"pypi": {"package": "simplejson==3.18.0"}}],
        new_cluster=CLUSTER,
        execution_timeout=timedelta(minutes=5),
        **FAST,
    )
    ti = FakeTaskInstance()
    result = op.execute({"ti": ti})  # type: ignore[arg-type]
    key = hashlib.md5(f"{op.dag_id}__nb".encode()).hexdigest()  # the official default task key
    assert op.databricks_task_key == key
    assert result["task_outputs"] == {key: "echo:notebook"}
    assert {"run_id", "run_page_url"} <= set(ti.xcoms)
    task = DatabricksHook().get_run(result["run_id"])["tasks"][0]
    assert task["timeout_seconds"] == 300
    assert task["libraries"] == [{"pypi": {"package": "simplejson==3.18.0"}}]


def test_task_operator_runs_a_task_config_on_an_existing_cluster(workspace: Any) -> None:
    cluster_id = DatabricksHook().create_cluster({"cluster_name": "shared", **CLUSTER})
    op = DatabricksTaskOperator(
        task_id="task",
        databricks_task_key="my_key",
        existing_cluster_id=cluster_id,
        task_config={"notebook_task": {"notebook_path": notebook_path("ok"), "source": "WORKSPACE"}},
        max_retries=0,
        **FAST,
    )
    result = op.execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    assert result["task_outputs"] == {"my_key": "echo:hi"}


def test_a_retried_try_reattaches_instead_of_submitting_again(workspace: Any) -> None:
    op = DatabricksNotebookOperator(
        task_id="nb", notebook_path=notebook_path("ok"), source="WORKSPACE", new_cluster=CLUSTER, **FAST
    )
    first = op.execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    again = op.execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    assert again["run_id"] == first["run_id"]
    assert runs_created(workspace) == 1 and requests_to(workspace, "runs/submit") == 2


def test_a_failed_notebook_fails_the_task_with_the_remote_error(
    workspace: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    op = DatabricksNotebookOperator(
        task_id="nb", notebook_path=notebook_path("fail"), source="WORKSPACE", new_cluster=CLUSTER, **FAST
    )
    with pytest.raises(DatabricksRunFailedError, match="failed"):
        op.execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    out = capsys.readouterr()
    assert "bad input row 42" in caplog.text + out.out + out.err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"job_cluster_key": "shared"}, "job_cluster_key 'shared' needs a Databricks workflow"),
        ({}, "give new_cluster or existing_cluster_id"),
        ({"new_cluster": CLUSTER, "existing_cluster_id": "c"}, "not both"),
    ],
    ids=["job-cluster-standalone", "no-compute", "two-computes"],
)
def test_compute_is_checked_before_any_api_call(workspace: Any, kwargs: dict[str, Any], message: str) -> None:
    before = workspace.counters()["total_requests"]
    op = DatabricksTaskOperator(task_id="t", task_config={"notebook_task": {"notebook_path": "/x"}}, **kwargs)
    with pytest.raises(DatabricksConfigError, match=message):
        op.execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    assert workspace.counters()["total_requests"] == before
