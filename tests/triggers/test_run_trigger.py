"""DatabricksRunTrigger over HTTP: many triggers share one poller; on_kill cancels the run."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import time
from typing import Any

import pytest

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.runs.state import RunState
from airflow_dbx_provider.triggers import DatabricksRunTrigger
from tests.operators.support import CLUSTER, notebook_task, requests_to

POLL = 0.2


def _jar_run(hook: DatabricksHook, i: int) -> int:
    task = {"task_key": "jar", "new_cluster": CLUSTER, "spark_jar_task": {"main_class_name": "Main"}}
    return hook.submit_run({"run_name": f"coalesce-{i}", "tasks": [task]})


async def _fire(trigger: DatabricksRunTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return {**event.payload, "_fired_ms": time.time() * 1000}
    raise AssertionError("trigger ended without an event")


def test_serialize_round_trip_is_plain() -> None:
    trigger = DatabricksRunTrigger(run_id=5, databricks_conn_id="c", polling_period_seconds=3, job_id=9)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_dbx_provider.triggers.run.DatabricksRunTrigger"
    module, _, name = classpath.rpartition(".")
    assert getattr(importlib.import_module(module), name) is DatabricksRunTrigger  # as the triggerer does
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert DatabricksRunTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_many_triggers_share_one_polling_loop(slow_workspace: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = slow_workspace
    server.reset()
    monkeypatch.setenv(
        "AIRFLOW_CONN_DBX_SLOW",
        json.dumps({"conn_type": "dbx", "host": server.url, "password": server.admin_token}),
    )
    hook = DatabricksHook("dbx_slow")
    n = 40
    run_ids = [_jar_run(hook, i) for i in range(n)]
    before_get = requests_to(server, "runs/get")
    before_list = requests_to(server, "runs/list")
    triggers = [DatabricksRunTrigger(r, "dbx_slow", polling_period_seconds=POLL) for r in run_ids]

    started = time.monotonic()
    lag = [0.0]  # the event loop's worst lateness: what a loaded machine adds to any poll

    async def probe_lag() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.05)
            lag[0] = max(lag[0], time.monotonic() - before - 0.05)

    async def fire_all() -> list[dict[str, Any]]:
        probe = asyncio.create_task(probe_lag())
        try:
            return await asyncio.wait_for(asyncio.gather(*(_fire(t) for t in triggers)), 60)
        finally:
            probe.cancel()

    events = asyncio.run(fire_all())
    elapsed = time.monotonic() - started

    assert [e["run_id"] for e in events] == run_ids
    assert {e["status"] for e in events} == {"success"}
    assert all(e["run_page_url"] and e["tasks"][0]["task_key"] == "jar" for e in events)
    gets = requests_to(server, "runs/get") - before_get
    lists = requests_to(server, "runs/list") - before_list
    naive = n * (elapsed / POLL)  # one runs/get per run per interval
    assert gets <= n + 5  # once per run, when it left the active list
    assert gets + lists < naive / 4, (gets, lists, naive)
    # detection latency: from the run's end_time to the event, within about one interval (plus the
    # loop's measured lateness, so a starved CI machine does not fail it; a poller late by several
    # intervals still does)
    for event in events:
        end_ms = hook.get_run(event["run_id"])["end_time"]
        assert event["_fired_ms"] - end_ms < (POLL + 0.5 + lag[0]) * 1000, (event["run_id"], lag[0])


def test_failed_run_event(workspace: Any) -> None:
    hook = DatabricksHook()
    run_id = hook.submit_run({"run_name": "f", "tasks": [notebook_task("load", "fail")]})
    event = asyncio.run(_fire(DatabricksRunTrigger(run_id, polling_period_seconds=POLL)))
    assert event["status"] == "failed"
    assert event["error_code"] == "FAILED"
    assert event["run_state"]["result_state"] == "FAILED"


def test_unknown_run_gives_an_error_event(workspace: Any) -> None:
    event = asyncio.run(_fire(DatabricksRunTrigger(987654, polling_period_seconds=POLL)))
    assert event["status"] == "error"
    assert event["run_state"] is None and event["error_code"]


def test_on_kill_cancels_the_run(workspace: Any) -> None:
    hook = DatabricksHook()
    run_id = hook.submit_run({"run_name": "long", "tasks": [notebook_task("nap", "sleep", seconds="30")]})
    trigger = DatabricksRunTrigger(run_id, polling_period_seconds=POLL)

    async def kill_while_waiting() -> None:
        waiting = asyncio.create_task(_fire(trigger))
        await asyncio.sleep(0.5)
        waiting.cancel()  # what the triggerer does on a user action, before calling on_kill()
        await asyncio.gather(waiting, return_exceptions=True)
        await trigger.on_kill()

    asyncio.run(kill_while_waiting())
    deadline = time.monotonic() + 15
    state = RunState.of_run(hook.get_run(run_id))
    while not state.is_terminal and time.monotonic() < deadline:
        time.sleep(0.1)
        state = RunState.of_run(hook.get_run(run_id))
    assert state.outcome == "CANCELED"


def _conn(monkeypatch: pytest.MonkeyPatch, name: str, server: Any, token: str) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{name.upper()}",
        json.dumps({"conn_type": "dbx", "host": server.url, "password": token}),
    )


def test_one_poller_per_workspace_and_credentials(workspace: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two connection ids for one workspace and token share a poller; another token gets its own."""
    _conn(monkeypatch, "dbx_a", workspace, workspace.admin_token)
    _conn(monkeypatch, "dbx_b", workspace, workspace.admin_token)
    _conn(monkeypatch, "dbx_other_user", workspace, "another-token")

    async def pollers() -> list[Any]:
        return [
            await DatabricksRunTrigger(1, conn)._poller() for conn in ("dbx_a", "dbx_b", "dbx_other_user")
        ]

    a, b, other = asyncio.run(pollers())
    assert a is b
    assert other is not a
    assert workspace.admin_token not in a.name and "another-token" not in other.name


def test_deferred_progress_is_logged_from_the_listing(
    workspace: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each state change of the run and its tasks, with elapsed time; the run page once; no runs/get."""
    hook = DatabricksHook()
    run_id = hook.submit_run(
        {
            "run_name": "progress",
            "tasks": [
                notebook_task("first", "ok"),
                {**notebook_task("second", "ok"), "depends_on": [{"task_key": "first"}]},
            ],
        }
    )
    before_get = requests_to(workspace, "runs/get")
    trigger = DatabricksRunTrigger(run_id, polling_period_seconds=POLL)
    capsys.readouterr()
    event = asyncio.run(_fire(trigger))
    assert event["status"] == "success"
    assert requests_to(workspace, "runs/get") == before_get  # states came from runs/list alone
    # the trigger's logger (structlog in Airflow 3: what reaches the task log) writes to stdout
    lines = [re.sub(r"^.*?\] ", "", line) for line in capsys.readouterr().out.splitlines()]
    progress = [line for line in lines if line.startswith(("Run ", "  task "))]
    assert progress[0].startswith(f"Run {run_id} is ")
    assert any(line.startswith(f"Run {run_id} is TERMINATED/SUCCESS after ") for line in progress)
    assert any(line.startswith("  task first is TERMINATED/SUCCESS after ") for line in progress)
    assert any(line.startswith("  task second is TERMINATED/SUCCESS after ") for line in progress)
    assert sum("#job/" in line for line in progress) == 1  # the run page URL, once
    assert all(" after " in line and line.split(" after ")[1][0].isdigit() for line in progress)
