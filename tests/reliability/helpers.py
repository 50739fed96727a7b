"""Helpers for the fault campaign: the admin API, counters by status, DAG runs, waiting on runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

DAGS = Path(__file__).resolve().parents[1] / "dags"


def admin(server: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call ``/_emulator/*`` over HTTP, as a test harness outside the process would."""
    resp = requests.request(
        method,
        f"{server.url}/_emulator/{path}",
        json=body,
        headers={"Authorization": f"Bearer {server.admin_token}"},
        timeout=10,
        verify=str(server.config.cert_file) if server.config.tls else True,
    )
    resp.raise_for_status()
    return resp.json()


def status_counts(server: Any) -> dict[str, int]:
    """Total requests per HTTP status (``"0"`` = connection reset without an answer)."""
    totals: dict[str, int] = {}
    for by_status in server.counters()["requests"].values():
        for status, n in by_status.items():
            totals[status] = totals.get(status, 0) + n
    return totals


def faults_by_endpoint(server: Any) -> dict[str, int]:
    """Injected-looking answers (429, 5xx, reset) per ``METHOD /template``."""
    faulty = {"0", "429", "500", "503"}
    return {
        name: sum(n for status, n in by_status.items() if status in faulty)
        for name, by_status in server.counters()["requests"].items()
    }


def load_dag(filename: str, dag_id: str) -> Any:
    from tests.airflow_workspace import load_dag as load

    return load(str(DAGS / filename), dag_id)


def ti_states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def ti_tries(dag_run: Any) -> dict[str, int]:
    return {ti.task_id: ti.try_number for ti in dag_run.get_task_instances()}


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


def run_states(server: Any) -> dict[int, tuple[str, str | None]]:
    """Every run in the emulator: run_id -> (life_cycle_state, result_state)."""
    with server.state.store.lock:
        return {
            int(run["run_id"]): (run["state"]["life_cycle_state"], run["state"].get("result_state"))
            for run in server.state.runs.runs.values()
        }
