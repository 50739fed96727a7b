"""Lifecycles on the emulator's injectable clock: the services advance only when the clock does.

Model-level: a `Workspace` built with a `FakeClock`, no server, no notebook process, no waiting.
The HTTP tests (test_clusters.py, test_sql_warehouses.py) prove the wire; these prove the timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_dbx_provider.emulator.clock import FakeClock
from airflow_dbx_provider.emulator.composition import Workspace
from airflow_dbx_provider.emulator.config import EmulatorConfig
from airflow_dbx_provider.emulator.services.clusters import DURATIONS

SPEC = {
    "cluster_name": "etl",
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 2,
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time_scale=1.0)


@pytest.fixture
def workspace(tmp_path: Path, clock: FakeClock) -> Iterator[Workspace]:
    state = Workspace(EmulatorConfig(data_dir=tmp_path, rate_limit_enabled=False), clock=clock)
    try:
        yield state
    finally:
        state.close()


def _state(workspace: Workspace, cluster_id: str) -> str:
    return str(workspace.clusters.get_cluster(cluster_id)["state"])


def test_a_cluster_starts_after_its_simulated_start_time(workspace: Workspace, clock: FakeClock) -> None:
    cluster_id = workspace.clusters.create(dict(SPEC), creator="admin@example.com")
    assert _state(workspace, cluster_id) == "PENDING"
    clock.advance(DURATIONS["PENDING"] - 0.001)
    workspace.tick()
    assert _state(workspace, cluster_id) == "PENDING"  # not a millisecond early
    clock.advance(0.001)
    workspace.tick()
    cluster = workspace.clusters.get_cluster(cluster_id)
    assert cluster["state"] == "RUNNING"
    # The event carries the simulated time of the transition, not the time of the read.
    events = workspace.clusters.events(cluster_id, limit=50, offset=0, order="ASC")["events"]
    running = [e for e in events if e["type"] == "RUNNING"]
    assert running[-1]["timestamp"] == cluster["start_time"] + int(DURATIONS["PENDING"] * 1000)


def test_terminate_then_restart(workspace: Workspace, clock: FakeClock) -> None:
    cluster_id = workspace.clusters.create(dict(SPEC), creator="admin@example.com")
    clock.advance(DURATIONS["PENDING"])
    workspace.tick()
    workspace.clusters.delete(cluster_id, user="admin@example.com")
    assert _state(workspace, cluster_id) == "TERMINATING"
    clock.advance(DURATIONS["TERMINATING"])
    workspace.tick()
    cluster = workspace.clusters.get_cluster(cluster_id)
    assert cluster["state"] == "TERMINATED"
    assert cluster["termination_reason"]["code"] == "USER_REQUEST"
    workspace.clusters.start(cluster_id)
    assert _state(workspace, cluster_id) == "PENDING"
    clock.advance(DURATIONS["PENDING"])
    workspace.tick()
    assert _state(workspace, cluster_id) == "RUNNING"


def test_time_scale_shortens_every_transition(tmp_path: Path) -> None:
    clock = FakeClock(time_scale=0.1)
    state = Workspace(EmulatorConfig(data_dir=tmp_path, rate_limit_enabled=False), clock=clock)
    try:
        cluster_id = state.clusters.create(dict(SPEC), creator="admin@example.com")
        clock.advance(DURATIONS["PENDING"] * 0.1)
        state.tick()
        assert _state(state, cluster_id) == "RUNNING"
    finally:
        state.close()


def test_a_warehouse_starts_and_stops_on_the_clock(workspace: Workspace, clock: FakeClock) -> None:
    warehouses = workspace.sql_warehouses
    warehouse_id = warehouses.create(
        {"name": "reporting", "cluster_size": "2X-Small"}, creator="admin@example.com"
    )
    assert warehouses.state_of(warehouse_id) == "STARTING"
    for _ in range(120):  # at most two simulated minutes, one second at a time
        if warehouses.state_of(warehouse_id) == "RUNNING":
            break
        clock.advance(1)
        workspace.tick()
    assert warehouses.state_of(warehouse_id) == "RUNNING"
    warehouses.stop(warehouse_id)
    assert warehouses.state_of(warehouse_id) == "STOPPING"
    for _ in range(120):
        if warehouses.state_of(warehouse_id) == "STOPPED":
            break
        clock.advance(1)
        workspace.tick()
    assert warehouses.state_of(warehouse_id) == "STOPPED"
