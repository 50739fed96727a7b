"""Permissions API 2.0 for jobs, notebooks, directories and clusters.

Served under both `/permissions/...` and the older `/preview/permissions/...`. Jobs have their
own service (IS_OWNER, CAN_MANAGE_RUN); notebooks and directories are checked by the workspace
service (levels inherited down folders) and clusters by the clusters service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.routing import ApiRequest, route
from airflow_dbx_provider.emulator.wire import to_int

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.services.clusters import ClustersService
    from airflow_dbx_provider.emulator.services.permissions import PermissionsService
    from airflow_dbx_provider.emulator.services.workspace_objects import WorkspaceObjectsService

F = TypeVar("F", bound=Callable[..., Any])


def permissions_route(method: str, suffix: str, object_type: str = "jobs") -> Callable[[F], F]:
    def decorate(handler: F) -> F:
        for root in ("/permissions", "/preview/permissions"):
            template = f"{root}/{object_type}/{{job_id}}{suffix}"
            route(method, template, family="permissions", versions=("2.0",))(handler)
        return handler

    return decorate


def object_route(method: str, suffix: str) -> Callable[[F], F]:
    def decorate(handler: F) -> F:
        for root in ("/permissions", "/preview/permissions"):
            for object_type in ("notebooks", "directories", "clusters"):
                template = f"{root}/{object_type}/{{object_id}}{suffix}"
                route(method, template, family="permissions", versions=("2.0",))(handler)
        return handler

    return decorate


def _object(req: ApiRequest) -> tuple[str, str]:
    """(`notebooks` | `directories` | `clusters`, the id as sent)."""
    object_type = req.path.split("/permissions/", 1)[1].split("/", 1)[0]
    object_id = str(req.path_params["object_id"])
    if len(object_id) > 100 or not object_id.isprintable():
        raise invalid_parameter(f"Invalid object id for {object_type}.")
    return object_type, object_id


def _job_id(req: ApiRequest) -> int:
    return to_int(req.path_params["job_id"], "job_id")


def _acl(req: ApiRequest) -> Any:
    """Validated by the service after its access check, so a caller without rights learns nothing."""
    return req.get("access_control_list", [])


class PermissionsHandlers:
    def __init__(
        self,
        permissions: PermissionsService,
        workspace: WorkspaceObjectsService,
        clusters: ClustersService,
    ) -> None:
        self.permissions = permissions
        self.workspace = workspace
        self.clusters = clusters

    @object_route("GET", "")
    def get_object_permissions(self, req: ApiRequest) -> dict[str, Any]:
        object_type, object_id = _object(req)
        if object_type == "clusters":
            return self.clusters.get_permissions(req.principal, object_id)
        return self.workspace.get_permissions(req.principal, object_type, object_id)

    def _set_object(self, req: ApiRequest, *, replace: bool) -> dict[str, Any]:
        object_type, object_id = _object(req)
        if object_type == "clusters":
            return self.clusters.set_permissions(req.principal, object_id, _acl(req), replace=replace)
        return self.workspace.set_permissions(
            req.principal, object_type, object_id, _acl(req), replace=replace
        )

    @object_route("PUT", "")
    def set_object_permissions(self, req: ApiRequest) -> dict[str, Any]:
        return self._set_object(req, replace=True)

    @object_route("PATCH", "")
    def update_object_permissions(self, req: ApiRequest) -> dict[str, Any]:
        return self._set_object(req, replace=False)

    @object_route("GET", "/permissionLevels")
    def get_object_permission_levels(self, req: ApiRequest) -> dict[str, Any]:
        object_type, object_id = _object(req)
        if object_type == "clusters":
            return {"permission_levels": self.clusters.permission_levels(req.principal, object_id)}
        return {"permission_levels": self.workspace.permission_levels(req.principal, object_type, object_id)}

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
