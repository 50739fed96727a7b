"""Run and task-run documents: state vocabulary, transitions and the wire serialisation.

A run is one JSON document in the `runs` collection. Keys starting with `_` are the engine's
bookkeeping and never reach the wire. Every attempt of a task (retries, repairs) is its own
entry in `tasks` with its own `run_id`, as Databricks reports them.
"""

from __future__ import annotations

from typing import Any

TERMINAL = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})
QUEUED = "QUEUED"
# Results that make downstream ALL_SUCCESS tasks UPSTREAM_FAILED and the run FAILED.
FAILED_RESULTS = frozenset({"FAILED", "TIMEDOUT", "UPSTREAM_FAILED", "MAXIMUM_CONCURRENT_RUNS_REACHED"})
OK_RESULTS = frozenset({"SUCCESS", "EXCLUDED", "DISABLED", "SUCCESS_WITH_FAILURES"})
CANCELED_RESULTS = frozenset({"CANCELED", "UPSTREAM_CANCELED"})

_STATUS_STATE = {
    "QUEUED": "QUEUED",
    "PENDING": "PENDING",
    "BLOCKED": "BLOCKED",
    "RUNNING": "RUNNING",
    "WAITING_FOR_RETRY": "WAITING",
    "TERMINATING": "TERMINATING",
    "TERMINATED": "TERMINATED",
    "SKIPPED": "TERMINATED",
    "INTERNAL_ERROR": "TERMINATED",
}

# result_state → (termination code, termination type), per SDK 0.162's enums.
_TERMINATION = {
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "SUCCESS_WITH_FAILURES": ("SUCCESS_WITH_FAILURES", "SUCCESS"),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "CANCELED": ("CANCELED", "SUCCESS"),
    "UPSTREAM_FAILED": ("SKIPPED", "SUCCESS"),
    "UPSTREAM_CANCELED": ("CANCELED", "SUCCESS"),
    "EXCLUDED": ("SKIPPED", "SUCCESS"),
    "DISABLED": ("DISABLED", "SUCCESS"),
    "MAXIMUM_CONCURRENT_RUNS_REACHED": ("MAX_CONCURRENT_RUNS_EXCEEDED", "CLIENT_ERROR"),
}

DEFAULT_MESSAGES = {
    "SUCCESS": "",
    "CANCELED": "Run cancelled.",
    "TIMEDOUT": "Run timed out.",
    "UPSTREAM_FAILED": "Upstream task(s) failed.",
    "UPSTREAM_CANCELED": "Upstream task(s) were canceled.",
    "EXCLUDED": "The task was excluded because its run_if condition was not met.",
    "DISABLED": "This task is disabled.",
}


# Termination codes Databricks reports as the user's error (type CLIENT_ERROR), also on the run.
CLIENT_ERROR_CODES = frozenset({"LIBRARY_INSTALLATION_ERROR"})


def set_state(
    doc: dict[str, Any],
    life_cycle_state: str,
    result_state: str | None = None,
    message: str = "",
    *,
    code: str | None = None,
    termination_type: str | None = None,
    user_cancelled_or_timedout: bool = False,
    queue_reason: str | None = None,
) -> None:
    """Set `state` and the matching `status` (life cycle v2) of a run or task run together."""
    if result_state is not None and not message:
        message = DEFAULT_MESSAGES.get(result_state, "")
    state: dict[str, Any] = {
        "life_cycle_state": life_cycle_state,
        "state_message": message or "",
        "user_cancelled_or_timedout": user_cancelled_or_timedout,
    }
    if result_state is not None:
        state["result_state"] = result_state
    if queue_reason:
        state["queue_reason"] = queue_reason
    status: dict[str, Any] = {"state": _STATUS_STATE[life_cycle_state]}
    if life_cycle_state in TERMINAL:
        default_code, default_type = _TERMINATION.get(
            result_state or "FAILED", ("INTERNAL_ERROR", "INTERNAL_ERROR")
        )
        if life_cycle_state == "INTERNAL_ERROR":
            default_code, default_type = "INTERNAL_ERROR", "INTERNAL_ERROR"
        if code in CLIENT_ERROR_CODES:
            default_type = "CLIENT_ERROR"
        status["termination_details"] = {
            "code": code or default_code,
            "type": termination_type or default_type,
            "message": message or "",
        }
    if queue_reason:
        status["queue_details"] = {"code": "MAX_CONCURRENT_RUNS_REACHED", "message": queue_reason}
    doc["state"] = state
    doc["status"] = status


def life(doc: dict[str, Any]) -> str:
    return str(doc["state"]["life_cycle_state"])


def result(doc: dict[str, Any]) -> str | None:
    value = doc["state"].get("result_state")
    return str(value) if value is not None else None


def is_terminal(doc: dict[str, Any]) -> bool:
    return life(doc) in TERMINAL


def is_active(doc: dict[str, Any]) -> bool:
    """Counts against max_concurrent_runs (queued runs do not)."""
    return life(doc) not in TERMINAL and life(doc) != QUEUED


