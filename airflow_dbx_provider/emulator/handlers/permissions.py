"""Permissions API 2.0 for jobs, under both `/permissions/...` and the older `/preview/permissions/...`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_dbx_provider.emulator.routing import ApiRequest, route
from airflow_dbx_provider.emulator.wire import to_int

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.services.permissions import PermissionsService

PREFIXES = ("/permissions/jobs", "/preview/permissions/jobs")
F = TypeVar("F", bound=Callable[..., Any])


def permissions_route(method: str, suffix: str) -> Callable[[F], F]:
    def decorate(handler: F) -> F:
        for prefix in PREFIXES:
            route(method, f"{prefix}/{{job_id}}{suffix}", family="permissions", versions=("2.0",))(handler)
        return handler

    return decorate


def _job_id(req: ApiRequest) -> int:
    return to_int(req.path_params["job_id"], "job_id")


def _acl(req: ApiRequest) -> Any:
    """Validated by the service after its access check, so a caller without rights learns nothing."""
    return req.get("access_control_list", [])


class PermissionsHandlers:
    def __init__(self, permissions: PermissionsService) -> None:
        self.permissions = permissions

    @permissions_route("GET", "")
    def get_job_permissions(self, req: ApiRequest) -> dict[str, Any]:
        return self.permissions.get_job_permissions(req.principal, _job_id(req))

    @permissions_route("PUT", "")
    def set_job_permissions(self, req: ApiRequest) -> dict[str, Any]:
        return self.permissions.update_job_permissions(req.principal, _job_id(req), _acl(req), replace=True)

    @permissions_route("PATCH", "")
    def update_job_permissions(self, req: ApiRequest) -> dict[str, Any]:
        return self.permissions.update_job_permissions(req.principal, _job_id(req), _acl(req), replace=False)

    @permissions_route("GET", "/permissionLevels")
    def get_permission_levels(self, req: ApiRequest) -> dict[str, Any]:
        levels = self.permissions.permission_levels(req.principal, _job_id(req))
        return {"permission_levels": levels}
