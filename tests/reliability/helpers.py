"""Helpers for the fault campaign: the admin API, counters by status, DAG runs, waiting on runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
            for run in server.state.run_registry.runs.values()
        }


# ---- child processes standing in for Airflow workers (test_kill_and_reattach, test_emulator_restart)
REPO = Path(__file__).resolve().parents[2]


def start_task_test_child(
    dag_id: str, task_id: str, logical_date: str, log_file: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``airflow tasks test DAG_ID TASK_ID LOGICAL_DATE`` in a new session: a real task runner.

    The first call creates a DAG run for that logical date (and deletes it when it ends normally;
    a SIGKILL leaves it behind, as a crashed worker does); a later call finds that DAG run by its
    logical date, so it runs the same task instance (same run_id, same idempotency token). Deferral
    is handled inline (the trigger runs in the same process). The child inherits this process's
    Airflow home, DB and ``AIRFLOW_CONN_*`` environment; the DAG must already be serialized.
    """
    from airflow.configuration import conf

    child_env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        # The metadata DB this process uses, whatever AIRFLOW_HOME the child would derive.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": conf.get("database", "sql_alchemy_conn"),
        **(env or {}),
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    with log_file.open("ab") as out:
        return subprocess.Popen(
            [airflow, "tasks", "test", dag_id, task_id, logical_date],
            cwd=REPO,
            env=child_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def sigkill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child and everything it started (the whole worker dies at once)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def schedule_next_try(dag_id: str, task_id: str, run_id: str) -> int:
    """What the scheduler does to a task instance whose worker vanished (retries left): record the
    try in the history, give the instance a new id and the next try number, forget any deferral.
    Returns the new try number."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = (
            session.query(TaskInstance)
            .filter_by(dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=-1)
            .one()
        )
        ti.prepare_db_for_next_try(session)
        ti.clear_next_method_args()
        ti.try_number = max(int(ti.try_number or 0), 1) + 1  # `tasks test` leaves try 1 at 0
        ti.state = "scheduled"
        session.merge(ti)
        return int(ti.try_number)