def latest_attempts(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The newest attempt per task_key (retries and repairs append entries)."""
    latest: dict[str, dict[str, Any]] = {}
    for task in run["tasks"]:
        latest[task["task_key"]] = task
    return latest


def run_page_url(base_url: str, workspace_id: str, job_id: int, run_id: int) -> str:
    return f"{base_url}/?o={workspace_id}#job/{job_id}/run/{run_id}"


def public_task(task: dict[str, Any], base_url: str, workspace_id: str, job_id: int) -> dict[str, Any]:
    item = {k: v for k, v in task.items() if k[0] != "_"}
    item["run_page_url"] = run_page_url(base_url, workspace_id, job_id, task["run_id"])
    return item


def public_run(
    run: dict[str, Any],
    base_url: str,
    workspace_id: str,
    *,
    tasks: list[dict[str, Any]] | None = None,
    include_tasks: bool = True,
) -> dict[str, Any]:
    """The wire form of a run. `tasks` overrides the task list (2.2 pages it at 100)."""
    item = {k: v for k, v in run.items() if k[0] != "_" and k != "tasks"}
    job_id = run["job_id"]
    item["run_page_url"] = run_page_url(base_url, workspace_id, job_id, run["run_id"])
    if include_tasks:
        source = run["tasks"] if tasks is None else tasks
        item["tasks"] = [public_task(t, base_url, workspace_id, job_id) for t in source]
    return item


def repair_history(run: dict[str, Any]) -> list[dict[str, Any]]:
    """ORIGINAL first, then one REPAIR per runs/repair call (what `include_history` returns)."""
    original_ids = [t["run_id"] for t in run["tasks"] if not t.get("_repair_id")]
    first = run.get("_original") or {}
    history = [
        {
            "id": run["run_id"],
            "type": "ORIGINAL",
            "start_time": run["start_time"],
            "end_time": first.get("end_time", run["end_time"]),
            "state": first.get("state", run["state"]),
            "status": first.get("status", run["status"]),
            "task_run_ids": original_ids,
        }
    ]
    for repair in run.get("_repairs", []):
        entry = {k: v for k, v in repair.items() if k[0] != "_"}
        entry["task_run_ids"] = [t["run_id"] for t in run["tasks"] if t.get("_repair_id") == repair["id"]]
        history.append(entry)
    return history


def upstream_decision(task: dict[str, Any], latest: dict[str, dict[str, Any]]) -> str | None:
    """None while upstream tasks run; "run"; or the result that replaces running the task."""
    upstream = [latest[d["task_key"]] for d in task.get("depends_on", []) if d["task_key"] in latest]
    if any(u["_phase"] != "done" for u in upstream):
        return None
    if not upstream:
        return "run"
    results = [result(u) for u in upstream]
    ok = [r in OK_RESULTS for r in results]
    failed = [r in FAILED_RESULTS or r is None for r in results]
    canceled = any(r in CANCELED_RESULTS for r in results)
    run_if = task.get("run_if", "ALL_SUCCESS")
    met = {
        "ALL_SUCCESS": all(ok),
        "AT_LEAST_ONE_SUCCESS": any(r == "SUCCESS" for r in results),
        "NONE_FAILED": not any(failed) and not canceled,
        "ALL_DONE": True,
        "AT_LEAST_ONE_FAILED": any(failed),
        "ALL_FAILED": all(failed),
    }.get(run_if, all(ok))
    if met:
        return "run"
    if run_if == "ALL_SUCCESS":
        return "UPSTREAM_CANCELED" if canceled and not any(failed) else "UPSTREAM_FAILED"
    return "EXCLUDED"


def outcome(latest: dict[str, dict[str, Any]]) -> tuple[str, str, str, str | None]:
    """The final (life cycle, result, message, termination code) of a run whose tasks are done."""
    tasks = list(latest.values())
    broken = [t for t in tasks if life(t) == "INTERNAL_ERROR"]
    if broken:
        code = broken[0].get("status", {}).get("termination_details", {}).get("code")
        message = broken[0]["state"]["state_message"]
        return "INTERNAL_ERROR", "FAILED", message, code if code in CLIENT_ERROR_CODES else None
    results = [result(t) for t in tasks]
    if all(r in OK_RESULTS for r in results):
        return "TERMINATED", "SUCCESS", "", None
    failed = [t for t in tasks if result(t) in ("FAILED", "TIMEDOUT")]
    if not failed:
        if any(r in CANCELED_RESULTS for r in results):
            return "TERMINATED", "CANCELED", "Run cancelled.", "CANCELED"
        failed = [t for t in tasks if result(t) not in OK_RESULTS]
    upstream = {d["task_key"] for t in tasks for d in t.get("depends_on", [])}
    leaves = [t for t in tasks if t["task_key"] not in upstream]
    if all(result(t) in OK_RESULTS for t in leaves):
        return "TERMINATED", "SUCCESS_WITH_FAILURES", "", None
    first = failed[0]
    detail = first["state"]["state_message"] or "Workload failed, see run output for details"
    message = f"Task {first['task_key']} failed with message: {detail}."
    if first["task_key"] in upstream:
        message += " This caused all downstream tasks to get skipped."
    return "TERMINATED", str(result(first)), message, None
