"""Clusters API 2.0 and 2.1: read parameters, call `ClustersService`, serialise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.routing import ApiRequest, route
from airflow_dbx_provider.emulator.wire import decode_offset_token, encode_offset_token, to_bool, to_int

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.services.clusters import ClustersService

VERSIONS = ("2.0", "2.1")
DEFAULT_PAGE_SIZE = 100


def clusters_route(method: str, action: str) -> Any:
    return route(method, f"/clusters/{action}", family="clusters", versions=VERSIONS)


def _cluster_id(req: ApiRequest) -> str:
    return req.required_str("cluster_id")


class ClustersHandlers:
    def __init__(self, clusters: ClustersService) -> None:
        self.clusters = clusters

    @clusters_route("POST", "create")
    def create(self, req: ApiRequest) -> dict[str, Any]:
        return {"cluster_id": self.clusters.create(req.params, req.principal.name)}

    @clusters_route("POST", "edit")
    def edit(self, req: ApiRequest) -> dict[str, Any]:
        self.clusters.check(req.principal, _cluster_id(req), "CAN_MANAGE")
        self.clusters.edit(_cluster_id(req), req.params)
        return {}

    @clusters_route("POST", "update")
    def update(self, req: ApiRequest) -> dict[str, Any]:
        mask = req.str("update_mask", required=True) or ""
        cluster = req.get("cluster", {})
        if not isinstance(cluster, dict):
            raise invalid_parameter("Invalid value for field cluster: expected an object")
        fields = [name.strip() for name in mask.split(",") if name.strip()]
        self.clusters.check(req.principal, _cluster_id(req), "CAN_MANAGE")
        self.clusters.edit(_cluster_id(req), cluster, partial_fields=fields)
        return {}

    @clusters_route("POST", "start")
    def start(self, req: ApiRequest) -> dict[str, Any]:
        self.clusters.check(req.principal, _cluster_id(req), "CAN_RESTART")
        self.clusters.start(_cluster_id(req))
        return {}

    @clusters_route("POST", "restart")
    def restart(self, req: ApiRequest) -> dict[str, Any]:
        self.clusters.check(req.principal, _cluster_id(req), "CAN_RESTART")
        self.clusters.restart(_cluster_id(req))
        return {}

    @clusters_route("POST", "delete")
    def delete(self, req: ApiRequest) -> dict[str, Any]:
        self.clusters.check(req.principal, _cluster_id(req), "CAN_RESTART")
        self.clusters.delete(_cluster_id(req), req.principal.name)
        return {}

    @clusters_route("POST", "permanent-delete")
    def permanent_delete(self, req: ApiRequest) -> dict[str, Any]:
        self.clusters.check(req.principal, _cluster_id(req), "CAN_MANAGE")
        self.clusters.permanent_delete(_cluster_id(req))
        return {}

    @clusters_route("POST", "resize")
    def resize(self, req: ApiRequest) -> dict[str, Any]:
        autoscale = req.get("autoscale")
        self.clusters.check(req.principal, _cluster_id(req), "CAN_MANAGE")
        self.clusters.resize(_cluster_id(req), req.int("num_workers"), autoscale)
        return {}

    @clusters_route("POST", "pin")
    def pin(self, req: ApiRequest) -> dict[str, Any]:
        self.clusters.check(req.principal, _cluster_id(req), "CAN_MANAGE")
        self.clusters.pin(_cluster_id(req), True)
        return {}

    @clusters_route("POST", "unpin")
    def unpin(self, req: ApiRequest) -> dict[str, Any]:
        self.clusters.check(req.principal, _cluster_id(req), "CAN_MANAGE")
        self.clusters.pin(_cluster_id(req), False)
        return {}

    @clusters_route("POST", "events")
    def events(self, req: ApiRequest) -> dict[str, Any]:
        limit = req.int("limit") or req.int("page_size") or 50
        if not 1 <= limit <= 500:
            raise invalid_parameter("limit must be between 1 and 500.")
        offset = to_int(req.get("offset") or 0, "offset", 0)
        return self.clusters.events(_cluster_id(req), limit, offset, req.str("order", "DESC") or "DESC")

    @clusters_route("GET", "get")
    def get(self, req: ApiRequest) -> dict[str, Any]:
        return self.clusters.get_cluster(_cluster_id(req))

    @clusters_route("GET", "list")
    def list_clusters(self, req: ApiRequest) -> dict[str, Any]:
        """2.0 returns everything; 2.1 pages with an opaque token and honours `filter_by`."""
        states = _filter_values(req, "cluster_states")
        sources = _filter_values(req, "cluster_sources")
        pinned_raw = req.params.get("filter_by.is_pinned", _filter_dict(req).get("is_pinned"))
        pinned = None if pinned_raw is None else to_bool(pinned_raw)
        clusters = self.clusters.list_clusters(states, sources, pinned)
        if req.version == "2.0":
            return {"clusters": clusters} if clusters else {}
        page_size = req.int("page_size") or DEFAULT_PAGE_SIZE
        if page_size < 1:
            raise invalid_parameter("page_size must be positive.")
        offset = decode_offset_token(req.str("page_token"))
        page = clusters[offset : offset + page_size]
        result: dict[str, Any] = {"clusters": page} if page else {}
        if offset + page_size < len(clusters):
            result["next_page_token"] = encode_offset_token(offset + page_size)
        if offset > 0:
            result["prev_page_token"] = encode_offset_token(max(0, offset - page_size))
        return result

    @clusters_route("GET", "spark-versions")
    def spark_versions(self, req: ApiRequest) -> dict[str, Any]:
        return {"versions": self.clusters.spark_versions()}

    @clusters_route("GET", "list-node-types")
    def list_node_types(self, req: ApiRequest) -> dict[str, Any]:
        return {"node_types": self.clusters.node_types()}


def _filter_dict(req: ApiRequest) -> dict[str, Any]:
    value = req.params.get("filter_by")
    return value if isinstance(value, dict) else {}


def _filter_values(req: ApiRequest, name: str) -> set[str] | None:
    """`filter_by` arrives flattened in the query (`filter_by.cluster_states=RUNNING`) or as JSON."""
    raw = req.params.get(f"filter_by.{name}", _filter_dict(req).get(name))
    if raw is None or raw == "":
        return None
    values = raw if isinstance(raw, list) else str(raw).split(",")
    return {str(v).strip().upper() for v in values if str(v).strip()}
