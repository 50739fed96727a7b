"""Clusters API over real HTTP: the SDK's waiters, the state machine, and every error code."""

from __future__ import annotations

import time
from typing import Any

import pytest
from _families_helpers import LiveEmulator, emulator_fixture, error_of
from databricks.sdk.errors import InvalidParameterValue, NotFound
from databricks.sdk.service.compute import State

live = emulator_fixture()

SPEC = {
    "cluster_name": "etl",
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 2,
}


@pytest.fixture
def emu(live: LiveEmulator) -> LiveEmulator:
    live.reset()
    return live


def create(emu: LiveEmulator, version: str = "2.1", **spec: Any) -> str:
    response = emu.call("POST", f"/api/{version}/clusters/create", json={**SPEC, **spec})
    assert response.status_code == 200, response.text
    return str(response.json()["cluster_id"])


def get(emu: LiveEmulator, cluster_id: str) -> dict[str, Any]:
    return emu.call("GET", "/api/2.1/clusters/get", params={"cluster_id": cluster_id}).json()


def wait_for(emu: LiveEmulator, cluster_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        details = get(emu, cluster_id)
        if details["state"] == state:
            return details
        time.sleep(0.01)
    raise AssertionError(f"cluster {cluster_id} never reached {state}: {details}")


def test_sdk_create_and_wait_then_delete(emu: LiveEmulator) -> None:
    w = emu.client()
    details = w.clusters.create_and_wait(
        cluster_name="sdk", spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=1
    )
    assert details.state == State.RUNNING
    assert details.cluster_source is not None and details.cluster_source.value == "API"
    assert details.spark_context_id and details.start_time
    assert details.creator_user_name == "admin@example.com"
    cluster_id = details.cluster_id or ""
    w.clusters.delete(cluster_id).result()
    final = w.clusters.get(cluster_id)
    assert final.state == State.TERMINATED
    assert final.termination_reason is not None and final.termination_reason.code is not None
    assert final.termination_reason.code.value == "USER_REQUEST"
    assert [c.cluster_id for c in w.clusters.list()] == [cluster_id]
    assert any(v.key == "15.4.x-scala2.12" for v in w.clusters.spark_versions().versions or [])


def test_details_fields_and_lifecycle(emu: LiveEmulator) -> None:
    with emu.held():
        cluster_id = create(emu, version="2.0", num_workers="3")  # Airflow sends numbers as strings
        pending = get(emu, cluster_id)
    assert pending["state"] == "PENDING" and pending["state_message"]
    assert pending["num_workers"] == 3
    assert pending["default_tags"]["ClusterId"] == cluster_id
    running = wait_for(emu, cluster_id, "RUNNING")
    assert running["state_message"] == ""
    with emu.held():
        assert emu.call(
            "POST", "/api/2.1/clusters/resize", json={"cluster_id": cluster_id, "num_workers": 5}
        ).ok
        assert get(emu, cluster_id)["state"] == "RESIZING"
    assert wait_for(emu, cluster_id, "RUNNING")["num_workers"] == 5
    with emu.held():
        assert emu.call("POST", "/api/2.1/clusters/restart", json={"cluster_id": cluster_id}).ok
        assert get(emu, cluster_id)["state"] == "RESTARTING"
    wait_for(emu, cluster_id, "RUNNING")
    with emu.held():
        assert emu.call("POST", "/api/2.0/clusters/delete", json={"cluster_id": cluster_id}).ok
        assert get(emu, cluster_id)["state"] == "TERMINATING"
    terminated = wait_for(emu, cluster_id, "TERMINATED")
    assert terminated["terminated_time"] >= terminated["start_time"]
    assert terminated["termination_reason"] == {
        "code": "USER_REQUEST",
        "type": "SUCCESS",
        "parameters": {"username": "admin@example.com"},
    }
    with emu.held():
        assert emu.call("POST", "/api/2.1/clusters/start", json={"cluster_id": cluster_id}).ok
        restarted = get(emu, cluster_id)
    assert restarted["state"] == "PENDING" and "termination_reason" not in restarted
    events = emu.call(
        "POST", "/api/2.1/clusters/events", json={"cluster_id": cluster_id, "order": "ASC"}
    ).json()
    kinds = [e["type"] for e in events["events"]]
    assert kinds[:3] == ["CREATING", "RUNNING", "RESIZING"] and kinds[-1] == "STARTING"


def test_edit_and_update(emu: LiveEmulator) -> None:
    cluster_id = create(emu)
    wait_for(emu, cluster_id, "RUNNING")
    edited = {**SPEC, "cluster_id": cluster_id, "num_workers": 4, "cluster_name": "renamed"}
    with emu.held():
        assert emu.call("POST", "/api/2.1/clusters/edit", json=edited).ok
        assert get(emu, cluster_id)["state"] == "RESTARTING"
    details = wait_for(emu, cluster_id, "RUNNING")
    assert (details["cluster_name"], details["num_workers"]) == ("renamed", 4)
    body = {
        "cluster_id": cluster_id,
        "update_mask": "autoscale",
        "cluster": {"autoscale": {"min_workers": 1, "max_workers": 3}},
    }
    assert emu.call("POST", "/api/2.1/clusters/update", json=body).ok
    details = wait_for(emu, cluster_id, "RUNNING")
    assert details["autoscale"] == {"min_workers": 1, "max_workers": 3} and "num_workers" not in details


def test_list_pagination_filters_and_pins(emu: LiveEmulator) -> None:
    with emu.held():
        ids = [create(emu, cluster_name=f"c{i}") for i in range(3)]
        emu.call("POST", "/api/2.1/clusters/delete", json={"cluster_id": ids[0]})
        first = emu.call("GET", "/api/2.1/clusters/list", params={"page_size": 2}).json()
        assert len(first["clusters"]) == 2 and first["next_page_token"]
        second = emu.call(
            "GET", "/api/2.1/clusters/list", params={"page_size": 2, "page_token": first["next_page_token"]}
        )
        assert len(second.json()["clusters"]) == 1 and "next_page_token" not in second.json()
        pending = emu.call("GET", "/api/2.1/clusters/list", params={"filter_by.cluster_states": "PENDING"})
    pending = pending.json()
    assert {c["cluster_id"] for c in pending["clusters"]} == set(ids[1:])
    assert len(emu.call("GET", "/api/2.0/clusters/list").json()["clusters"]) == 3
    emu.call("POST", "/api/2.1/clusters/pin", json={"cluster_id": ids[2]})
    pinned = emu.call("GET", "/api/2.1/clusters/list", params={"filter_by.is_pinned": "true"}).json()
    assert [c["cluster_id"] for c in pinned["clusters"]] == [ids[2]]


def test_job_clusters_contract(emu: LiveEmulator) -> None:
    service = emu.state.clusters
    with emu.held(), emu.state.store.lock:
        cluster_id = service.create_job_cluster(SPEC, "nightly run", "admin@example.com")
        assert not service.is_running(cluster_id)
    wait_for(emu, cluster_id, "RUNNING")
    with emu.state.store.lock:
        assert service.is_running(cluster_id)
        assert service.get_cluster(cluster_id)["cluster_source"] == "JOB"
    status, code = error_of(
        emu.call("POST", "/api/2.1/clusters/edit", json={**SPEC, "cluster_id": cluster_id})
    )
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    with emu.state.store.lock:
        service.terminate(cluster_id)
    details = wait_for(emu, cluster_id, "TERMINATED")
    assert details["termination_reason"]["code"] == "JOB_FINISHED"
    status, code = error_of(emu.call("POST", "/api/2.1/clusters/start", json={"cluster_id": cluster_id}))
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")


def test_permanent_delete_then_get_is_not_found(emu: LiveEmulator) -> None:
    cluster_id = create(emu)
    assert emu.call("POST", "/api/2.1/clusters/permanent-delete", json={"cluster_id": cluster_id}).ok
    response = emu.call("GET", "/api/2.1/clusters/get", params={"cluster_id": cluster_id})
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE")
    assert response.json()["message"] == f"Cluster {cluster_id} does not exist"
    with pytest.raises(NotFound):  # the SDK's override turns this 400 into ResourceDoesNotExist
        emu.client().clusters.get(cluster_id)
    with pytest.raises(InvalidParameterValue):
        emu.client().clusters.start(cluster_id)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"spark_version": None}, "spark_version"),
        ({"num_workers": None}, "num_workers or autoscale"),
        ({"node_type_id": None}, "node_type_id or instance_pool_id"),
        ({"num_workers": -1}, "greater than or equal to 0"),
        ({"num_workers": None, "autoscale": {"min_workers": 3, "max_workers": 1}}, "min_workers"),
        ({"autotermination_minutes": 5}, "Autotermination"),
    ],
    ids=[
        "no-spark-version",
        "no-size",
        "no-node-type",
        "negative-workers",
        "bad-autoscale",
        "autotermination",
    ],
)
def test_create_validation(emu: LiveEmulator, body: dict[str, Any], message: str) -> None:
    spec = {k: v for k, v in {**SPEC, **body}.items() if v is not None}
    response = emu.call("POST", "/api/2.1/clusters/create", json=spec)
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE")
    assert message in response.json()["message"]


