"""Read side of runs: runs/get (2.2 task pages, repair history), task runs, runs/list pages.

Reads run documents from the registry and checks job permissions; never writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import EmulatorError, invalid_parameter
from airflow_dbx_provider.emulator.services import run_model as rm
from airflow_dbx_provider.emulator.services.jobs import PAGE_ARRAY_LIMIT
from airflow_dbx_provider.emulator.wire import decode_token, encode_token

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.config import EmulatorConfig
    from airflow_dbx_provider.emulator.services.jobs import JobsService
    from airflow_dbx_provider.emulator.services.permissions import PermissionsService
    from airflow_dbx_provider.emulator.services.run_registry import RunRegistry
    from airflow_dbx_provider.emulator.services.run_requests import RunFilter


class RunQueries:
    def __init__(
        self,
        registry: RunRegistry,
        jobs: JobsService,
        permissions: PermissionsService,
        config: EmulatorConfig,
        base_url: Callable[[], str],
    ) -> None:
        self._registry = registry
        self._jobs = jobs
        self._permissions = permissions
        self._config = config  # read per call: tests switch `missing_run_status` at run time
        self._base_url = base_url

    # -- lookups shared with the runs service -----------------------------------------------------
    def missing(self, run_id: int) -> EmulatorError:
        """400 INVALID_PARAMETER_VALUE as Databricks answers today, or 404 if so configured."""
        status = self._config.missing_run_status
        code = "INVALID_PARAMETER_VALUE" if status == 400 else "RESOURCE_DOES_NOT_EXIST"
        return EmulatorError(code, f"Run {run_id} does not exist.", status)

    def get_run(self, run_id: int) -> dict[str, Any]:
        run = self._registry.get(run_id)
        if run is None:
            raise self.missing(run_id)
        return run

    def checked(self, principal: Principal, run_id: int, level: str) -> dict[str, Any]:
        run = self.get_run(run_id)
        self._permissions.check_job(principal, run["job_id"], level)
        return run

    def _base(self) -> tuple[str, str]:
        return self._base_url(), self._config.workspace_id

    # -- runs/get ---------------------------------------------------------------------------------
    def get_json(
        self, principal: Principal, run_id: int, version: str, include_history: bool, page_token: str | None
    ) -> dict[str, Any]:
        parent_id = self._registry.parent_of(run_id)
        if parent_id is not None and parent_id != run_id and run_id not in self._registry:
            self.checked(principal, parent_id, "CAN_VIEW")
            return self.task_run_json(parent_id, run_id)
        run = self.checked(principal, run_id, "CAN_VIEW")
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

    # -- runs/list --------------------------------------------------------------------------------
    def list_json(self, principal: Principal, version: str, query: RunFilter) -> dict[str, Any]:
        limit, job_id = query.limit, query.job_id
        if not 1 <= limit <= 25:
            raise invalid_parameter(f"The limit {limit} is out of range; it must be between 1 and 25.")
        if query.active_only and query.completed_only:
            raise invalid_parameter("Only one of active_only and completed_only can be true.")
        if job_id is not None:
            self._jobs.check(principal, job_id, "CAN_VIEW")
        token = decode_token(query.page_token) if query.page_token else {}
        ids = self._registry.order
        if "before" in token:  # next page: older runs
            ids = [i for i in ids if i < int(token["before"])]
        matching: list[dict[str, Any]] = []
        newer: list[dict[str, Any]] = []
        for run_id in reversed(ids):
            run = self._registry.get(run_id)
            if run is None or not self._list_filter(principal, run, query):
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
        result: dict[str, Any] = {}
        if page:
            result["runs"] = [rm.public_run(r, base, ws, include_tasks=query.expand_tasks) for r in page]
        if more and page:
            result["next_page_token"] = encode_token({"before": page[-1]["run_id"]})
        if token and page:
            result["prev_page_token"] = encode_token({"after": page[0]["run_id"]})
        if version == "2.1":
            result["has_more"] = more
        return result

    def _list_filter(self, principal: Principal, run: dict[str, Any], query: RunFilter) -> bool:
        if query.job_id is not None and run["job_id"] != query.job_id:
            return False
        terminal = rm.is_terminal(run)
        if (query.active_only and terminal) or (query.completed_only and not terminal):
            return False
        if query.run_type and run["run_type"] != query.run_type:
            return False
        if query.start_time_from and run["start_time"] < query.start_time_from:
            return False
        if query.start_time_to and run["start_time"] > query.start_time_to:
            return False
        if principal.is_admin:
            return True
        try:
            self._permissions.check_job(principal, run["job_id"], "CAN_VIEW")
        except EmulatorError:
            return False
        return True
