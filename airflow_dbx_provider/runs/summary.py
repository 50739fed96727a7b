"""Plain summaries of a run and its tasks: what a trigger event carries and XCom returns.

Plain values only (ints, strings, dicts, lists), so a summary crosses the triggerer boundary as is
and the deferred path needs no further ``runs/get``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_dbx_provider.runs.state import RunState


def latest_task_attempts(tasks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The latest attempt per ``task_key`` (retries and repairs add attempts), in first-seen order."""
    latest: dict[str, dict[str, Any]] = {}
    for task in tasks:
        key = str(task.get("task_key", ""))
        known = latest.get(key)
        rank = (int(task.get("attempt_number") or 0), int(task.get("start_time") or 0))
        if known is None or rank >= (
            int(known.get("attempt_number") or 0),
            int(known.get("start_time") or 0),
        ):
            latest[key] = dict(task)
    return list(latest.values())


def task_summary(task: Mapping[str, Any]) -> dict[str, Any]:
    """Plain, small description of a task run: what a trigger event carries and the operator reads."""
    state = RunState.from_api(task.get("state"))
    return {
        "task_key": str(task.get("task_key", "")),
        "run_id": int(task.get("run_id") or 0),
        "attempt_number": int(task.get("attempt_number") or 0),
        "notebook": "notebook_task" in task,
        **state.to_dict(),
    }


def run_summary(run: Mapping[str, Any]) -> dict[str, Any]:
    """Plain summary of a finished run with its latest task attempts (event payload, XCom)."""
    return {
        "run_id": int(run.get("run_id") or 0),
        "job_id": run.get("job_id"),
        "run_page_url": run.get("run_page_url"),
        "run_state": RunState.of_run(run).to_dict(),
        "tasks": [task_summary(t) for t in latest_task_attempts(run.get("tasks") or [])],
    }
