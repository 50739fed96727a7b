"""Read side of runs: runs/get (2.2 task pages, repair history), task runs, runs/list pages.

A mixin of `RunsService`, split out to keep modules small; it only reads run documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import EmulatorError, invalid_parameter
from airflow_dbx_provider.emulator.services import run_model as rm
from airflow_dbx_provider.emulator.services.jobs import PAGE_ARRAY_LIMIT, decode_token, encode_token

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.store import Collection
    from airflow_dbx_provider.emulator.workspace_state import WorkspaceState


class RunQueries:
    state: WorkspaceState
    runs: Collection
    _order: list[int]
    _task_index: dict[int, int]

    def get_run(self, run_id: int) -> dict[str, Any]:
        raise NotImplementedError

    def _checked(self, principal: Principal, run_id: int, level: str) -> dict[str, Any]:
        raise NotImplementedError

    # -- queries ----------------------------------------------------------------------------------
    def _base(self) -> tuple[str, str]:
        return self.state.base_url, self.state.config.workspace_id

    def get_json(
        self, principal: Principal, run_id: int, version: str, include_history: bool, page_token: str | None
    ) -> dict[str, Any]:
        parent_id = self._task_index.get(run_id)
        if parent_id is not None and parent_id != run_id and run_id not in self.runs:
            self._checked(principal, parent_id, "CAN_VIEW")
            return self.task_run_json(parent_id, run_id)
        run = self._checked(principal, run_id, "CAN_VIEW")
        base, ws = self._base()
        if version == "2.1":
            result = rm.public_run(run, base, ws)
        else:
            offset = int(decode_token(page_token).get("o", 0)) if page_token else 0
            page = run["tasks"][offset : offset + PAGE_ARRAY_LIMIT]
            result = rm.public_run(run, base, ws, tasks=page)
            if len(run["tasks"]) > offset + PAGE_ARRAY_LIMIT:
                result["has_more"] = True
                result["next_page_token"] = encode_token({"o": offset + PAGE_ARRAY_LIMIT})
        if include_history:
            result["repair_history"] = rm.repair_history(run)
        return result

    def task_run_json(self, parent_id: int, task_run_id: int) -> dict[str, Any]:
        """A task run seen as a Run (get-output's `metadata`, runs/get on a task run id)."""
        run = self.get_run(parent_id)
        task = next(t for t in run["tasks"] if t["run_id"] == task_run_id)
        base, ws = self._base()
        item = rm.public_run(run, base, ws, include_tasks=False)
        public = rm.public_task(task, base, ws, run["job_id"])
        item.update(public)
        item["parent_run_id"] = parent_id
        item["tasks"] = [public]
        return item

    def list_json(self, principal: Principal, version: str, params: dict[str, Any]) -> dict[str, Any]:
        limit, job_id = params["limit"], params.get("job_id")
        if not 1 <= limit <= 25:
            raise invalid_parameter(f"The limit {limit} is out of range; it must be between 1 and 25.")
        if params.get("active_only") and params.get("completed_only"):
            raise invalid_parameter("Only one of active_only and completed_only can be true.")
        if job_id is not None:
            self.state.jobs.check(principal, job_id, "CAN_VIEW")
        token = decode_token(params["page_token"]) if params.get("page_token") else {}
        ids = self._order
        if "before" in token:  # next page: older runs
            ids = [i for i in ids if i < int(token["before"])]
        matching: list[dict[str, Any]] = []
        newer: list[dict[str, Any]] = []
        for run_id in reversed(ids):
            run = self.runs.get(run_id)
            if run is None or not self._list_filter(principal, run, params):
                continue
            if "after" in token and run_id <= int(token["after"]):
                break
            matching.append(run)
            if len(matching) > limit and "after" not in token:
                break
        if "after" in token:  # previous page: the `limit` runs just newer than the token
            newer = matching[-limit:]
            matching = newer + [{}]  # sentinel: an older page exists
        page, more = matching[:limit], len(matching) > limit
        base, ws = self._base()
        expand = bool(params.get("expand_tasks"))
        result: dict[str, Any] = {}
        if page:
            result["runs"] = [rm.public_run(r, base, ws, include_tasks=expand) for r in page]
        if more and page:
            result["next_page_token"] = encode_token({"before": page[-1]["run_id"]})
        if token and page:
            result["prev_page_token"] = encode_token({"after": page[0]["run_id"]})
        if version == "2.1":
            result["has_more"] = more
        return result

    def _list_filter(self, principal: Principal, run: dict[str, Any], params: dict[str, Any]) -> bool:
        if params.get("job_id") is not None and run["job_id"] != params["job_id"]:
            return False
        terminal = rm.is_terminal(run)
        if (params.get("active_only") and terminal) or (params.get("completed_only") and not terminal):
            return False
        if params.get("run_type") and run["run_type"] != params["run_type"]:
            return False
        if params.get("start_time_from") and run["start_time"] < params["start_time_from"]:
            return False
        if params.get("start_time_to") and run["start_time"] > params["start_time_to"]:
            return False
        if principal.is_admin:
            return True
        try:
            self.state.permissions.check_job(principal, run["job_id"], "CAN_VIEW")
        except EmulatorError:
            return False
        return True
