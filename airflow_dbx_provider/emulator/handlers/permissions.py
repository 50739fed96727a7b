"""Permissions API 2.0 for jobs, under both `/permissions/...` and the older `/preview/permissions/...`."""

from __future__ import annotations

from typing import Any

from airflow_dbx_provider.emulator.routing import ApiRequest, route

PREFIXES = ("/permissions/jobs", "/preview/permissions/jobs")


def _register(method: str, suffix: str) -> Any:
    def decorate(handler: Any) -> Any:
        for prefix in PREFIXES:
            route(method, f"{prefix}/{{job_id}}{suffix}", family="permissions", versions=("2.0",))(handler)
        return handler

    return decorate


@_register("GET", "")
def get_job_permissions(req: ApiRequest) -> dict[str, Any]:
    return req.state.permissions.get_job_permissions(req.principal, req.path_params["job_id"])


@_register("PUT", "")
def set_job_permissions(req: ApiRequest) -> dict[str, Any]:
    return req.state.permissions.update_job_permissions(
        req.principal, req.path_params["job_id"], req.get("access_control_list", []), replace=True
    )


@_register("PATCH", "")
def update_job_permissions(req: ApiRequest) -> dict[str, Any]:
    return req.state.permissions.update_job_permissions(
        req.principal, req.path_params["job_id"], req.get("access_control_list", []), replace=False
    )


@_register("GET", "/permissionLevels")
def get_permission_levels(req: ApiRequest) -> dict[str, Any]:
    return {
        "permission_levels": req.state.permissions.permission_levels(req.principal, req.path_params["job_id"])
    }
