"""A worker killed with SIGKILL while its Databricks run is active; the retry re-attaches to that run.

The worker is a real child process, ``airflow tasks test DAG nap LOGICAL_DATE`` (Airflow's own task
runner; a deferral is handled inline, the trigger running in the same process). The first child
creates the DAG run for that logical date; SIGKILL leaves it behind, as a crashed worker does, so
the second child finds it and runs the same task instance (dag_id, task_id, run_id, map_index):
same idempotency token (operators/idempotency.py), same Databricks run. Between the two, the test
does what the scheduler does for a task whose worker vanished and that has retries left (next try
number, deferral forgotten), so the second worker is try 2 and must re-attach, not relaunch. The emulator runs in this
process, so the notebook keeps running while the worker is dead, as a Databricks run would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_dbx_provider.operators.idempotency import _derive, base_token
from tests.reliability.helpers import (
    load_dag,
    run_states,
    schedule_next_try,
    sigkill_group,
    start_task_test_child,
    wait_for,
)

LOGICAL_DATE = "2024-03-01T00:00:00+00:00"
SLEEP_SECONDS = "14"  # still running when the retry (a fresh Airflow process, ~5 s to start) re-attaches


def _active_run(server: Any) -> int | None:
    running = [rid for rid, (life, _) in run_states(server).items() if life == "RUNNING"]
    return running[0] if running else None


def _airflow_run_id(dag_id: str) -> str:
    """The run_id of the DAG run for LOGICAL_DATE (``airflow tasks test`` gives it a temporary id)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = (
            session.query(DagRun.run_id)
            .filter(DagRun.dag_id == dag_id, DagRun.logical_date == pendulum.parse(LOGICAL_DATE))
            .all()
        )
    assert len(runs) == 1, runs
    return str(runs[0][0])


def _ti_state(dag_id: str, run_id: str) -> str | None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = session.query(TaskInstance).filter_by(dag_id=dag_id, task_id="nap", run_id=run_id).one()
        return None if ti.state is None else str(ti.state)


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", ["sync", "deferred"])
def test_sigkill_then_retry_reattaches_to_the_same_run(
    mode: str, airflow_workspace: Any, tmp_path: Path
) -> None:
    server = airflow_workspace
    dag_id = f"reliability_reattach_{mode}"
    # Serialize the DAGs of tests/dags into the metadata DB (what the DAG processor does); nothing runs.
    load_dag("reliability_kills.py", dag_id).test(
        logical_date=pendulum.datetime(2000, 1, 1, tz="UTC"), mark_success_pattern=".*"
    )
    assert server.counters()["runs_created"] == 0
    env = {
        "RELIABILITY_SLEEP_SECONDS": SLEEP_SECONDS,
        "AIRFLOW__DBX_PROVIDER__IDEMPOTENCY_SECRET": "reliability",
    }
    log = tmp_path / "worker.log"
    # What the worker is doing when it dies: waiting on the run (sync) or in the trigger (deferred).
    waiting = "Run 1001 is RUNNING" if mode == "sync" else "running trigger in line"

    first = start_task_test_child(dag_id, "nap", LOGICAL_DATE, log, env)
    try:
        wait_for(lambda: waiting in log.read_text() or first.poll() is not None, timeout=90)
        assert first.poll() is None, f"the first worker exited ({first.returncode}):\n{log.read_text()}"
        run_id = _active_run(server)
        assert run_id is not None, run_states(server)
    finally:
        sigkill_group(first)
    assert first.returncode == -9
    airflow_run_id = _airflow_run_id(dag_id)  # the DAG run the killed worker left behind
    assert run_states(server)[run_id][0] == "RUNNING"  # the worker died, the run did not
    assert schedule_next_try(dag_id, "nap", airflow_run_id) == 2

    second = start_task_test_child(dag_id, "nap", LOGICAL_DATE, log, env)
    try:
        assert second.wait(120) == 0, log.read_text()
    finally:
        sigkill_group(second)

    counters = server.counters()
    assert counters["runs_created"] == 1
    assert counters.get("idempotent_replays", 0) >= 1  # the retry sent the first try's token
    assert run_states(server) == {run_id: ("TERMINATED", "SUCCESS")}
    text = log.read_text()
    # Re-attached while it ran, or (on a slow machine the run may end before try 2 starts) found
    # already succeeded: either way the same run, never a second one (runs_created above).
    assert (
        f"Re-attaching to run {run_id} started by an earlier try (RUNNING" in text
        or f"Run {run_id} of an earlier try already succeeded; not relaunching it" in text
    ), text[-3000:]
    assert f"Databricks run {run_id} succeeded" in text
    assert _ti_state(dag_id, airflow_run_id) == "success"
    # The token is the one derived from the task instance's ids, and maps to that one run.
    key = _derive("reliability")  # the deployment secret both tries were given
    token = base_token(dag_id, "nap", airflow_run_id, -1, key=key)
    assert server.state.runs.tokens.get(token)["run_id"] == run_id
