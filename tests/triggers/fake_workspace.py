"""An in-memory stand-in for the async hook's runs API (poller unit tests only)."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from typing import Any

from airflow_dbx_provider.exceptions import DatabricksApiError, DatabricksNotFoundError


class FakeRunsClient:
    """Runs end at a given event-loop time; results are SUCCESS unless listed in ``failing``."""

    def __init__(self) -> None:
        self.runs: dict[int, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.closed = 0
        self.list_errors = 0  # the next N list calls fail

    def add(self, run_id: int, *, job_id: int, ends_in: float = math.inf, result: str = "SUCCESS") -> None:
        """A run that ends after ``ends_in`` seconds, or (by default) when :meth:`finish` says so."""
        now = asyncio.get_running_loop().time()
        self.runs[run_id] = {"job_id": job_id, "ends_at": now + ends_in, "result": result}

    def finish(self, *run_ids: int) -> None:
        now = asyncio.get_running_loop().time()
        for run_id in run_ids:
            self.runs[run_id]["ends_at"] = now

    def _view(self, run_id: int) -> dict[str, Any]:
        spec = self.runs[run_id]
        done = asyncio.get_running_loop().time() >= spec["ends_at"]
        state = (
            {"life_cycle_state": "TERMINATED", "result_state": spec["result"]}
            if done
            else {"life_cycle_state": "RUNNING"}
        )
        return {
            "run_id": run_id,
            "job_id": spec["job_id"],
            "run_page_url": f"http://ws/#job/{spec['job_id']}/run/{run_id}",
            "state": {**state, "state_message": ""},
            "tasks": [{"task_key": "t", "run_id": run_id * 10, "state": state}],
        }

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
        limit: int = 25,
        page_token: str | None = None,
    ) -> dict[str, Any]:
        self.calls["list"] += 1
        self.calls["list_job" if job_id is not None else "list_all"] += 1
        if self.list_errors:
            self.list_errors -= 1
            raise DatabricksApiError("boom", status_code=503, error_code="TEMPORARILY_UNAVAILABLE")
        runs = [self._view(r) for r in sorted(self.runs, reverse=True)]
        runs = [r for r in runs if job_id is None or r["job_id"] == job_id]
        if active_only:
            runs = [r for r in runs if r["state"]["life_cycle_state"] != "TERMINATED"]
        # A cursor ("runs older than this id"), as the emulator's runs/list gives: runs that end
        # between two page reads must not shift the later pages.
        if page_token:
            runs = [r for r in runs if r["run_id"] < int(page_token)]
        page = runs[:limit]
        answer: dict[str, Any] = {"runs": page}
        if len(runs) > limit:
            answer["next_page_token"] = str(page[-1]["run_id"])
        return answer

    async def aclose(self) -> None:
        self.closed += 1
