"""The ``runs/list`` filters the poller relies on, over real HTTP against the emulator.

A time window (``start_time_from``/``start_time_to``, inclusive) with no activity filter lists
finished runs with their final state, and ``expand_tasks`` puts the task states in each item.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.runs.state import RunState
from tests.operators.support import CLUSTER


def _jar_runs(hook: DatabricksHook, n: int) -> list[int]:
    task = {"task_key": "jar", "new_cluster": CLUSTER, "spark_jar_task": {"main_class_name": "Main"}}
    return [hook.submit_run({"run_name": f"window-{i}", "tasks": [task]}) for i in range(n)]


def _wait_terminal(hook: DatabricksHook, run_ids: list[int]) -> dict[int, dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        runs = {r: hook.get_run(r) for r in run_ids}
        if all(RunState.of_run(run).is_terminal for run in runs.values()):
            return runs
        assert time.monotonic() < deadline, "runs never ended"
        time.sleep(0.1)


def test_a_time_window_lists_finished_runs_with_their_tasks(workspace: Any) -> None:
    hook = DatabricksHook()
    run_ids = _jar_runs(hook, 5)
    runs = _wait_terminal(hook, run_ids)
    starts = sorted(run["start_time"] for run in runs.values())

    async def listings() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with DatabricksAsyncHook() as hook:
            middle = await hook.list_runs_page(
                limit=25, expand_tasks=True, start_time_from=starts[1], start_time_to=starts[3]
            )
            active = await hook.list_runs_page(
                limit=25, active_only=True, start_time_from=starts[0], start_time_to=starts[-1]
            )
            bare = await hook.list_runs_page(limit=25, start_time_from=starts[0], start_time_to=starts[-1])
            return middle, active, bare

    middle, active, bare = asyncio.run(listings())
    listed = middle["runs"]
    expected = [r for r in sorted(run_ids, reverse=True) if starts[1] <= runs[r]["start_time"] <= starts[3]]
    assert [run["run_id"] for run in listed] == expected  # bounds inclusive, newest first
    for run in listed:
        assert RunState.of_run(run) == RunState.of_run(runs[run["run_id"]])  # the final state
        assert run["tasks"][0]["task_key"] == "jar"
        assert RunState.from_api(run["tasks"][0]["state"]).is_terminal
        assert run["run_page_url"] and run["job_id"] is not None
    assert not active.get("runs")  # ended runs are not active
    assert all("tasks" not in run for run in bare["runs"])  # tasks only with expand_tasks


def test_a_window_pages_with_a_token(workspace: Any) -> None:
    hook = DatabricksHook()
    run_ids = _jar_runs(hook, 4)
    start = min(hook.get_run(r)["start_time"] for r in run_ids)

    async def pages() -> list[dict[str, Any]]:
        async with DatabricksAsyncHook() as hook:
            first = await hook.list_runs_page(limit=3, start_time_from=start)
            second = await hook.list_runs_page(
                limit=3, start_time_from=start, page_token=first["next_page_token"]
            )
            return [first, second]

    first, second = asyncio.run(pages())
    assert [r["run_id"] for r in first["runs"] + second["runs"]] == sorted(run_ids, reverse=True)
    assert not second.get("next_page_token")
