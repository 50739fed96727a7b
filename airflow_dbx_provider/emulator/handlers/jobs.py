"""Jobs API 2.1 / 2.2 routes: read parameters, call the jobs and runs services, return JSON."""

from __future__ import annotations

from typing import Any

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.routing import ApiRequest, route

VERSIONS = ("2.1", "2.2")


def _jobs(template: str, method: str = "POST") -> Any:
    return route(method, template, family="jobs", versions=VERSIONS)


def _job_id(req: ApiRequest) -> int:
    value = req.int("job_id", required=True)
    assert value is not None
    return value


def _run_id(req: ApiRequest) -> int:
    value = req.int("run_id", required=True)
    assert value is not None
    return value


def _settings_body(req: ApiRequest) -> dict[str, Any]:
    return {k: v for k, v in req.params.items()}


@_jobs("/jobs/create")
def create(req: ApiRequest) -> dict[str, Any]:
    return {"job_id": req.state.jobs.create(req.principal, _settings_body(req), req.version)}


@_jobs("/jobs/get", "GET")
def get(req: ApiRequest) -> dict[str, Any]:
    return req.state.jobs.get_json(req.principal, _job_id(req), req.version, req.str("page_token") or None)


@_jobs("/jobs/list", "GET")
def list_jobs(req: ApiRequest) -> dict[str, Any]:
    return req.state.jobs.list_json(
        req.principal,
        req.version,
        limit=req.int("limit", 20) or 20,
        offset=req.int("offset", 0) or 0,
        page_token=req.str("page_token") or None,
        name=req.str("name") or None,
        expand_tasks=req.bool("expand_tasks"),
    )


@_jobs("/jobs/update")
def update(req: ApiRequest) -> dict[str, Any]:
    new_settings = req.get("new_settings", {})
    remove = req.get("fields_to_remove", [])
    if not isinstance(new_settings, dict) or not isinstance(remove, list):
        raise invalid_parameter("new_settings must be an object and fields_to_remove a list")
    req.state.jobs.update(req.principal, _job_id(req), new_settings, [str(f) for f in remove])
    return {}


@_jobs("/jobs/reset")
def reset(req: ApiRequest) -> dict[str, Any]:
    new_settings = req.require("new_settings")
    if not isinstance(new_settings, dict):
        raise invalid_parameter("new_settings must be an object")
    req.state.jobs.reset(req.principal, _job_id(req), new_settings)
    return {}


@_jobs("/jobs/delete")
def delete(req: ApiRequest) -> dict[str, Any]:
    req.state.jobs.delete(req.principal, _job_id(req))
    return {}


@_jobs("/jobs/run-now")
def run_now(req: ApiRequest) -> dict[str, Any]:
    return req.state.runs.run_now(req.principal, _job_id(req), req.params, req.version)


@_jobs("/jobs/runs/submit")
def submit(req: ApiRequest) -> dict[str, Any]:
    return req.state.runs.submit(req.principal, req.params, req.version)


@_jobs("/jobs/runs/get", "GET")
def get_run(req: ApiRequest) -> dict[str, Any]:
    return req.state.runs.get_json(
        req.principal, _run_id(req), req.version, req.bool("include_history"), req.str("page_token") or None
    )


@_jobs("/jobs/runs/get-output", "GET")
def get_output(req: ApiRequest) -> dict[str, Any]:
    return req.state.runs.get_output(req.principal, _run_id(req))


@_jobs("/jobs/runs/list", "GET")
def list_runs(req: ApiRequest) -> dict[str, Any]:
    params = {
        "job_id": req.int("job_id"),
        "active_only": req.bool("active_only"),
        "completed_only": req.bool("completed_only"),
        "limit": req.int("limit", 20) or 20,
        "page_token": req.str("page_token") or None,
        "run_type": req.str("run_type") or None,
        "start_time_from": req.int("start_time_from"),
        "start_time_to": req.int("start_time_to"),
        "expand_tasks": req.bool("expand_tasks"),
    }
    return req.state.runs.list_json(req.principal, req.version, params)


@_jobs("/jobs/runs/cancel")
def cancel(req: ApiRequest) -> dict[str, Any]:
    req.state.runs.cancel(req.principal, _run_id(req))
    return {}


@_jobs("/jobs/runs/cancel-all")
def cancel_all(req: ApiRequest) -> dict[str, Any]:
    req.state.runs.cancel_all(req.principal, req.int("job_id"), req.bool("all_queued_runs"))
    return {}


@_jobs("/jobs/runs/delete")
def delete_run(req: ApiRequest) -> dict[str, Any]:
    req.state.runs.delete(req.principal, _run_id(req))
    return {}


@_jobs("/jobs/runs/repair")
def repair(req: ApiRequest) -> dict[str, Any]:
    params = dict(req.params)
    params["rerun_all_failed_tasks"] = req.bool("rerun_all_failed_tasks")
    params["rerun_dependent_tasks"] = req.bool("rerun_dependent_tasks")
    params["latest_repair_id"] = req.int("latest_repair_id")
    return req.state.runs.repair(req.principal, _run_id(req), params)
