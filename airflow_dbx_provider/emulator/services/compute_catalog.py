"""What compute a cluster spec may name: runtime versions and node types.

`clusters/spark-versions` and `clusters/list-node-types` serve this catalogue, and every cluster
spec (clusters/create|edit, a job's `new_cluster`/`job_clusters`, runs/submit) is checked against
it, so a spec the emulator accepts names a runtime and a node type a workspace serves. Users add
their own through `EmulatorConfig.spark_versions` / `node_types` (or `--config`); both are read on
every call, so a test may extend them on a running server.

The node-type fields are those `WorkspaceClient.clusters.select_node_type` reads (databricks-sdk
`mixins/compute.py`): it sorts on `is_deprecated`, `num_cores`, `memory_mb`, the
`node_instance_type` disk figures, `num_gpus` and `instance_type_id`, so every one is present.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import invalid_parameter

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.config import EmulatorConfig

# Runtime versions a workspace lists today (key, name); the names carry "LTS" and
# "Apache Spark x.y.z", which `select_spark_version(long_term_support=..., spark_version=...)` read.
DEFAULT_SPARK_VERSIONS: tuple[tuple[str, str], ...] = (
    ("17.3.x-scala2.13", "17.3 LTS (includes Apache Spark 4.0.0, Scala 2.13)"),
    ("16.4.x-scala2.12", "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("16.4.x-scala2.13", "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.13)"),
    ("16.4.x-photon-scala2.12", "16.4 LTS Photon (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("16.4.x-cpu-ml-scala2.12", "16.4 LTS ML (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("15.4.x-scala2.12", "15.4 LTS (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("15.4.x-photon-scala2.12", "15.4 LTS Photon (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("15.4.x-cpu-ml-scala2.12", "15.4 LTS ML (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("15.4.x-gpu-ml-scala2.12", "15.4 LTS ML (includes Apache Spark 3.5.0, GPU, Scala 2.12)"),
    ("14.3.x-scala2.12", "14.3 LTS (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("13.3.x-scala2.12", "13.3 LTS (includes Apache Spark 3.4.1, Scala 2.12)"),
    ("12.2.x-scala2.12", "12.2 LTS (includes Apache Spark 3.3.2, Scala 2.12)"),
)


def node_type(
    node_type_id: str,
    memory_mb: int,
    num_cores: float,
    *,
    category: str = "General Purpose",
    local_nvme_disks: int = 0,
    local_nvme_disk_size_gb: int = 0,
    local_disks: int = 0,
    local_disk_size_gb: int = 0,
    num_gpus: int = 0,
    is_deprecated: bool = False,
    photon: bool = True,
    is_graviton: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    """A NodeType as `clusters/list-node-types` returns it, every field the SDK sorts on set."""
    return {
        "node_type_id": node_type_id,
        "instance_type_id": node_type_id,
        "memory_mb": memory_mb,
        "num_cores": num_cores,
        "num_gpus": num_gpus,
        "description": description or node_type_id,
        "category": category,
        "is_deprecated": is_deprecated,
        "is_hidden": False,
        "is_io_cache_enabled": local_nvme_disks > 0,
        "support_ebs_volumes": True,
        "support_cluster_tags": True,
        "support_port_forwarding": True,
        "photon_worker_capable": photon,
        "photon_driver_capable": photon,
        "is_graviton": is_graviton,
        "display_order": 0,
        "node_instance_type": {
            "instance_type_id": node_type_id,
            "local_disks": local_disks,
            "local_disk_size_gb": local_disk_size_gb,
            "local_nvme_disks": local_nvme_disks,
            "local_nvme_disk_size_gb": local_nvme_disk_size_gb,
        },
    }


# A few node types of each cloud (the emulator is cloud-agnostic, so DAGs written for any of them
# pass); figures as the clouds publish them.
DEFAULT_NODE_TYPES: tuple[dict[str, Any], ...] = (
    node_type("m5d.large", 8192, 2.0, local_nvme_disks=1, local_nvme_disk_size_gb=75),
    node_type("m5d.xlarge", 16384, 4.0, local_nvme_disks=1, local_nvme_disk_size_gb=150),
    node_type(
        "i3.xlarge", 31232, 4.0, category="Storage Optimized", local_nvme_disks=1, local_nvme_disk_size_gb=950
    ),
    node_type(
        "i3.2xlarge",
        62464,
        8.0,
        category="Storage Optimized",
        local_nvme_disks=1,
        local_nvme_disk_size_gb=1900,
    ),
    node_type(
        "r5d.xlarge", 32768, 4.0, category="Memory Optimized", local_nvme_disks=1, local_nvme_disk_size_gb=150
    ),
    node_type("m6gd.large", 8192, 2.0, local_nvme_disks=1, local_nvme_disk_size_gb=118, is_graviton=True),
    node_type(
        "g4dn.xlarge",
        16384,
        4.0,
        category="GPU Accelerated",
        num_gpus=1,
        local_nvme_disks=1,
        local_nvme_disk_size_gb=125,
        photon=False,
    ),
    node_type("Standard_DS3_v2", 14336, 4.0, local_disks=1, local_disk_size_gb=28),
    node_type("Standard_D4ds_v5", 16384, 4.0, local_disks=1, local_disk_size_gb=150),
    node_type(
        "Standard_E4ds_v5", 32768, 4.0, category="Memory Optimized", local_disks=1, local_disk_size_gb=150
    ),
    node_type("n2-standard-4", 16384, 4.0),
    node_type("n2-highmem-4", 32768, 4.0, category="Memory Optimized"),
)


def _names(items: list[str], limit: int = 30) -> str:
    shown = ", ".join(items[:limit])
    return shown + (", ..." if len(items) > limit else "")


class ComputeCatalog:
    """The defaults plus the config's own entries (a config entry replaces a default of its key)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config

    def spark_versions(self) -> list[dict[str, str]]:
        versions = {key: {"key": key, "name": name} for key, name in DEFAULT_SPARK_VERSIONS}
        for item in self._config.spark_versions:
            key = str(item["key"])
            versions[key] = {"key": key, "name": str(item.get("name") or key)}
        return list(versions.values())

    def node_types(self) -> list[dict[str, Any]]:
        types = {item["node_type_id"]: item for item in DEFAULT_NODE_TYPES}
        for item in self._config.node_types:
            given = dict(item)
            node_id = str(given.pop("node_type_id"))
            base = node_type(node_id, int(given.pop("memory_mb", 16384)), float(given.pop("num_cores", 4.0)))
            base["node_instance_type"].update(given.pop("node_instance_type", {}) or {})
            types[node_id] = {**base, **given}
        return list(types.values())

    # ---- checks (400 INVALID_PARAMETER_VALUE with Databricks' wording) ----------------------
    def check_spark_version(self, key: Any) -> None:
        if str(key) not in {v["key"] for v in self.spark_versions()}:
            raise invalid_parameter(f"Invalid spark version {key}.")

    def check_node_type(self, node_type_id: Any) -> None:
        known = [t["node_type_id"] for t in self.node_types()]
        if str(node_type_id) not in known:
            raise invalid_parameter(
                f"Node type {node_type_id} is not supported. Supported node types: {_names(known)}"
            )
