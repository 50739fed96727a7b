"""SCIM: `Me` (with the workspace id header the SDK reads), Users, Groups and ServicePrincipals.

Reads are open to every principal, create and delete to admins (services/scim.py). Lists take
`filter`, `startIndex`/`count`, `attributes`/`excludedAttributes` and `sortBy`/`sortOrder`.
PATCH and PUT are not served.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from airflow_dbx_provider.emulator.routing import ApiRequest, RawResponse, route

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.config import EmulatorConfig
    from airflow_dbx_provider.emulator.services.scim import ScimDirectory

RESOURCES = ("Users", "Groups", "ServicePrincipals")


def scim_route(method: str, template: str) -> Any:
    return route(method, "/preview/scim/v2/" + template, family="identity", versions=("2.0",))


def each_resource(method: str, suffix: str = "") -> Any:
    """The same handler for Users, Groups and ServicePrincipals (`suffix`: e.g. "/{resource_id}")."""

    def mark(handler: Any) -> Any:
        for resource in RESOURCES:
            handler = scim_route(method, resource + suffix)(handler)
        return handler

    return mark


class IdentityHandlers:
    def __init__(self, config: EmulatorConfig, directory: ScimDirectory) -> None:
        self.config = config
        self.directory = directory

    @scim_route("GET", "Me")
    def me(self, req: ApiRequest) -> JSONResponse:
        return JSONResponse(
            self.directory.me(req.principal), headers={"X-Databricks-Org-Id": self.config.workspace_id}
        )

    @each_resource("GET")
    def list_resources(self, req: ApiRequest) -> dict[str, Any]:
        return self.directory.list_resources(
            _resource(req),
            filter_expr=req.str("filter"),
            start_index=req.int("startIndex", 1) or 1,
            count=req.int("count"),
            attributes=req.str("attributes"),
            excluded_attributes=req.str("excludedAttributes"),
            sort_by=req.str("sortBy"),
            descending=(req.str("sortOrder") or "").lower() == "descending",
        )

    @each_resource("GET", "/{resource_id}")
    def get(self, req: ApiRequest) -> dict[str, Any]:
        return self.directory.get(_resource(req), req.path_params["resource_id"], req.str("attributes"))

    @each_resource("POST")
    def create(self, req: ApiRequest) -> JSONResponse:
        created = self.directory.create(_resource(req), req.principal, req.params)
        return JSONResponse(created, status_code=201)

    @each_resource("DELETE", "/{resource_id}")
    def delete(self, req: ApiRequest) -> RawResponse:
        self.directory.delete(_resource(req), req.principal, req.path_params["resource_id"])
        return RawResponse(b"", status_code=204)


def _resource(req: ApiRequest) -> str:
    return req.path.split("/scim/v2/", 1)[1].split("/", 1)[0]
