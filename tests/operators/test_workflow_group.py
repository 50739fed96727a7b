"""``DatabricksWorkflowTaskGroup`` through real Airflow (``dag.test()``) against the live emulator.

One Databricks job and one run per DAG run; each member follows its own task; a failed notebook
fails exactly its Airflow task with the remote error; a retried member repairs its task in the same
run; a retried launch re-attaches. The official example DAG runs here with its import lines changed.
Clearing in the UI (REST API of a real Airflow) is in tests/e2e/test_workflow_repair.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from tests.operators.official_compute import allow_example_compute
from tests.operators.support import connection_json, requests_to, runs_created, ti_states, xcom

MODES = ["sync", "deferred"]
DAGS = Path(__file__).resolve().parents[1] / "dags"
EXAMPLE = DAGS / "official_examples" / "example_databricks_workflow.py"


def run_dag(dag_id: str, conf: dict[str, Any] | None = None, dag_file: Path | None = None) -> Any:
    from tests.airflow_workspace import load_dag

    return load_dag(str(dag_file or DAGS / "workflow_group_dags.py"), dag_id).test(run_conf=conf or {})


def the_run(dag_run: Any) -> dict[str, Any]:
    run_id = xcom(dag_run, "wf.launch", "run_id")
    return DatabricksHook().get_run(int(run_id), include_history=True)


@pytest.mark.parametrize("mode", MODES)
def test_one_job_and_one_run_per_dag_run(airflow_workspace: Any, mode: str) -> None:
    dag_run = run_dag(f"dbx_workflow_{mode}", {"greeting": "bonjour"})
    states = ti_states(dag_run)
    assert dag_run.state == "success", states
    assert set(states) == {"wf.launch", "wf.first", "wf.second", "wf.side"}
    assert runs_created(airflow_workspace) == 1
    assert requests_to(airflow_workspace, "jobs/create") == 1
    assert requests_to(airflow_workspace, "jobs/run-now") == 1

    launched = xcom(dag_run, "wf.launch")
    assert set(launched) == {"conn_id", "job_id", "run_id"}
    run = the_run(dag_run)
    assert run["run_id"] == launched["run_id"] and run["job_id"] == launched["job_id"]
    job = DatabricksHook().get_job(launched["job_id"])["settings"]
    assert job["name"] == f"dbx_workflow_{mode}.wf"
    assert job["tags"] == {"team": "data"}  # extra_job_params merged over the generated settings
    assert job["email_notifications"]["on_failure"] == ["a@b.c"]
    tasks = {t["task_key"]: t for t in job["tasks"]}
    first_key, second_key = (xcom(dag_run, f"wf.{name}")["task_outputs"] for name in ("first", "second"))
    (first_key,) = first_key
    (second_key,) = second_key
    assert tasks[second_key]["depends_on"] == [{"task_key": first_key}]  # Airflow >> became depends_on
    assert tasks["side_key"]["depends_on"] == []
    assert {t["job_cluster_key"] for t in tasks.values()} == {"shared"}
    assert {"pypi": {"package": "simplejson==3.18.0"}} in tasks[first_key]["libraries"]

    # each member returns its own task's output; the group's notebook_params win, rendered
    assert xcom(dag_run, "wf.first", "task_outputs") == {first_key: "echo:bonjour"}
    assert xcom(dag_run, "wf.second", "task_outputs") == {second_key: "echo:bonjour"}
    assert xcom(dag_run, "wf.side", "task_outputs") == {"side_key": "echo:bonjour"}
    assert xcom(dag_run, "wf.side", "run_page_url") == run["run_page_url"]
    # the three tasks shared one job cluster
    clusters = {t["cluster_instance"]["cluster_id"] for t in run["tasks"]}
    assert len(clusters) == 1
    # sync members wait with runs/get only; a deferred member lists through the shared poller,
    # unless its task had already ended when it looked (then it never defers: timing, not a rule)
    if mode == "sync":
        assert requests_to(airflow_workspace, "runs/list") == 0


def test_the_next_dag_run_resets_the_same_job_and_starts_a_second_run(airflow_workspace: Any) -> None:
    first = xcom(run_dag("dbx_workflow_sync"), "wf.launch")
    second = xcom(run_dag("dbx_workflow_sync"), "wf.launch")
    assert first["job_id"] == second["job_id"] and first["run_id"] != second["run_id"]
    assert requests_to(airflow_workspace, "jobs/create") == 1
    assert requests_to(airflow_workspace, "jobs/reset") == 1
    assert runs_created(airflow_workspace) == 2


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_notebook_fails_exactly_its_task_with_the_remote_error(
    airflow_workspace: Any, mode: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    dag_run = run_dag(f"dbx_workflow_fail_{mode}")
    states = ti_states(dag_run)
    assert dag_run.state == "failed"
    assert states == {
        "wf.launch": "success",
        "wf.load": "success",
        "wf.broken": "failed",
        "wf.after": "upstream_failed",
        "wf.parallel": "success",
    }
    out = capsys.readouterr()
    text = caplog.text + out.out + out.err
    assert "bad input row 42" in text  # the remote error, in the failed task's log
    assert "load_rows" in text  # from its error_trace
    assert runs_created(airflow_workspace) == 1
    assert requests_to(airflow_workspace, "runs/repair") == 0  # a first try reports, never repairs


@pytest.mark.parametrize("mode", MODES)
def test_a_retried_member_repairs_its_task_in_the_same_run(airflow_workspace: Any, mode: str) -> None:
    dag_run = run_dag(f"dbx_workflow_retry_{mode}")
    assert dag_run.state == "success", ti_states(dag_run)
    assert runs_created(airflow_workspace) == 1
    run = the_run(dag_run)
    history = run["repair_history"]
    # flaky's try 2 repaired flaky; then downstream (UPSTREAM_FAILED in Databricks) repaired itself
    assert [h["type"] for h in history] == ["ORIGINAL", "REPAIR", "REPAIR"]
    assert requests_to(airflow_workspace, "runs/repair") == 2
    (flaky_key,) = xcom(dag_run, "wf.flaky", "task_outputs")
    assert xcom(dag_run, "wf.flaky", "task_outputs") == {flaky_key: "second attempt"}
    assert run["state"]["result_state"] == "SUCCESS"


def test_a_retried_launch_reattaches_to_its_run(airflow_workspace: Any) -> None:
    dag_run = run_dag("dbx_workflow_launch_crash")
    assert dag_run.state == "success", ti_states(dag_run)
    assert requests_to(airflow_workspace, "jobs/run-now") == 2  # try 2 re-sent the same token
    assert runs_created(airflow_workspace) == 1


@pytest.fixture
def example_workspace(airflow_workspace: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    root = Path(airflow_workspace.config.workspace_dir)
    for name in ("Notebook_1", "Notebook_2"):
        target = root / "Shared" / f"{name}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("# Databricks notebook source\ndbutils.notebook.exit('done')\n")
    allow_example_compute(airflow_workspace, monkeypatch)  # their old runtimes and node types
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", connection_json(airflow_workspace))
    return airflow_workspace


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_official_example_workflow_dag(
    example_workspace: Any, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    from tests.airflow_workspace import load_dag

    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", str(mode == "deferred"))
    monkeypatch.setenv("EXAMPLE_WORKFLOW_DAG_ID", f"example_databricks_workflow_{mode}")
    dag = load_dag(str(EXAMPLE), f"example_databricks_workflow_{mode}")
    for task in dag.tasks:
        if hasattr(task, "polling_period_seconds"):
            task.polling_period_seconds = 0.2
    dag_run = dag.test()
    states = ti_states(dag_run)
    assert dag_run.state == "success", states
    assert len(states) == 5 and all(state == "success" for state in states.values())
    assert runs_created(example_workspace) == 1
    if mode == "sync":
        assert requests_to(example_workspace, "runs/list") == 0
