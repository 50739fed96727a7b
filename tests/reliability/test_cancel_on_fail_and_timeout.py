"""The remote run ends CANCELED when the task is marked failed or reaches ``execution_timeout``.

docs/operators.md, "When is the remote run canceled?", through Airflow's own code paths:

| Situation | Sync | Deferred |
|---|---|---|
| marked failed | SIGTERM to a real task runner (what the supervisor sends) -> ``on_kill`` | the triggerer's ``TriggerRunner`` cancels the trigger with its user-action message -> trigger ``on_kill`` (and not on triggerer shutdown) |
| ``execution_timeout`` | ``dag.test()``: the task runner's timeout -> ``on_kill`` | the scheduler's ``check_trigger_timeouts`` -> a real task runner resumes with ``__fail__`` |

The direct calls (``op.on_kill()``, ``op.resume_execution(...)``, ``trigger.on_kill()``) are in
tests/operators/test_kill_and_timeout.py and tests/triggers/test_run_trigger.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.triggers import DatabricksRunTrigger
from tests.operators.support import notebook_task
from tests.reliability.helpers import (
    load_dag,
    run_states,
    sigkill_group,
    start_task_test_child,
    ti_states,
    wait_for,
)

LOGICAL_DATE = "2024-04-01T00:00:00+00:00"


def _serialize_test_dags(dag_id: str) -> None:
    """Write the DAGs of tests/dags to the metadata DB (what the DAG processor does); nothing runs."""
    load_dag("reliability_kills.py", dag_id).test(
        logical_date=pendulum.datetime(2000, 1, 1, tz="UTC"), mark_success_pattern=".*"
    )


def _only_run(server: Any) -> tuple[int, tuple[str, str | None]]:
    states = run_states(server)
    assert len(states) == 1, states
    return next(iter(states.items()))


def _wait_canceled(server: Any) -> None:
    wait_for(lambda: _only_run(server)[1] == ("TERMINATED", "CANCELED"), timeout=15)


def _ti(dag_id: str, logical_date: str) -> Any:
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = (
            session.query(TaskInstance)
            .join(DagRun, (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id))
            .filter(TaskInstance.dag_id == dag_id, DagRun.logical_date == pendulum.parse(logical_date))
            .one()
        )
        session.expunge(ti)
        return ti


# ---- execution_timeout ---------------------------------------------------------------------------
@pytest.mark.timeout(60)
def test_execution_timeout_cancels_the_run_sync(airflow_workspace: Any) -> None:
    dag_run = load_dag("reliability_kills.py", "reliability_timeout_sync").test()
    assert ti_states(dag_run) == {"nap": "failed"}
    _wait_canceled(airflow_workspace)
    assert airflow_workspace.counters()["runs_created"] == 1


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_execution_timeout_cancels_the_run_deferred(airflow_workspace: Any, tmp_path: Path) -> None:
    """Worker 1 defers; the scheduler times the deferral out; worker 2 resumes with ``__fail__``.

    Worker 1 is ``airflow tasks test``, which would wait on the trigger inline forever (its inline
    trigger ignores timeouts), so once the task has deferred it is killed and the task instance is put
    back in the state a deployment has while the triggerer waits (DEFERRED, trigger_timeout set by
    the execution API from ``execution_timeout``).
    """
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    server = airflow_workspace
    dag_id = "reliability_timeout_deferred"
    _serialize_test_dags(dag_id)
    log = tmp_path / "worker.log"
    first = start_task_test_child(dag_id, "nap", LOGICAL_DATE, log)
    try:
        wait_for(lambda: "running trigger in line" in log.read_text() or first.poll() is not None, timeout=60)
        assert first.poll() is None, log.read_text()
    finally:
        sigkill_group(first)
    ti = _ti(dag_id, LOGICAL_DATE)
    assert ti.trigger_timeout is not None and ti.next_method == "execute_complete"
    with create_session() as session:
        session.query(TaskInstance).filter(TaskInstance.id == ti.id).update({"state": "deferred"})
    wait_for(lambda: pendulum.now("UTC") > ti.trigger_timeout, timeout=10)

    SchedulerJobRunner(job=Job()).check_trigger_timeouts()
    assert _ti(dag_id, LOGICAL_DATE).next_method == "__fail__"
    assert _only_run(server)[1][0] == "RUNNING"  # nothing has canceled it yet

    second = start_task_test_child(dag_id, "nap", LOGICAL_DATE, log)
    try:
        second.wait(60)
    finally:
        sigkill_group(second)
    _wait_canceled(server)
    assert _ti(dag_id, LOGICAL_DATE).state == "failed"
    assert "canceling Databricks run" in log.read_text()
    assert server.counters()["runs_created"] == 1


# ---- marked failed -------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_marked_failed_sigterm_cancels_the_run_sync(airflow_workspace: Any, tmp_path: Path) -> None:
    """The supervisor answers "state changed by a user" by sending SIGTERM to the task process;
    the task runner's SIGTERM handler calls ``on_kill``."""
    server = airflow_workspace
    dag_id = "reliability_reattach_sync"
    _serialize_test_dags(dag_id)
    log = tmp_path / "worker.log"
    worker = start_task_test_child(dag_id, "nap", LOGICAL_DATE, log, {"RELIABILITY_SLEEP_SECONDS": "60"})
    try:
        wait_for(lambda: "Run 1001 is RUNNING" in log.read_text() or worker.poll() is not None, timeout=60)
        assert worker.poll() is None, log.read_text()
        os.kill(worker.pid, signal.SIGTERM)
        _wait_canceled(server)
        worker.wait(30)
    finally:
        sigkill_group(worker)
    text = log.read_text()
    assert "Task killed: canceling Databricks run 1001" in text
    assert "Databricks run 1001 was canceled" in text
    assert server.counters()["runs_created"] == 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cause", ["user-action", "triggerer-shutdown"])
def test_triggerer_cancels_the_run_only_on_user_action(
    cause: str, workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The triggerer's own ``TriggerRunner``. On mark failed/success or clear, ``cancel_triggers()``
    cancels the trigger's task with the user-action message and ``run_trigger`` then calls the
    trigger's ``on_kill``: the run is canceled. On shutdown (or redistribution) the task is
    cancelled without that message: the run is left alone for the next triggerer to re-attach."""
    from airflow.jobs.triggerer_job_runner import TriggerRunner

    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    run_id = DatabricksHook().submit_run(
        {"run_name": "long", "tasks": [notebook_task("nap", "sleep", seconds="60")]}
    )
    trigger = DatabricksRunTrigger(run_id=run_id, polling_period_seconds=0.1)
    trigger.task_instance = None  # type: ignore[assignment]

    async def scenario() -> None:
        runner = TriggerRunner()
        runner.triggers[1] = {"name": "dbx", "events": 0, "is_watcher": False}
        task = asyncio.create_task(runner.run_trigger(1, trigger))
        runner.triggers[1]["task"] = task
        await asyncio.sleep(1.0)  # the trigger is polling
        assert not task.done()
        if cause == "user-action":
            runner.to_cancel.append(1)
            await runner.cancel_triggers()
        else:
            task.cancel()  # what the triggerer's shutdown does to every trigger task
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    if cause == "user-action":
        _wait_canceled(workspace)
    else:
        time.sleep(1.0)
        assert _only_run(workspace)[1] == ("RUNNING", None)
        DatabricksHook().cancel_run(run_id)
