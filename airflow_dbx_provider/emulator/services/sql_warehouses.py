"""SQL warehouses: specs and a STARTING → RUNNING, STOPPING → STOPPED lifecycle over simulated time.

Like clusters, a transition is stored as a due time (`_next`, `_due_ms`) on the document and
applied lazily on every read, so no engine thread is needed for a warehouse to come up.
A deleted warehouse is forgotten: reads answer 404 RESOURCE_DOES_NOT_EXIST, as Databricks does.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import invalid_parameter, resource_does_not_exist
from airflow_dbx_provider.emulator.wire import to_int

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.store import Store

# Simulated seconds each transient state lasts (scaled by config.time_scale).
START_SECONDS = 10.0
STOP_SECONDS = 3.0
CLUSTER_SIZES = (
    "2X-Small",
    "X-Small",
    "Small",
    "Medium",
    "Large",
    "X-Large",
    "2X-Large",
    "3X-Large",
    "4X-Large",
)
WAREHOUSE_TYPES = ("CLASSIC", "PRO", "TYPE_UNSPECIFIED")
SPEC_FIELDS = (
    "name",
    "cluster_size",
    "min_num_clusters",
    "max_num_clusters",
    "auto_stop_mins",
    "enable_photon",
    "enable_serverless_compute",
    "warehouse_type",
    "spot_instance_policy",
    "channel",
    "tags",
    "instance_profile_arn",
    "creator_name",
    "max_dbu",
    "statement_timeout",
)


def _not_found(warehouse_id: str) -> Exception:
    return resource_does_not_exist(f"Warehouse {warehouse_id} does not exist.", 404)


def validate_spec(spec: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The accepted fields, checked as the API checks them; unknown fields are ignored."""
    clean = {k: spec[k] for k in SPEC_FIELDS if spec.get(k) is not None}
    if creating and not str(clean.get("name") or "").strip():
        raise invalid_parameter("Missing required field: name")
    if "cluster_size" in clean and clean["cluster_size"] not in CLUSTER_SIZES:
        raise invalid_parameter(
            f"Invalid cluster_size {clean['cluster_size']!r}: expected one of {', '.join(CLUSTER_SIZES)}"
        )
    for name in ("min_num_clusters", "max_num_clusters", "auto_stop_mins"):
        if name in clean:
            clean[name] = to_int(clean[name], name)
    low, high = clean.get("min_num_clusters", 1), clean.get("max_num_clusters", 1)
    if not 1 <= low <= high <= 40:
        raise invalid_parameter("Require 1 <= min_num_clusters <= max_num_clusters <= 40.")
    stop = clean.get("auto_stop_mins", 120)
    if stop != 0 and stop < 10 and not clean.get("enable_serverless_compute"):
        raise invalid_parameter("auto_stop_mins must be 0 (no autostop) or at least 10 minutes.")
    if clean.get("warehouse_type", "PRO") not in WAREHOUSE_TYPES:
        raise invalid_parameter(f"Invalid warehouse_type {clean['warehouse_type']!r}")
    return clean


