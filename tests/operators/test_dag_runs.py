"""Operators through real Airflow (``dag.test()``) against the live emulator, sync and deferred."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from tests.operators.support import requests_to, run_dag, runs_created, ti_states, xcom

MODES = ["sync", "deferred"]


@pytest.mark.parametrize("mode", MODES)
def test_pipeline_succeeds_with_xcoms_links_and_rendered_fields(airflow_workspace: Any, mode: str) -> None:
    dag_run = run_dag(f"dbx_ops_pipeline_{mode}", {"greeting": "bonjour"})
    assert dag_run.state == "success", ti_states(dag_run)

    job_id = xcom(dag_run, "create_job")
    assert isinstance(job_id, int) and xcom(dag_run, "create_job", "job_id") == job_id

    result = xcom(dag_run, "run_now")
    assert result["result_state"] == "SUCCESS"
    assert result["task_outputs"] == {"echo": "echo:bonjour"}  # templated notebook_params rendered
    run_id = xcom(dag_run, "run_now", "run_id")
    assert result["run_id"] == run_id
    url = xcom(dag_run, "run_now", "run_page_url")
    assert url and str(run_id) in url
    assert xcom(dag_run, "run_now", "job_id") == job_id
    assert xcom(dag_run, "run_now", "task_outputs") == {"echo": "echo:bonjour"}
    assert xcom(dag_run, "run_now", "_link_DatabricksRunPageLink") == url  # the extra link

    submitted = xcom(dag_run, "submit")
    assert submitted["task_outputs"] == {"first": "echo:bonjour", "second": "echo:hi"}
    run = DatabricksHook().get_run(submitted["run_id"])
    assert run["run_name"] == f"dbx_ops_pipeline_{mode}-bonjour"  # rendered json reached Databricks
    assert runs_created(airflow_workspace) == 2
    # deferred waits go through the trigger's shared poller (runs/list); sync ones never list
    assert (requests_to(airflow_workspace, "runs/list") > 0) == (mode == "deferred")


def test_create_job_is_an_upsert(airflow_workspace: Any) -> None:
    first = xcom(run_dag("dbx_ops_pipeline_sync", {"greeting": "same"}), "create_job")
    second = xcom(run_dag("dbx_ops_pipeline_sync", {"greeting": "same"}), "create_job")
    assert first == second
    assert requests_to(airflow_workspace, "jobs/create") == 1
    assert requests_to(airflow_workspace, "jobs/reset") == 1


@pytest.mark.parametrize("mode", MODES)
def test_failure_is_explained_in_the_log(
    airflow_workspace: Any, mode: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    dag_run = run_dag(f"dbx_ops_fail_{mode}")
    assert dag_run.state == "failed"
    assert ti_states(dag_run)["submit_failing"] == "failed"
    out = capsys.readouterr()
    text = caplog.text + out.out + out.err
    assert "bad input row 42" in text  # the remote error
    assert "load_rows" in text  # from the remote error_trace
    assert "failed tasks: load" in text
    assert "UPSTREAM_FAILED" in text or "upstream task failed" in text  # 'after' told apart
    assert runs_created(airflow_workspace) == 1
    # Each fact once: the trace (quoting the user's line, without the emulator's runner frames)
    # is not repeated by the log tail, and no sentence ends twice.
    assert text.count('Traceback (most recent call last):\n  File "/Shared/dbx_ops/fail"') == 1, text
    assert 'raise ValueError("bad input row 42")' in text
    assert "runtime/runner.py" not in text
    assert "Task 'load' error:" not in text
    assert ".." not in text.replace("...", "")


@pytest.mark.parametrize("mode", MODES)
def test_retry_after_failed_run_launches_a_new_one(airflow_workspace: Any, mode: str) -> None:
    dag_run = run_dag(f"dbx_ops_retry_failed_{mode}")
    assert dag_run.state == "success", ti_states(dag_run)
    assert xcom(dag_run, "submit_flaky")["task_outputs"] == {"flaky": "second attempt"}
    assert runs_created(airflow_workspace) == 2


def test_retry_after_crash_reattaches_to_the_same_run(airflow_workspace: Any) -> None:
    dag_run = run_dag("dbx_ops_retry_crash")
    assert dag_run.state == "success", ti_states(dag_run)
    assert runs_created(airflow_workspace) == 1
    assert requests_to(airflow_workspace, "runs/submit") == 2  # try 2 re-sent the same token


def test_retry_after_success_does_not_relaunch(airflow_workspace: Any) -> None:
    dag_run = run_dag("dbx_ops_retry_after_success")
    assert dag_run.state == "success", ti_states(dag_run)
    assert xcom(dag_run, "submit")["task_outputs"] == {"echo": "echo:hi"}
    assert runs_created(airflow_workspace) == 1


def test_cancel_all_runs_of_a_job_and_wait(airflow_workspace: Any) -> None:
    dag_run = run_dag("dbx_ops_cancel")
    assert dag_run.state == "success", ti_states(dag_run)
    result = xcom(dag_run, "cancel_all")
    assert len(result) == 2
    assert {r["result_state"] for r in result} == {"CANCELED"}
