"""Jobs API 2.1 / 2.2 routes: parse the wire into typed arguments, call the jobs and runs services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.routing import ApiRequest, route
from airflow_dbx_provider.emulator.services.job_settings import check_job_clusters, check_name, drop_nulls
from airflow_dbx_provider.emulator.services.run_requests import (
    LEGACY_TOP_LEVEL,
    OVERRIDE_FIELDS,
    Repair,
    RunFilter,
    RunNow,
    Submit,
)
from airflow_dbx_provider.emulator.wire import INT32_MAX, to_int
from airflow_dbx_provider.job_schema import TASK_KINDS

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.services.jobs import JobsService
    from airflow_dbx_provider.emulator.services.operations import JobOperations
    from airflow_dbx_provider.emulator.services.run_queries import RunQueries
    from airflow_dbx_provider.emulator.services.runs import RunsService

VERSIONS = ("2.1", "2.2")


def jobs_route(template: str, method: str = "POST") -> Any:
    return route(method, template, family="jobs", versions=VERSIONS)


def _token(value: Any) -> str | None:
    """An idempotency token: a string of at most 64 characters (checked by the runs service)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid_parameter("Invalid value for field idempotency_token: expected a string.")
    return value


def _overriding(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in OVERRIDE_FIELDS if params.get(k) is not None}


def _object(req: ApiRequest, name: str) -> dict[str, Any]:
    value = req.get(name) or {}
    if not isinstance(value, dict):
        raise invalid_parameter(f"{name} must be an object")
    return value


def _offset(req: ApiRequest) -> int:
    """The deprecated `offset` of jobs/list and runs/list: 0 or more."""
    value = req.get("offset")
    return 0 if value is None or value == "" else to_int(value, "offset", 0)


def _key_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_parameter(f"{name} must be a list of task keys")
    return [str(k) for k in value]


