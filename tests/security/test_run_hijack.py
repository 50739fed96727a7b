"""Run hijack through the idempotency token: another workspace user cannot make our task adopt
their run (issue 11). Real HTTP against the emulator; alice is an ordinary second user.

- The derived token is keyed with a deployment secret: a token computed the old, public way
  (sha256 of dag_id, task_id, run_id, map_index) no longer collides with ours.
- A run returned for our token is checked before use: job_id (run-now), run_name and task keys
  (submit), and on re-attach its creator against SCIM Me. A foreign run fails the task with one
  line naming the run and what differed, and none of its ids reaches XCom.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from airflow_dbx_provider.emulator import EmulatorServer
from airflow_dbx_provider.operators import DatabricksRunNowOperator, DatabricksSubmitRunOperator
from airflow_dbx_provider.operators.idempotency import ForeignRunError, base_token, token_key
from tests.security.conftest import ADMIN_PAT, USER, USER_PAT, api

DAG_ID, TASK_ID, RUN_ID = "nightly", "load", "scheduled__2026-01-01T00:00:00+00:00"
CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}


def _job(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "tasks": [{"task_key": "jar", "new_cluster": CLUSTER, "spark_jar_task": {"main_class_name": "M"}}],
    }


class TI:
    dag_id, task_id, run_id, map_index = DAG_ID, TASK_ID, RUN_ID, -1

    def __init__(self, try_number: int = 1) -> None:
        self.try_number = try_number
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        return None


@pytest.fixture
def workspace(secure_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    conn = {"conn_type": "dbx", "host": secure_emulator.url, "password": ADMIN_PAT}
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW__DBX_PROVIDER__IDEMPOTENCY_SECRET", "deployment-secret-for-tests")
    return secure_emulator


def _create_job(server: EmulatorServer, token: str, name: str) -> int:
    resp = api(server, token, "POST", "2.2/jobs/create", _job(name))
    assert resp.status_code == 200, resp.text
    return int(resp.json()["job_id"])


def _run_now(server: EmulatorServer, token: str, job_id: int, idem: str) -> int:
    resp = api(server, token, "POST", "2.2/jobs/run-now", {"job_id": job_id, "idempotency_token": idem})
    assert resp.status_code == 200, resp.text
    return int(resp.json()["run_id"])


def _scim_calls(server: EmulatorServer) -> int:
    return sum(sum(v.values()) for k, v in server.counters()["requests"].items() if "scim" in k.lower())


def test_token_is_keyed_by_the_deployment_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__DBX_PROVIDER__IDEMPOTENCY_SECRET", "one")
    key_one, source = token_key()
    assert source == "[dbx_provider] idempotency_secret"
    monkeypatch.setenv("AIRFLOW__DBX_PROVIDER__IDEMPOTENCY_SECRET", "two")
    key_two, _ = token_key()
    one = base_token(DAG_ID, TASK_ID, RUN_ID, -1, key=key_one)
    monkeypatch.setenv("AIRFLOW__DBX_PROVIDER__IDEMPOTENCY_SECRET", "one")
    assert one == base_token(DAG_ID, TASK_ID, RUN_ID, -1, key=token_key()[0])  # stable across calls
    assert one != base_token(DAG_ID, TASK_ID, RUN_ID, -1, key=key_two)
    public = (
        "airflow-"
        + hashlib.sha256("\x1f".join(["dbx-run", DAG_ID, TASK_ID, RUN_ID, "-1"]).encode()).hexdigest()
    )
    assert one != public[:64] and len(one) == 64


def test_without_airflow_secrets_the_connection_credential_keys_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DBX_PROVIDER__IDEMPOTENCY_SECRET", "API_AUTH__JWT_SECRET", "CORE__FERNET_KEY"):
        monkeypatch.setenv(f"AIRFLOW__{name}", "")
    key, source = token_key(("dapi-connection-pat",))
    assert source == "the connection's credential"
    assert key != token_key(("another-pat",))[0]


def test_a_run_pre_submitted_under_the_old_public_token_is_not_adopted(workspace: EmulatorServer) -> None:
    ours = _create_job(workspace, ADMIN_PAT, "ours")
    theirs = _create_job(workspace, USER_PAT, "alice's")
    public = (
        "airflow-"
        + hashlib.sha256("\x1f".join(["dbx-run", DAG_ID, TASK_ID, RUN_ID, "-1"]).encode()).hexdigest()
    )[:64]
    planted = _run_now(workspace, USER_PAT, theirs, public)
    ti = TI()
    op = DatabricksRunNowOperator(task_id=TASK_ID, job_id=ours, wait_for_termination=False)
    result = op.execute({"ti": ti})  # type: ignore[arg-type]
    assert result["run_id"] != planted and ti.pushed["run_id"] == result["run_id"]
    assert ti.pushed["job_id"] == ours
    assert _scim_calls(workspace) == 0  # a fresh run of the first try costs no identity lookup


def test_run_now_refuses_a_run_of_another_job_under_its_token(workspace: EmulatorServer) -> None:
    ours = _create_job(workspace, ADMIN_PAT, "ours")
    theirs = _create_job(workspace, USER_PAT, "alice's")
    planted = _run_now(workspace, USER_PAT, theirs, "nightly-load")  # a predictable, user-chosen token
    ti = TI()
    op = DatabricksRunNowOperator(task_id=TASK_ID, job_id=ours, idempotency_token="nightly-load")
    with pytest.raises(ForeignRunError) as info:
        op.execute({"ti": ti})  # type: ignore[arg-type]
    assert str(info.value) == (
        f"Databricks run {planted} returned for this task's idempotency token is not the run it would "
        f"have started (job_id {theirs} instead of {ours}); refusing to use it"
    )
    assert ti.pushed == {}


def test_submit_refuses_a_run_with_another_name_or_tasks(workspace: EmulatorServer) -> None:
    body = {"run_name": "evil", "idempotency_token": "nightly-load", "tasks": _job("x")["tasks"]}
    planted = api(workspace, USER_PAT, "POST", "2.2/jobs/runs/submit", body).json()["run_id"]
    ti = TI()
    spec = {
        "tasks": [{"task_key": "load", "new_cluster": CLUSTER, "spark_jar_task": {"main_class_name": "M"}}]
    }
    op = DatabricksSubmitRunOperator(task_id=TASK_ID, json=spec, idempotency_token="nightly-load")
    with pytest.raises(ForeignRunError) as info:
        op.execute({"ti": ti})  # type: ignore[arg-type]
    text = str(info.value)
    assert text.startswith(f"Databricks run {planted} returned for this task's idempotency token")
    assert (
        "run_name 'evil' instead of 'adhoc_airflow.load'" in text and "task keys jar instead of load" in text
    )
    assert "\n" not in text and ti.pushed == {}


def test_reattach_checks_the_creator_with_one_scim_call(workspace: EmulatorServer) -> None:
    ours = _create_job(workspace, ADMIN_PAT, "ours")
    acl = {"access_control_list": [{"user_name": USER, "permission_level": "CAN_MANAGE_RUN"}]}
    assert api(workspace, ADMIN_PAT, "PATCH", f"2.0/permissions/jobs/{ours}", acl).status_code == 200
    planted = _run_now(workspace, USER_PAT, ours, "nightly-load")  # same job, but alice's run
    ti = TI(try_number=2)  # a retry re-attaches, so the creator is checked
    op = DatabricksRunNowOperator(task_id=TASK_ID, job_id=ours, idempotency_token="nightly-load")
    with pytest.raises(ForeignRunError) as info:
        op.execute({"ti": ti})  # type: ignore[arg-type]
    assert f"Databricks run {planted} returned" in str(info.value)
    assert f"created by '{USER}', not by this connection's identity" in str(info.value)
    assert ti.pushed == {} and _scim_calls(workspace) == 1


def test_reattach_to_our_own_run_passes_the_creator_check(workspace: EmulatorServer) -> None:
    ours = _create_job(workspace, ADMIN_PAT, "ours")
    first = DatabricksRunNowOperator(task_id=TASK_ID, job_id=ours, wait_for_termination=False)
    run_id = first.execute({"ti": TI()})["run_id"]  # type: ignore[arg-type]
    ti = TI(try_number=2)
    again = DatabricksRunNowOperator(task_id=TASK_ID, job_id=ours, wait_for_termination=False)
    assert again.execute({"ti": ti})["run_id"] == run_id  # type: ignore[arg-type]
    assert ti.pushed["run_id"] == run_id and workspace.counters()["runs_created"] == 1
