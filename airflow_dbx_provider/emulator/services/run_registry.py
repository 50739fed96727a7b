"""Where run documents live: the `runs` collection plus the in-memory indexes over it.

Shared by the runs service (writes), run queries (reads) and, through small callables, the
run engine. `active` holds the runs not yet terminal (queued included) so the engine's tick
and `active_only` listings never scan finished runs; `order` is creation order; the task
index maps every task-run id (each attempt) to its parent run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.services import run_model as rm

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.store import Store


class RunRegistry:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.runs = store.collection("runs")
        self.active: dict[int, dict[str, Any]] = {}
        self.order: list[int] = []
        self._task_index: dict[int, int] = {}
        self.rebuild()

    def rebuild(self) -> None:
        """Recompute the indexes from the collection (start-up, and after a reset)."""
        self.active.clear()
        self._task_index.clear()
        runs = sorted(self.runs.values(), key=lambda r: r["run_id"])
        self.order = [r["run_id"] for r in runs]
        for run in runs:
            self._index(run)

    def _index(self, run: dict[str, Any]) -> None:
        for task in run["tasks"]:
            self._task_index[task["run_id"]] = run["run_id"]
        if not rm.is_terminal(run):
            self.active[run["run_id"]] = run

    # -- ids and lookups --------------------------------------------------------------------------
    def new_run_id(self) -> int:
        """Runs and task runs share one id sequence, as on Databricks."""
        return self._store.next_id("run_id", start=1001)

    def get(self, run_id: int) -> dict[str, Any] | None:
        return self.runs.get(run_id)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self.runs

    def parent_of(self, task_run_id: int) -> int | None:
        return self._task_index.get(task_run_id)

    def active_runs(self) -> list[dict[str, Any]]:
        return list(self.active.values())

    # -- writes -----------------------------------------------------------------------------------
    def add(self, run: dict[str, Any]) -> None:
        self.order.append(run["run_id"])
        self.save(run)

    def save(self, run: dict[str, Any]) -> None:
        """Store (or re-store after mutating) a run and keep the indexes in step."""
        self.runs.put(run["run_id"], run)
        self._index(run)
        if rm.is_terminal(run):
            self.active.pop(run["run_id"], None)

    def index_task(self, task_run_id: int, run_id: int) -> None:
        self._task_index[task_run_id] = run_id

    def reactivate(self, run: dict[str, Any]) -> None:
        """A repaired run is active again, with its new attempts indexed."""
        self.active[run["run_id"]] = run
        self.save(run)

    def remove(self, run: dict[str, Any]) -> None:
        for task in run["tasks"]:
            self._task_index.pop(task["run_id"], None)
        self.active.pop(run["run_id"], None)
        self.runs.delete(run["run_id"])
        if run["run_id"] in self.order:
            self.order.remove(run["run_id"])