class JobsHandlers:
    def __init__(
        self, jobs: JobsService, runs: RunsService, run_queries: RunQueries, operations: JobOperations
    ) -> None:
        self.jobs = jobs
        self.runs = runs
        self.run_queries = run_queries
        self.operations = operations

    # -- jobs -------------------------------------------------------------------------------------
    @jobs_route("/jobs/create")
    def create(self, req: ApiRequest) -> dict[str, Any]:
        settings = dict(req.params)
        job_id = self.jobs.create(
            req.principal,
            settings,
            req.version,
            access_control_list=settings.get("access_control_list"),
            run_as=settings.get("run_as"),
        )
        return {"job_id": job_id}

    @jobs_route("/jobs/get", "GET")
    def get(self, req: ApiRequest) -> dict[str, Any]:
        job_id = req.required_int("job_id")
        return self.jobs.get_json(req.principal, job_id, req.version, req.str("page_token") or None)

    @jobs_route("/jobs/list", "GET")
    def list_jobs(self, req: ApiRequest) -> dict[str, Any]:
        return self.jobs.list_json(
            req.principal,
            req.version,
            limit=req.int("limit", 20) or 20,
            offset=_offset(req),
            page_token=req.str("page_token") or None,
            name=req.str("name") or None,
            expand_tasks=req.bool("expand_tasks"),
        )

    @jobs_route("/jobs/update")
    def update(self, req: ApiRequest) -> dict[str, Any]:
        new_settings = req.get("new_settings", {})
        remove = req.get("fields_to_remove", [])
        if not isinstance(new_settings, dict) or not isinstance(remove, list):
            raise invalid_parameter("new_settings must be an object and fields_to_remove a list")
        self.jobs.update(req.principal, req.required_int("job_id"), new_settings, [str(f) for f in remove])
        return {}

    @jobs_route("/jobs/reset")
    def reset(self, req: ApiRequest) -> dict[str, Any]:
        new_settings = req.require("new_settings")
        if not isinstance(new_settings, dict):
            raise invalid_parameter("new_settings must be an object")
        self.jobs.reset(req.principal, req.required_int("job_id"), new_settings)
        return {}

    @jobs_route("/jobs/delete")
    def delete(self, req: ApiRequest) -> dict[str, Any]:
        self.operations.delete_job(req.principal, req.required_int("job_id"))
        return {}

    # -- creating runs ----------------------------------------------------------------------------
    @jobs_route("/jobs/run-now")
    def run_now(self, req: ApiRequest) -> dict[str, Any]:
        job_id = req.required_int("job_id")
        queue = req.get("queue")
        request = RunNow(
            job_id=job_id,
            idempotency_token=_token(req.get("idempotency_token")),
            only=_key_list(req.get("only"), "only") or None,
            job_parameters=_object(req, "job_parameters"),
            queue=queue if isinstance(queue, dict) else None,
            overriding=_overriding(req.params),
        )
        return self.runs.run_now(req.principal, request)

    @jobs_route("/jobs/runs/submit")
    def submit(self, req: ApiRequest) -> dict[str, Any]:
        body = drop_nulls(req.params)
        run_name = str(body.get("run_name") or "Untitled")
        tasks = body.get("tasks")
        if not tasks and any(k in body for k in TASK_KINDS):
            # Legacy single-task body (Airflow's notebook operator): one task named after the run.
            tasks = [{k: body[k] for k in LEGACY_TOP_LEVEL if k in body} | {"task_key": run_name[:100]}]
        elif tasks and not isinstance(tasks, list):
            raise invalid_parameter("Invalid value for field tasks: expected a list")
        job_clusters = check_job_clusters(body.get("job_clusters", []))
        check_name(run_name, "run_name")
        acl = body.get("access_control_list")
        request = Submit(
            run_name=run_name,
            tasks=list(tasks or []),
            job_clusters=job_clusters,
            # A legacy body's timeout belongs to its one task.
            timeout_seconds=to_int(body.get("timeout_seconds", 0), "timeout_seconds", 0, INT32_MAX)
            if body.get("tasks")
            else 0,
            access_control_list=acl or None,
            idempotency_token=_token(body.get("idempotency_token")),
            run_as=body.get("run_as"),
        )
        return self.runs.submit(req.principal, request)

    @jobs_route("/jobs/runs/repair")
    def repair(self, req: ApiRequest) -> dict[str, Any]:
        request = Repair(
            run_id=req.required_int("run_id"),
            rerun_tasks=_key_list(req.get("rerun_tasks"), "rerun_tasks"),
            rerun_all_failed_tasks=req.bool("rerun_all_failed_tasks"),
            rerun_dependent_tasks=req.bool("rerun_dependent_tasks"),
            latest_repair_id=req.int("latest_repair_id"),
            overriding=_overriding(req.params),
        )
        return self.runs.repair(req.principal, request)

    # -- reading and controlling runs -------------------------------------------------------------
    @jobs_route("/jobs/runs/get", "GET")
    def get_run(self, req: ApiRequest) -> dict[str, Any]:
        return self.run_queries.get_json(
            req.principal,
            req.required_int("run_id"),
            req.version,
            req.bool("include_history"),
            req.str("page_token") or None,
        )

    @jobs_route("/jobs/runs/get-output", "GET")
    def get_output(self, req: ApiRequest) -> dict[str, Any]:
        return self.runs.get_output(req.principal, req.required_int("run_id"))

    @jobs_route("/jobs/runs/export", "GET")
    def export_run(self, req: ApiRequest) -> dict[str, Any]:
        views = (req.str("views_to_export") or "CODE").upper()
        return self.runs.export(req.principal, req.required_int("run_id"), views)

    @jobs_route("/jobs/runs/list", "GET")
    def list_runs(self, req: ApiRequest) -> dict[str, Any]:
        _offset(req)  # deprecated and unused here, but a negative one is still a 400
        query = RunFilter(
            job_id=req.int("job_id"),
            active_only=req.bool("active_only"),
            completed_only=req.bool("completed_only"),
            limit=req.int("limit", 20) or 20,
            page_token=req.str("page_token") or None,
            run_type=req.str("run_type") or None,
            start_time_from=req.int("start_time_from"),
            start_time_to=req.int("start_time_to"),
            expand_tasks=req.bool("expand_tasks"),
        )
        return self.run_queries.list_json(req.principal, req.version, query)

    @jobs_route("/jobs/runs/cancel")
    def cancel(self, req: ApiRequest) -> dict[str, Any]:
        self.runs.cancel(req.principal, req.required_int("run_id"))
        return {}

    @jobs_route("/jobs/runs/cancel-all")
    def cancel_all(self, req: ApiRequest) -> dict[str, Any]:
        self.runs.cancel_all(req.principal, req.int("job_id"), req.bool("all_queued_runs"))
        return {}

    @jobs_route("/jobs/runs/delete")
    def delete_run(self, req: ApiRequest) -> dict[str, Any]:
        self.runs.delete(req.principal, req.required_int("run_id"))
        return {}
