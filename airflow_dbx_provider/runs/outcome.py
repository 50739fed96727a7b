"""How a run ended, for Airflow: trigger event payloads, task outputs, and the explained failure.

Shared by the run operators (sync and deferred paths), the run sensor and the run trigger. Input is
the plain :func:`~airflow_dbx_provider.runs.summary.run_summary` dict (or the trigger event that
carries it), so the deferred path needs no extra ``runs/get`` after the trigger fires.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from airflow_dbx_provider.exceptions import DatabricksRunFailedError, DbxError
from airflow_dbx_provider.runs.state import NO_OUTPUT_RESULT_STATES, RunState

TRACE_LINES = 40
LOG_TAIL_LINES = 30


class _OutputReader(Protocol):
    def get_run_output(self, run_id: int) -> dict[str, Any]: ...


def event_payload(summary: Mapping[str, Any], run_page_url: str | None = None) -> dict[str, Any]:
    """The ``TriggerEvent`` payload for a finished run (plain values only)."""
    state = RunState.from_dict(summary["run_state"])
    return {
        "status": "success" if state.is_successful else "failed",
        "run_id": int(summary["run_id"]),
        "job_id": summary.get("job_id"),
        "run_page_url": summary.get("run_page_url") or run_page_url,
        "run_state": state.to_dict(),
        "tasks": list(summary.get("tasks") or []),
        "error_code": None if state.is_successful else state.outcome,
        "message": f"run {summary['run_id']} {state.describe()}",
    }


def error_payload(run_id: int, run_page_url: str | None, err: DbxError) -> dict[str, Any]:
    """Payload when the run could not be watched (its outcome is unknown)."""
    return {
        "status": "error",
        "run_id": run_id,
        "job_id": None,
        "run_page_url": run_page_url,
        "run_state": None,
        "tasks": [],
        "error_code": err.error_code if err.error_code is not None else type(err).__name__,
        "message": str(err),
    }


def raise_for_watch_error(event: Mapping[str, Any]) -> None:
    """Raise when the trigger could not watch the run (an ``error`` event: the outcome is unknown)."""
    if event.get("status") == "error":
        raise DbxError(
            f"Watching Databricks run {event.get('run_id')} failed: {event.get('message')}",
            error_code=event.get("error_code"),
        )


def _trim_head_tail(text: str, keep: int) -> str:
    lines = text.rstrip().splitlines()
    if len(lines) <= keep:
        return "\n".join(lines)
    head = keep // 4
    tail = keep - head
    return "\n".join([*lines[:head], f"... ({len(lines) - keep} lines omitted) ...", *lines[-tail:]])


def _tail(text: str, keep: int) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join(lines[-keep:])


def collect_task_outputs(hook: _OutputReader, summary: Mapping[str, Any]) -> dict[str, Any]:
    """``{task_key: notebook_output.result}`` for each notebook task run (other kinds have none)."""
    outputs: dict[str, Any] = {}
    for task in summary.get("tasks") or []:
        if not task.get("notebook") or not task.get("run_id"):
            continue
        output = hook.get_run_output(int(task["run_id"]))
        notebook_output = output.get("notebook_output") or {}
        outputs[task["task_key"]] = notebook_output.get("result")
    return outputs


def _is_failed_task(task: Mapping[str, Any]) -> bool:
    state = RunState.from_dict(task)
    return state.is_terminal and not state.is_successful


def _log_without_trace(logs: str, trace: str | None) -> str:
    """The notebook's output less the traceback it printed, which the trace line already shows."""
    if trace and trace.strip() and trace.strip() in logs:
        logs = logs.replace(trace.strip(), "")
    return logs.strip()


def failure_error(
    hook: _OutputReader, summary: Mapping[str, Any], log: logging.Logger | Any
) -> DatabricksRunFailedError:
    """Log why the run failed, each fact once: the failed tasks with their remote error, trimmed
    trace and log tail, the casualties, the run page; then build the one-line error."""
    state = RunState.from_dict(summary["run_state"])
    run_id = int(summary["run_id"])
    url = summary.get("run_page_url")
    tasks = [t for t in summary.get("tasks") or [] if _is_failed_task(t)]
    # Tasks that failed themselves come first; UPSTREAM_FAILED & co only name the casualties.
    culprits = [t for t in tasks if RunState.from_dict(t).outcome not in NO_OUTPUT_RESULT_STATES]
    # The run's state message repeats a task's error; with tasks to report, the tasks tell it.
    run_phrase = state.describe_briefly() if culprits else state.describe()
    log.error("Databricks run %s %s. Run page: %s", run_id, run_phrase, url)
    for task in culprits:
        key = task["task_key"]
        try:
            output = hook.get_run_output(int(task["run_id"]))
        except DbxError as err:
            log.error("Task %r (run %s) %s.", key, task["run_id"], RunState.from_dict(task).describe())
            log.warning("Could not read the output of task run %s: %s", task["run_id"], err)
            continue
        error = str(output.get("error") or "").strip()
        reason = f"failed: {error}" if error else RunState.from_dict(task).describe()
        log.error("Task %r (run %s) %s", key, task["run_id"], reason)
        trace = output.get("error_trace")
        if trace:
            log.error("Task %r error trace:\n%s", key, _trim_head_tail(trace, TRACE_LINES))
        logs = _log_without_trace(str(output.get("logs") or ""), trace)
        if logs:
            log.error(
                "Task %r log tail (last %d lines):\n%s", key, LOG_TAIL_LINES, _tail(logs, LOG_TAIL_LINES)
            )
    for task in tasks:
        if task not in culprits:
            log.error("Task %r %s.", task["task_key"], RunState.from_dict(task).describe())
    failed_keys = [t["task_key"] for t in (culprits or tasks)]
    tasks_part = f"; failed tasks: {', '.join(failed_keys)}" if failed_keys else ""
    message = f"Databricks run {run_id} {run_phrase} (result state {state.outcome}){tasks_part}; see {url}"
    return DatabricksRunFailedError(
        message, run_id=run_id, result_state=state.outcome, failed_tasks=failed_keys, run_page_url=url
    )