@pytest.mark.parametrize(
    ("action", "extra"),
    [("start", {}), ("resize", {"num_workers": 3}), ("restart", {}), ("edit", SPEC)],
    ids=["start-pending", "resize-pending", "restart-pending", "edit-pending"],
)
def test_invalid_state(emu: LiveEmulator, action: str, extra: dict[str, Any]) -> None:
    with emu.held():
        cluster_id = create(emu)
        response = emu.call("POST", f"/api/2.1/clusters/{action}", json={**extra, "cluster_id": cluster_id})
    assert error_of(response) == (400, "INVALID_STATE")
    assert response.json()["message"] == f"Cluster {cluster_id} is in unexpected state Pending."


def test_start_running_cluster_message(emu: LiveEmulator) -> None:
    cluster_id = create(emu)
    wait_for(emu, cluster_id, "RUNNING")
    response = emu.call("POST", "/api/2.1/clusters/start", json={"cluster_id": cluster_id})
    assert response.json() == {
        "error_code": "INVALID_STATE",
        "message": f"Cluster {cluster_id} is in unexpected state Running.",
    }


def test_state_survives_restart(emu: LiveEmulator) -> None:
    from airflow_dbx_provider.emulator.composition import Workspace

    cluster_id = create(emu)
    reopened = Workspace(emu.state.config)
    try:
        assert reopened.clusters.get_cluster(cluster_id)["cluster_name"] == "etl"
    finally:
        reopened.store.close()
