"""Instance pools (minimal): create, get, list, edit, delete, so cluster specs can name a pool.

A pool names its node type and preloaded runtime versions, checked against the compute catalogue;
it models no idle instances (its `stats` stay zero). A cluster spec naming a pool that does not
exist, or was deleted, is a 400 INVALID_PARAMETER_VALUE (Databricks' wording unverified).
"""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.wire import to_int

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.services.compute_catalog import ComputeCatalog
    from airflow_dbx_provider.emulator.store import Store

# Fields a pool spec may carry (create sets them, edit replaces them).
POOL_FIELDS = (
    "instance_pool_name",
    "node_type_id",
    "min_idle_instances",
    "max_capacity",
    "idle_instance_autotermination_minutes",
    "custom_tags",
    "enable_elastic_disk",
    "disk_spec",
    "preloaded_spark_versions",
    "preloaded_docker_images",
    "aws_attributes",
    "azure_attributes",
    "gcp_attributes",
    "node_type_flexibility",
)
INT_FIELDS = ("min_idle_instances", "max_capacity", "idle_instance_autotermination_minutes")


def _missing(pool_id: str) -> Exception:
    return invalid_parameter(f"Instance pool {pool_id} does not exist.")


class InstancePoolsService:
    def __init__(self, store: Store, clock: Clock, catalog: ComputeCatalog) -> None:
        self._pools = store.collection("instance_pools")
        self._clock = clock
        self._catalog = catalog
        self._rng = random.Random()

    def create(self, spec: dict[str, Any], creator: str) -> str:
        clean = self._validated(spec)
        now = self._clock.now_ms()
        stamp = datetime.fromtimestamp(now / 1000, UTC).strftime("%m%d-%H%M%S")
        while True:
            suffix = "".join(self._rng.choices(string.ascii_lowercase + string.digits, k=8))
            pool_id = f"{stamp}-pool-{suffix}"
            if pool_id not in self._pools:
                break
        pool = {
            **clean,
            "instance_pool_id": pool_id,
            "state": "ACTIVE",
            "default_tags": {
                "Vendor": "Databricks",
                "DatabricksInstancePoolCreatorId": creator,
                "DatabricksInstancePoolId": pool_id,
            },
            "stats": {"used_count": 0, "idle_count": 0, "pending_used_count": 0, "pending_idle_count": 0},
        }
        self._pools.put(pool_id, pool)
        return pool_id

    def edit(self, pool_id: str, spec: dict[str, Any]) -> None:
        pool = self.get(pool_id)
        if spec.get("node_type_id") not in (None, pool["node_type_id"]):
            raise invalid_parameter("The node type of an instance pool cannot be changed.")
        clean = self._validated({**spec, "node_type_id": pool["node_type_id"]})
        for name in POOL_FIELDS:
            pool.pop(name, None)
        pool.update(clean)
        self._pools.put(pool_id, pool)

    def get(self, pool_id: str) -> dict[str, Any]:
        pool = self._pools.get(pool_id) if pool_id else None
        if pool is None or pool["state"] != "ACTIVE":
            raise _missing(pool_id)
        return pool

    def list_pools(self) -> list[dict[str, Any]]:
        return sorted(
            (p for p in self._pools.values() if p["state"] == "ACTIVE"), key=lambda p: p["instance_pool_id"]
        )

    def delete(self, pool_id: str) -> None:
        pool = self.get(pool_id)
        pool["state"] = "DELETED"
        self._pools.put(pool_id, pool)

    def check_exists(self, pool_id: Any) -> dict[str, Any]:
        """For cluster specs: the active pool named, else 400."""
        return self.get(str(pool_id))

    def _validated(self, spec: dict[str, Any]) -> dict[str, Any]:
        clean = {k: spec[k] for k in POOL_FIELDS if spec.get(k) is not None}
        if not clean.get("instance_pool_name"):
            raise invalid_parameter("Missing required field: instance_pool_name")
        if not clean.get("node_type_id"):
            raise invalid_parameter("Missing required field: node_type_id")
        self._catalog.check_node_type(clean["node_type_id"])
        versions = clean.get("preloaded_spark_versions", [])
        if not isinstance(versions, list) or len(versions) > 1:
            raise invalid_parameter("preloaded_spark_versions must be a list of at most one version.")
        for version in versions:
            self._catalog.check_spark_version(version)
        for name in INT_FIELDS:
            if name in clean:
                clean[name] = to_int(clean[name], name, 0)
        if (
            clean.get("max_capacity") is not None
            and clean.get("min_idle_instances", 0) > clean["max_capacity"]
        ):
            raise invalid_parameter("min_idle_instances must not exceed max_capacity.")
        return clean