class SqlWarehousesService:
    """The workspace's SQL warehouses; statements call `ensure_running` and `is_running`."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._clock = clock
        self._warehouses = store.collection("sql_warehouses")

    # ---- contract used by statements -----------------------------------------------------
    def ensure_running(self, warehouse_id: str) -> str:
        """Start a stopped warehouse (as a statement does); return its state after that."""
        warehouse = self._load(warehouse_id)
        if warehouse["state"] in ("STOPPED", "STOPPING"):
            self._transition(warehouse, "STARTING", START_SECONDS, then="RUNNING")
        return str(warehouse["state"])

    def state_of(self, warehouse_id: str) -> str | None:
        """The current state, or None for a warehouse that no longer exists."""
        doc = self._warehouses.get(warehouse_id)
        return None if doc is None else str(self._advance(doc)["state"])

    # ---- API operations ----------------------------------------------------------------------
    def create(self, spec: dict[str, Any], creator: str) -> str:
        clean = validate_spec(spec, creating=True)
        warehouse_id = secrets.token_hex(8)
        doc: dict[str, Any] = {
            "id": warehouse_id,
            "cluster_size": "Small",
            "min_num_clusters": 1,
            "max_num_clusters": 1,
            "auto_stop_mins": 120,
            "enable_photon": True,
            "warehouse_type": "PRO",
            "spot_instance_policy": "COST_OPTIMIZED",
            "creator_name": creator,
            **clean,
            "state": "STOPPED",
            "num_clusters": 0,
            "num_active_sessions": 0,
        }
        self._warehouses.put(warehouse_id, doc)
        self._transition(doc, "STARTING", START_SECONDS, then="RUNNING")
        return warehouse_id

    def get(self, warehouse_id: str) -> dict[str, Any]:
        return self._public(self._load(warehouse_id))

    def list(self) -> list[dict[str, Any]]:
        return [self._public(self._advance(doc)) for doc in self._warehouses.values()]

    def edit(self, warehouse_id: str, spec: dict[str, Any]) -> None:
        warehouse = self._load(warehouse_id)
        clean = validate_spec({**{k: warehouse.get(k) for k in SPEC_FIELDS}, **spec}, creating=True)
        warehouse.update(clean)
        if warehouse["state"] == "RUNNING":  # an edit restarts a running warehouse
            self._transition(warehouse, "STARTING", START_SECONDS, then="RUNNING")
        else:
            self._warehouses.put(warehouse_id, warehouse)

    def start(self, warehouse_id: str) -> None:
        warehouse = self._load(warehouse_id)
        if warehouse["state"] in ("STOPPED", "STOPPING"):
            self._transition(warehouse, "STARTING", START_SECONDS, then="RUNNING")

    def stop(self, warehouse_id: str) -> None:
        warehouse = self._load(warehouse_id)
        if warehouse["state"] in ("STARTING", "RUNNING"):
            self._transition(warehouse, "STOPPING", STOP_SECONDS, then="STOPPED")

    def delete(self, warehouse_id: str) -> None:
        self._load(warehouse_id)
        self._warehouses.delete(warehouse_id)

    # ---- internals -----------------------------------------------------------------------------
    def _load(self, warehouse_id: str) -> dict[str, Any]:
        doc = self._warehouses.get(warehouse_id) if warehouse_id else None
        if doc is None:
            raise _not_found(warehouse_id)
        return self._advance(doc)

    def _transition(self, doc: dict[str, Any], state: str, seconds: float, *, then: str) -> None:
        doc["state"] = state
        doc["_next"] = then
        doc["_due_ms"] = self._clock.now_ms() + int(self._clock.real_seconds(seconds) * 1000)
        self._warehouses.put(doc["id"], doc)

    def _advance(self, doc: dict[str, Any]) -> dict[str, Any]:
        due = doc.get("_due_ms")
        if due is not None and self._clock.now_ms() >= due:
            doc["state"] = doc.pop("_next")
            doc.pop("_due_ms")
            doc["num_clusters"] = doc["min_num_clusters"] if doc["state"] == "RUNNING" else 0
            self._warehouses.put(doc["id"], doc)
        return doc

    def tick(self) -> None:
        for doc in self._warehouses.values():
            self._advance(doc)

    @staticmethod
    def _public(doc: dict[str, Any]) -> dict[str, Any]:
        public = {k: v for k, v in doc.items() if not k.startswith("_")}
        public["health"] = {"status": "HEALTHY"} if doc["state"] == "RUNNING" else {}
        path = f"/sql/1.0/warehouses/{doc['id']}"
        public["odbc_params"] = {"hostname": "", "path": path, "protocol": "https", "port": 443}
        public["jdbc_url"] = f"jdbc:databricks://:443/default;transportMode=http;ssl=1;httpPath={path}"
        return public
