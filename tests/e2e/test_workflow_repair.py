"""Clearing a failed workflow-group task through a real Airflow's REST API repairs the same run.

`dags_examples/workflow_group.py` triggered with `fail_first_attempt: true`: its `aggregate`
notebook fails the first time it runs in the DAG run, so the DAG run fails (`publish` is
upstream_failed). Clearing `aggregate` with its downstream, as the UI's Clear does
(`POST /api/v2/dags/{dag_id}/clearTaskInstances`), must not start a second Databricks run: the
cleared tasks repair their own tasks in the run `launch` started, and the task that succeeded is
not run again. The dag.test() version of this (without a real scheduler) is in
tests/operators/test_workflow_group.py.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import RealAirflow, wait_for_dag, wait_for_run

pytestmark = pytest.mark.slow
DAG_ID = "workflow_group"
GROUP = "daily_sales"
MEMBERS = ("extract", "aggregate", "publish")


def _task_instances(airflow: RealAirflow, token: str, run_id: str) -> dict[str, dict[str, Any]]:
    path = f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id)}/taskInstances"
    return {ti["task_id"]: ti for ti in airflow.api("GET", path, token=token)["task_instances"]}


def _xcom(airflow: RealAirflow, token: str, run_id: str, task_id: str, key: str) -> Any:
    path = f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id)}/taskInstances/{task_id}/xcomEntries/{key}"
    return airflow.api("GET", f"{path}?deserialize=true", token=token)["value"]


def _databricks_run(airflow: RealAirflow, run_id: int) -> dict[str, Any]:
    """runs/get with its repair history, straight from the emulator's Jobs API."""
    emulator = airflow.emulator
    request = urllib.request.Request(
        f"{emulator.url}/api/2.1/jobs/runs/get?run_id={run_id}&include_history=true",
        headers={"Authorization": f"Bearer {emulator.admin_token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_clearing_a_failed_member_repairs_the_same_databricks_run(real_airflow: RealAirflow) -> None:
    token = real_airflow.token()
    wait_for_dag(real_airflow, token, DAG_ID)
    real_airflow.api("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False}, token=token)
    runs_before = real_airflow.emulator.counters()["runs_created"]

    run_id = f"repair_{uuid.uuid4().hex[:8]}"
    real_airflow.api(
        "POST",
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        {"dag_run_id": run_id, "logical_date": None, "conf": {"fail_first_attempt": True}},
        token=token,
    )
    state = wait_for_run(real_airflow, token, DAG_ID, run_id, timeout=90, poll=0.5)
    assert state == "failed", real_airflow.task_logs(DAG_ID, run_id)
    states = {task_id: ti["state"] for task_id, ti in _task_instances(real_airflow, token, run_id).items()}
    assert states == {
        "import_extract": "success",
        "import_aggregate": "success",
        "import_publish": "success",
        f"{GROUP}.launch": "success",
        f"{GROUP}.extract": "success",
        f"{GROUP}.aggregate": "failed",
        f"{GROUP}.publish": "upstream_failed",
    }
    launched = _xcom(real_airflow, token, run_id, f"{GROUP}.launch", "return_value")
    databricks_run_id = int(launched["run_id"])
    assert _databricks_run(real_airflow, databricks_run_id)["state"]["result_state"] == "FAILED"

    # The UI's "Clear" on the failed task, with "Downstream" and "Only failed" ticked.
    cleared = real_airflow.api(
        "POST",
        f"/api/v2/dags/{DAG_ID}/clearTaskInstances",
        {
            "dag_run_id": run_id,
            "task_ids": [f"{GROUP}.aggregate"],
            "only_failed": True,
            "include_downstream": True,
            "dry_run": False,
        },
        token=token,
    )
    assert {ti["task_id"] for ti in cleared["task_instances"]} == {f"{GROUP}.aggregate", f"{GROUP}.publish"}

    state = wait_for_run(real_airflow, token, DAG_ID, run_id, timeout=90, poll=0.5)
    assert state == "success", real_airflow.task_logs(DAG_ID, run_id)
    tis = _task_instances(real_airflow, token, run_id)
    assert {task_id: ti["state"] for task_id, ti in tis.items()} == dict.fromkeys(states, "success")
    tries = {name: tis[f"{GROUP}.{name}"]["try_number"] for name in MEMBERS}
    # publish never ran before (upstream_failed): its first try finds its task UPSTREAM_FAILED and repairs
    assert tries == {"extract": 1, "aggregate": 2, "publish": 1}

    # One Databricks run for the DAG run, repaired in place: no new run for the cleared tasks.
    assert real_airflow.emulator.counters()["runs_created"] - runs_before == 1
    run = _databricks_run(real_airflow, databricks_run_id)
    assert run["state"]["result_state"] == "SUCCESS"
    key_of = {task["run_id"]: task["task_key"] for task in run["tasks"]}
    history = [(h["type"], sorted(key_of[i] for i in h["task_run_ids"])) for h in run["repair_history"]]
    # aggregate's try 2 repaired aggregate only; publish (UPSTREAM_FAILED until then) then itself
    assert history == [
        ("ORIGINAL", ["aggregate", "extract", "publish"]),
        ("REPAIR", ["aggregate"]),
        ("REPAIR", ["publish"]),
    ]
    attempts = [task["task_key"] for task in run["tasks"]]
    assert {name: attempts.count(name) for name in MEMBERS} == {"extract": 1, "aggregate": 2, "publish": 2}
    # the repaired publish read what the repaired aggregate wrote
    outputs = _xcom(real_airflow, token, run_id, f"{GROUP}.publish", "task_outputs")
    assert json.loads(outputs["publish"])["title"] == "Daily sales by store"
    assert _xcom(real_airflow, token, run_id, f"{GROUP}.launch", "return_value") == launched
