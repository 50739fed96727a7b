"""How the poller addresses runs: start-time windows of ``runs/list``, progress signatures, pool keys.

Pure functions (no I/O), so the planning is tested on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_dbx_provider.runs.state import RunState

PAGE_SIZE = 25  # the runs/list maximum


@dataclass(frozen=True)
class Window:
    """One ``runs/list`` request: runs started within ``[start_from, start_to]`` (of ``job_id``)."""

    start_from: int
    start_to: int
    job_id: int | None
    run_ids: frozenset[int]


def plan_windows(
    known: Mapping[int, tuple[int, int | None]],
    others: Mapping[int, int] | None = None,
    page_size: int = PAGE_SIZE,
    *,
    no_filter_jobs: Iterable[int] = (),
) -> list[Window]:
    """Cut the watched runs ``{run_id: (start_time, job_id)}`` into start-time windows.

    ``others`` are runs nobody watches (``{run_id: start_time}``, from the last listings): finished
    runs of this poller and other people's runs. They are listed too when their start time falls in
    a window, so a window holds at most ``page_size`` runs *in all*, and a window of runs that all
    finished is dropped: the windows of N runs cost at most ``ceil(N / page_size)`` calls once the
    landscape is known, fewer as runs finish. A window of one job's runs is filtered by that job
    (unless it is one of ``no_filter_jobs``).
    """
    skip_jobs = set(no_filter_jobs)
    runs = [(start, run_id, True) for run_id, (start, _) in known.items()]
    runs += [(start, run_id, False) for run_id, start in (others or {}).items() if run_id not in known]
    runs.sort(reverse=True)
    windows = []
    for i in range(0, len(runs), page_size):
        chunk = runs[i : i + page_size]
        watched = [run_id for _, run_id, is_watched in chunk if is_watched]
        if not watched:
            continue
        jobs = {known[run_id][1] for run_id in watched}
        only_job = next(iter(jobs)) if len(jobs) == 1 else None
        if only_job in skip_jobs:
            only_job = None
        windows.append(Window(chunk[-1][0], chunk[0][0], only_job, frozenset(watched)))
    return windows


def needs_full_run(run: Mapping[str, Any]) -> bool:
    """A finished run whose list item lacks tasks (2.2 lists carry at most 100 per run)."""
    return bool(run.get("has_more")) and RunState.of_run(run).is_terminal


def progress_signature(run: Mapping[str, Any]) -> tuple[Any, ...]:
    """What the progress log shows of a run: its state and each task attempt's state."""
    tasks = tuple(
        sorted(
            (
                str(t.get("task_key")),
                int(t.get("attempt_number") or 0),
                str(RunState.from_api(t.get("state"))),
            )
            for t in run.get("tasks") or []
        )
    )
    return (str(RunState.of_run(run)), tasks)


def workspace_key(host: str, *credentials: Any) -> str:
    """Key of a shared poller: the host plus a hash of the credentials (never the raw token)."""
    digest = hashlib.sha256("\x00".join("" if c is None else str(c) for c in credentials).encode())
    return f"{host}#{digest.hexdigest()[:16]}"
