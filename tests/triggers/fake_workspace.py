"""An in-memory stand-in for the async hook's runs API (poller unit tests only).

``runs/list`` follows the real API's filters the poller relies on: ``active_only``,
``completed_only``, ``job_id``, ``start_time_from``/``start_time_to`` (inclusive), ``expand_tasks``
(tasks only when asked), newest first, with a cursor page token.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from typing import Any

from airflow_dbx_provider.exceptions import DatabricksApiError, DatabricksNotFoundError


class FakeRunsClient:
    """Runs end at a given event-loop time; results are SUCCESS unless listed in ``failing``.

    A run's ``start_time`` is its creation order (ms), unless given.
    """

    def __init__(self) -> None:
        self.runs: dict[int, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.list_params: list[dict[str, Any]] = []
        self.closed = 0
        self.list_errors = 0  # the next N list calls fail
        self._clock = 1_000_000

    def add(
        self,
        run_id: int,
        *,
        job_id: int,
        ends_in: float = math.inf,
        result: str = "SUCCESS",
        start_time: int | None = None,
        tasks: int = 1,
    ) -> None:
        """A run that ends after ``ends_in`` seconds, or (by default) when :meth:`finish` says so."""
        now = asyncio.get_running_loop().time()
        self._clock += 1
        self.runs[run_id] = {
            "job_id": job_id,
            "ends_at": now + ends_in,
            "result": result,
            "start_time": self._clock if start_time is None else start_time,
            "tasks": tasks,
            "task_phase": "RUNNING",
        }

    def finish(self, *run_ids: int) -> None:
        now = asyncio.get_running_loop().time()
        for run_id in run_ids:
            self.runs[run_id]["ends_at"] = now

    def _view(self, run_id: int, *, tasks: bool = True) -> dict[str, Any]:
        spec = self.runs[run_id]
        done = asyncio.get_running_loop().time() >= spec["ends_at"]
        state = (
            {"life_cycle_state": "TERMINATED", "result_state": spec["result"]}
            if done
            else {"life_cycle_state": "RUNNING"}
        )
        view: dict[str, Any] = {
            "run_id": run_id,
            "job_id": spec["job_id"],
            "start_time": spec["start_time"],
            "run_page_url": f"http://ws/#job/{spec['job_id']}/run/{run_id}",
            "state": {**state, "state_message": ""},
        }
        if tasks:
            task_state = state if done else {"life_cycle_state": spec["task_phase"]}
            view["tasks"] = [
                {"task_key": f"t{i}" if i else "t", "run_id": run_id * 10 + i, "state": task_state}
                for i in range(spec["tasks"])
            ]
        return view

    async def get_run(self, run_id: int) -> dict[str, Any]:
        self.calls["get"] += 1
        if run_id not in self.runs:
            raise DatabricksNotFoundError(f"Run {run_id} does not exist.", status_code=400)
        return self._view(run_id)

    async def list_runs_page(
        self,
        *,
        job_id: int | None = None,
        active_only: bool = False,
        completed_only: bool = False,
        limit: int = 25,
        expand_tasks: bool = False,
        page_token: str | None = None,
        start_time_from: int | None = None,
        start_time_to: int | None = None,
    ) -> dict[str, Any]:
        assert limit <= 25 and not (active_only and completed_only)
        self.calls["list"] += 1
        self.calls["list_job" if job_id is not None else "list_all"] += 1
        self.list_params.append(
            {"job_id": job_id, "active_only": active_only, "from": start_time_from, "to": start_time_to}
        )
        if self.list_errors:
            self.list_errors -= 1
            raise DatabricksApiError("boom", status_code=503, error_code="TEMPORARILY_UNAVAILABLE")
        order = sorted(self.runs, key=lambda r: (self.runs[r]["start_time"], r), reverse=True)
        runs = [self._view(r, tasks=expand_tasks) for r in order]
        runs = [r for r in runs if job_id is None or r["job_id"] == job_id]
        runs = [r for r in runs if start_time_from is None or r["start_time"] >= start_time_from]
        runs = [r for r in runs if start_time_to is None or r["start_time"] <= start_time_to]
        if active_only:
            runs = [r for r in runs if r["state"]["life_cycle_state"] != "TERMINATED"]
        if completed_only:
            runs = [r for r in runs if r["state"]["life_cycle_state"] == "TERMINATED"]
        # A cursor ("runs after this position"), as the emulator's runs/list gives: runs that end
        # between two page reads must not shift the later pages.
        if page_token:
            start, run_id = (int(part) for part in page_token.split(":"))
            runs = [r for r in runs if (r["start_time"], r["run_id"]) < (start, run_id)]
        page = runs[:limit]
        answer: dict[str, Any] = {"runs": page}
        if len(runs) > limit:
            answer["next_page_token"] = f"{page[-1]['start_time']}:{page[-1]['run_id']}"
        return answer

    async def aclose(self) -> None:
        self.closed += 1
