"""SQL warehouses API over HTTP: lifecycle on the simulated clock, edits, errors, the SDK."""

from __future__ import annotations

import time

import pytest
from _runs_helpers import Api
from _sql_helpers import warehouse
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.sql import State


def _wait_state(api: Api, warehouse_id: str, state: str) -> dict:
    deadline = time.monotonic() + 10
    while (found := api.get(f"/api/2.0/sql/warehouses/{warehouse_id}"))["state"] != state:
        assert time.monotonic() < deadline, found
        time.sleep(0.02)
    return found


def test_lifecycle_create_stop_start_delete(api: Api) -> None:
    with api.held():
        warehouse_id = warehouse(api)
        assert api.get(f"/api/2.0/sql/warehouses/{warehouse_id}")["state"] == "STARTING"
    running = _wait_state(api, warehouse_id, "RUNNING")
    assert running["health"]["status"] == "HEALTHY" and running["num_clusters"] == 1
    assert running["odbc_params"]["path"] == f"/sql/1.0/warehouses/{warehouse_id}"

    with api.held():
        api.post(f"/api/2.0/sql/warehouses/{warehouse_id}/stop", {})
        assert api.get(f"/api/2.0/sql/warehouses/{warehouse_id}")["state"] == "STOPPING"
    assert _wait_state(api, warehouse_id, "STOPPED")["num_clusters"] == 0
    api.post(f"/api/2.0/sql/warehouses/{warehouse_id}/start", {})
    _wait_state(api, warehouse_id, "RUNNING")

    with api.held():
        api.post(f"/api/2.0/sql/warehouses/{warehouse_id}/edit", {"name": "renamed", "max_num_clusters": 3})
        edited = api.get(f"/api/2.0/sql/warehouses/{warehouse_id}")
    assert (edited["name"], edited["max_num_clusters"], edited["state"]) == ("renamed", 3, "STARTING")
    assert [w["id"] for w in api.get("/api/2.0/sql/warehouses")["warehouses"]] == [warehouse_id]

    assert api.call("DELETE", f"/api/2.0/sql/warehouses/{warehouse_id}").status_code == 200
    missing = api.call("GET", f"/api/2.0/sql/warehouses/{warehouse_id}")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"name": "x", "cluster_size": "Huge"},
        {"name": "x", "min_num_clusters": 3, "max_num_clusters": 2},
        {"name": "x", "auto_stop_mins": 5},
    ],
    ids=["no-name", "bad-size", "min-above-max", "auto-stop-too-short"],
)
def test_create_rejects_invalid_specs(api: Api, spec: dict) -> None:
    response = api.call("POST", "/api/2.0/sql/warehouses", json=spec)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_sdk_warehouses_unchanged(sdk: WorkspaceClient) -> None:
    created = sdk.warehouses.create(name="sdk-wh", cluster_size="2X-Small", auto_stop_mins=10).result()
    assert created.state == State.RUNNING and created.name == "sdk-wh"
    stopped = sdk.warehouses.stop(created.id).result()
    assert stopped.state == State.STOPPED
    assert [w.name for w in sdk.warehouses.list()] == ["sdk-wh"]
    sdk.warehouses.delete(created.id)
    with pytest.raises(NotFound):
        sdk.warehouses.get(created.id)
