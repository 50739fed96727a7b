"""DatabricksRunSensor in poke, reschedule and deferrable modes, through ``dag.test()``."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.sensors import DatabricksRunSensor
from tests.operators.support import requests_to, run_dag, ti_states, xcom


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_sensor_succeeds_on_success_and_soft_fails_on_failure(airflow_workspace: Any, mode: str) -> None:
    dag_run = run_dag(f"dbx_ops_sensor_{mode}")
    states = ti_states(dag_run)
    assert states == {"start_runs": "success", "wait_good": "success", "wait_bad_soft": "skipped"}, states
    good_run = xcom(dag_run, "start_runs")["good"]
    summary = xcom(dag_run, "wait_good")
    assert summary["run_id"] == good_run
    assert summary["run_state"]["result_state"] == "SUCCESS"
    assert xcom(dag_run, "wait_good", "run_page_url")
    assert (requests_to(airflow_workspace, "runs/list") > 0) == (mode == "deferrable")


def test_sensor_follows_the_latest_run_of_a_job_by_name(airflow_workspace: Any) -> None:
    dag_run = run_dag("dbx_ops_sensor_job_name")
    assert ti_states(dag_run)["wait_latest"] == "success"
    assert xcom(dag_run, "wait_latest")["run_id"] == xcom(dag_run, "start_job_run")


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"run_id": 1, "job_id": 2}, {"job_id": 2, "job_name": "x"}],
    ids=["none", "run-and-job", "job-id-and-name"],
)
def test_sensor_needs_exactly_one_target(kwargs: dict[str, Any]) -> None:
    with pytest.raises(DatabricksConfigError, match="exactly one of run_id, job_id and job_name"):
        DatabricksRunSensor(task_id="s", **kwargs)
