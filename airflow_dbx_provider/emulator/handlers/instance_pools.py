"""Instance Pools API 2.0 (minimal): read parameters, call `InstancePoolsService`, serialise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.routing import ApiRequest, route

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.services.instance_pools import InstancePoolsService


def pools_route(method: str, action: str) -> Any:
    return route(method, f"/instance-pools/{action}", family="clusters", versions=("2.0",))


class InstancePoolsHandlers:
    def __init__(self, pools: InstancePoolsService) -> None:
        self.pools = pools

    @pools_route("POST", "create")
    def create(self, req: ApiRequest) -> dict[str, Any]:
        return {"instance_pool_id": self.pools.create(req.params, req.principal.name)}

    @pools_route("POST", "edit")
    def edit(self, req: ApiRequest) -> dict[str, Any]:
        self.pools.edit(req.required_str("instance_pool_id"), req.params)
        return {}

    @pools_route("GET", "get")
    def get(self, req: ApiRequest) -> dict[str, Any]:
        return self.pools.get(req.required_str("instance_pool_id"))

    @pools_route("GET", "list")
    def list_pools(self, req: ApiRequest) -> dict[str, Any]:
        pools = self.pools.list_pools()
        return {"instance_pools": pools} if pools else {}

    @pools_route("POST", "delete")
    def delete(self, req: ApiRequest) -> dict[str, Any]:
        self.pools.delete(req.required_str("instance_pool_id"))
        return {}
