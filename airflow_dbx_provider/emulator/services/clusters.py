"""Clusters: specs, a state machine over simulated time, events, and job clusters for runs.

Transitions are stored as a due time (`_next`) on the cluster document and applied both by
`tick()` and lazily on every read, so a slow engine thread never shows a stale state.
Fields starting with `_` are internal and never sent on the wire.
"""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import does_not_exist_400, invalid_parameter, invalid_state
from airflow_dbx_provider.emulator.services.object_acls import Grant, ObjectAcls
from airflow_dbx_provider.emulator.wire import to_int

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.services.compute_catalog import ComputeCatalog
    from airflow_dbx_provider.emulator.services.instance_pools import InstancePoolsService
    from airflow_dbx_provider.emulator.store import Store

# Simulated seconds each transient state lasts (scaled by config.time_scale).
DURATIONS: dict[str, float] = {"PENDING": 5.0, "RESTARTING": 3.0, "RESIZING": 3.0, "TERMINATING": 2.0}
RUNNING_STATES = ("RUNNING", "RESIZING")
ACTIVE_STATES = ("PENDING", "RUNNING", "RESTARTING", "RESIZING")
TERMINATION_TYPES = {
    "USER_REQUEST": "SUCCESS",
    "JOB_FINISHED": "SUCCESS",
    "INACTIVITY": "SUCCESS",
    "RUN_EXECUTION_ERROR": "CLIENT_ERROR",
    "INTERNAL_ERROR": "SERVICE_FAULT",
}
MAX_EVENTS = 200
DAY_MS = 86_400_000
# Fields `edit` may set: everything the user controls in a cluster spec.
SPEC_FIELDS = tuple(
    """
    cluster_name spark_version node_type_id driver_node_type_id num_workers autoscale
    instance_pool_id driver_instance_pool_id policy_id spark_conf spark_env_vars custom_tags
    autotermination_minutes enable_elastic_disk data_security_mode single_user_name runtime_engine
    aws_attributes azure_attributes gcp_attributes init_scripts cluster_log_conf ssh_public_keys
    enable_local_disk_encryption docker_image apply_policy_default_values is_single_node kind
    use_ml_runtime workload_type
    """.split()
)
MAX_WORKERS = 100_000  # far above any real cluster; a bound keeps every size computation small


def _not_found(cluster_id: str) -> Exception:
    return does_not_exist_400(f"Cluster {cluster_id} does not exist")


class ClustersService:
    """All clusters of the workspace; runs use `create_job_cluster`/`terminate`/`is_running`."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        catalog: ComputeCatalog,
        pools: InstancePoolsService,
        acls: ObjectAcls | None = None,
    ) -> None:
        self._catalog = catalog
        self._pools = pools
        self._acls = acls or ObjectAcls(store)
        self._clock = clock
        self._clusters = store.collection("clusters")
        self._rng = random.Random()

    # ---- contract used by runs -------------------------------------------------------------
    def get_cluster(self, cluster_id: str) -> dict[str, Any]:
        """ClusterDetails as the API returns it."""
        return self._public(self._load(cluster_id))

    def create_job_cluster(self, spec: dict[str, Any], run_name: str, creator: str) -> str:
        """A JOB cluster for one run: PENDING, then RUNNING; never startable or editable."""
        self.validate_spec(spec)
        cluster = self._new(normalized_spec(spec), creator, "JOB")
        cluster["cluster_name"] = cluster.get("cluster_name") or run_name
        cluster["autotermination_minutes"] = 0
        cluster["default_tags"]["RunName"] = run_name
        cluster["default_tags"]["ClusterName"] = cluster["cluster_name"]
        self._clusters.put(cluster["cluster_id"], cluster)
        return str(cluster["cluster_id"])

    def terminate(self, cluster_id: str, reason_code: str = "JOB_FINISHED", user: str | None = None) -> None:
        """TERMINATING now, TERMINATED later; a no-op for clusters already on their way down."""
        cluster = self._load(cluster_id)
        if cluster["state"] in ("TERMINATING", "TERMINATED"):
            return
        parameters = {"username": user} if user else {}
        cluster["termination_reason"] = {
            "code": reason_code,
            "type": TERMINATION_TYPES.get(reason_code, "SERVICE_FAULT"),
            "parameters": parameters,
        }
        self._set_state(cluster, "TERMINATING", "Terminating the Spark cluster.", then="TERMINATED")
        self._event(cluster, "TERMINATING", {"reason": cluster["termination_reason"]})
        self._clusters.put(cluster_id, cluster)

    def is_running(self, cluster_id: str) -> bool:
        cluster = self._clusters.get(cluster_id)
        return cluster is not None and self._advance(cluster)["state"] in RUNNING_STATES

    # ---- permissions -------------------------------------------------------------------------
    def _grants(self, cluster: dict[str, Any]) -> list[Grant]:
        owner = Grant("user_name", str(cluster.get("creator_user_name", "")), "CAN_MANAGE")
        return [owner, *self._acls.direct("clusters", cluster["cluster_id"])]

    def check(self, principal: Principal, cluster_id: str, level: str) -> None:
        """CAN_ATTACH_TO < CAN_RESTART < CAN_MANAGE; admins and the creator manage."""
        cluster = self._load(cluster_id)
        ObjectAcls.require(principal, "clusters", self._grants(cluster), level, f"cluster {cluster_id}")

    def get_permissions(self, principal: Principal, cluster_id: str) -> dict[str, Any]:
        self.check(principal, cluster_id, "CAN_ATTACH_TO")
        return ObjectAcls.render("clusters", cluster_id, self._grants(self._load(cluster_id)))

    def set_permissions(
        self, principal: Principal, cluster_id: str, acl: Any, *, replace: bool
    ) -> dict[str, Any]:
        self.check(principal, cluster_id, "CAN_MANAGE")
        self._acls.update("clusters", cluster_id, acl, replace=replace)
        return ObjectAcls.render("clusters", cluster_id, self._grants(self._load(cluster_id)))

    def permission_levels(self, principal: Principal, cluster_id: str) -> list[dict[str, str]]:
        self.check(principal, cluster_id, "CAN_ATTACH_TO")
        return ObjectAcls.levels("clusters")

    # ---- API operations ----------------------------------------------------------------------
    def create(self, spec: dict[str, Any], creator: str) -> str:
        self.validate_spec(spec)
        cluster = self._new(normalized_spec(spec), creator, "API")
        self._clusters.put(cluster["cluster_id"], cluster)
        return str(cluster["cluster_id"])

    def edit(self, cluster_id: str, spec: dict[str, Any], *, partial_fields: list[str] | None = None) -> None:
        """`edit` replaces the spec, `update` (partial_fields) sets only the listed fields."""
        cluster = self._load(cluster_id)
        self._refuse_job_cluster(cluster, "edited")
        self.check_compute(spec)  # a bad spec is refused whatever the cluster's state
        if cluster["state"] not in ("RUNNING", "TERMINATED"):
            raise self._unexpected_state(cluster)
        if partial_fields is None:
            merged = dict(spec)
        else:
            merged = {k: cluster[k] for k in SPEC_FIELDS if k in cluster}
            for name in partial_fields:
                top = name.split(".", 1)[0]
                if top not in SPEC_FIELDS:
                    raise invalid_parameter(f"Field {name} cannot be updated.")
                if spec.get(top) is None:
                    merged.pop(top, None)
                else:
                    merged[top] = spec[top]
            if "autoscale" in partial_fields and "num_workers" not in partial_fields:
                merged.pop("num_workers", None)
            if "num_workers" in partial_fields and "autoscale" not in partial_fields:
                merged.pop("autoscale", None)
        self.validate_spec(merged)
        merged = normalized_spec(merged)
        for name in SPEC_FIELDS:
            cluster.pop(name, None)
        cluster.update(merged)
        cluster.setdefault("autotermination_minutes", 120)
        self._event(cluster, "EDITED", {})
        if cluster["state"] == "RUNNING":
            self._set_state(
                cluster, "RESTARTING", "Restarting Spark to apply the new configuration.", then="RUNNING"
            )
        self._clusters.put(cluster_id, cluster)

    def start(self, cluster_id: str) -> None:
        cluster = self._load(cluster_id)
        self._refuse_job_cluster(cluster, "started")
        if cluster["state"] != "TERMINATED":
            raise self._unexpected_state(cluster)
        cluster.pop("termination_reason", None)
        cluster.pop("terminated_time", None)
        cluster["start_time"] = self._clock.now_ms()
        self._set_state(cluster, "PENDING", "Finding instances for new nodes.", then="RUNNING")
        self._event(cluster, "STARTING", {"user": cluster["creator_user_name"]})
        self._clusters.put(cluster_id, cluster)

    def restart(self, cluster_id: str) -> None:
        cluster = self._load(cluster_id)
        if cluster["state"] != "RUNNING":
            raise self._unexpected_state(cluster)
        self._set_state(cluster, "RESTARTING", "Restarting Spark.", then="RUNNING")
        self._event(cluster, "RESTARTING", {})
        self._clusters.put(cluster_id, cluster)

    def resize(self, cluster_id: str, num_workers: int | None, autoscale: dict[str, Any] | None) -> None:
        cluster = self._load(cluster_id)
        if num_workers is None and autoscale is None:
            raise invalid_parameter("One of num_workers or autoscale must be specified.")
        if cluster["state"] != "RUNNING":
            raise self._unexpected_state(cluster)
        if autoscale is not None:
            self._check_autoscale(autoscale)
            cluster["autoscale"] = autoscale
            cluster.pop("num_workers", None)
        else:
            if num_workers is None or not 0 <= num_workers <= MAX_WORKERS:
                raise invalid_parameter(f"num_workers must be between 0 and {MAX_WORKERS}.")
            cluster["num_workers"] = num_workers
            cluster.pop("autoscale", None)
        self._set_state(cluster, "RESIZING", "Resizing the cluster.", then="RUNNING")
        self._event(cluster, "RESIZING", {"target_num_workers": num_workers})
        self._clusters.put(cluster_id, cluster)

    def delete(self, cluster_id: str, user: str) -> None:
        self.terminate(cluster_id, "USER_REQUEST", user)

    def permanent_delete(self, cluster_id: str) -> None:
        self._load(cluster_id)
        self._clusters.delete(cluster_id)
        self._acls.forget("clusters", cluster_id)

    def pin(self, cluster_id: str, pinned: bool) -> None:
        cluster = self._load(cluster_id)
        cluster["_pinned"] = pinned
        self._event(cluster, "PINNED" if pinned else "UNPINNED", {})
        self._clusters.put(cluster_id, cluster)

    def events(self, cluster_id: str, limit: int, offset: int, order: str) -> dict[str, Any]:
        cluster = self._load(cluster_id)
        events = list(cluster.get("_events", []))
        if order.upper() != "ASC":
            events.reverse()
        page = events[offset : offset + limit]
        result: dict[str, Any] = {"events": page, "total_count": len(events)}
        if offset + limit < len(events):
            result["next_page"] = {
                "cluster_id": cluster_id,
                "offset": offset + limit,
                "limit": limit,
                "order": order,
            }
        return result

    def list_clusters(
        self, states: set[str] | None = None, sources: set[str] | None = None, pinned: bool | None = None
    ) -> list[dict[str, Any]]:
        """Active and pinned clusters plus those terminated in the last 30 days, running first."""
        now = self._clock.now_ms()
        found = []
        for cluster in self._clusters.values():
            self._advance(cluster)
            recent = now - cluster.get("terminated_time", now) <= 30 * DAY_MS
            if not (recent or cluster.get("_pinned")):
                continue
            if states and cluster["state"] not in states:
                continue
            if sources and cluster["cluster_source"] not in sources:
                continue
            if pinned is not None and bool(cluster.get("_pinned")) != pinned:
                continue
            found.append(cluster)
        found.sort(key=lambda c: (c["state"] == "TERMINATED", -c["start_time"], c["cluster_id"]))
        return [self._public(c) for c in found]

    def spark_versions(self) -> list[dict[str, str]]:
        return self._catalog.spark_versions()

    def node_types(self) -> list[dict[str, Any]]:
        return self._catalog.node_types()

    # ---- validation --------------------------------------------------------------------------
    def validate_spec(self, spec: dict[str, Any]) -> None:
        """The create-time checks Databricks makes; runs may call this at submit time too."""
        if not spec.get("spark_version"):
            raise invalid_parameter("Missing required field: spark_version")
        if spec.get("num_workers") is None and spec.get("autoscale") is None:
            raise invalid_parameter("One of num_workers or autoscale must be specified.")
        if spec.get("autoscale") is not None:
            self._check_autoscale(spec["autoscale"])
        elif to_int(spec["num_workers"], "num_workers") < 0:
            raise invalid_parameter("num_workers must be greater than or equal to 0.")
        elif to_int(spec["num_workers"], "num_workers") > MAX_WORKERS:
            raise invalid_parameter(f"num_workers must be at most {MAX_WORKERS}.")
        if not spec.get("node_type_id") and not spec.get("instance_pool_id") and not spec.get("policy_id"):
            raise invalid_parameter("One of node_type_id or instance_pool_id must be specified.")
        self.check_compute(spec)
        minutes = spec.get("autotermination_minutes")
        if minutes is not None:
            value = to_int(minutes, "autotermination_minutes")
            if value != 0 and not 10 <= value <= 10000:
                raise invalid_parameter(
                    "Autotermination minutes must be between 10 and 10000, or 0 to disable autotermination."
                )

    def check_compute(self, spec: dict[str, Any]) -> None:
        """The runtime, node types and pools a spec names exist (what a job's cluster spec gets
        at jobs/create, reset, update and runs/submit; the other checks wait for the run)."""
        if spec.get("spark_version"):
            self._catalog.check_spark_version(spec["spark_version"])
        for name in ("instance_pool_id", "driver_instance_pool_id"):
            if spec.get(name):
                self._pools.check_exists(spec[name])
        for name in ("node_type_id", "driver_node_type_id"):
            if spec.get(name):
                self._catalog.check_node_type(spec[name])

    @staticmethod
    def _check_autoscale(autoscale: Any) -> None:
        if not isinstance(autoscale, dict):
            raise invalid_parameter("autoscale must be an object with min_workers and max_workers.")
        low = to_int(autoscale.get("min_workers", 0), "autoscale.min_workers", 0, MAX_WORKERS)
        high = to_int(autoscale.get("max_workers", 0), "autoscale.max_workers", 0, MAX_WORKERS)
        if low < 0 or high < 1 or low > high:
            raise invalid_parameter(
                "autoscale requires 0 <= min_workers <= max_workers and max_workers >= 1."
            )

    # ---- internals ---------------------------------------------------------------------------
    def tick(self) -> None:
        now = self._clock.now_ms()
        for cluster in self._clusters.values():
            due = cluster.get("_next")
            if due and due["at"] <= now:
                self._advance(cluster)

    def _load(self, cluster_id: str) -> dict[str, Any]:
        cluster = self._clusters.get(cluster_id) if cluster_id else None
        if cluster is None:
            raise _not_found(cluster_id)
        self._advance(cluster)
        terminated = cluster.get("terminated_time")
        if terminated and self._clock.now_ms() - terminated > 60 * DAY_MS and not cluster.get("_pinned"):
            raise _not_found(cluster_id)
        return cluster

    def _new(self, spec: dict[str, Any], creator: str, source: str) -> dict[str, Any]:
        now = self._clock.now_ms()
        cluster_id = self._new_id(now)
        spec.setdefault("autotermination_minutes", 120)
        if spec.get("instance_pool_id") and not spec.get("node_type_id"):
            spec["node_type_id"] = self._pools.check_exists(spec["instance_pool_id"])["node_type_id"]
        spec.setdefault("driver_node_type_id", spec.get("node_type_id"))
        cluster: dict[str, Any] = {
            **spec,
            "cluster_id": cluster_id,
            "cluster_source": source,
            "creator_user_name": creator,
            "start_time": now,
            "enable_elastic_disk": spec.get("enable_elastic_disk", False),
            "disk_spec": spec.get("disk_spec", {}),
            "jdbc_port": 10000,
            "default_tags": {
                "Vendor": "Databricks",
                "Creator": creator,
                "ClusterName": spec.get("cluster_name", ""),
                "ClusterId": cluster_id,
            },
            "_events": [],
        }
        self._set_state(cluster, "PENDING", "Finding instances for new nodes.", then="RUNNING")
        self._event(cluster, "CREATING", {"user": creator})
        return cluster

    def _new_id(self, now_ms: int) -> str:
        stamp = datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%m%d-%H%M%S")
        while True:
            suffix = "".join(self._rng.choices(string.ascii_lowercase + string.digits, k=8))
            cluster_id = f"{stamp}-{suffix}"
            if cluster_id not in self._clusters:
                return cluster_id

    def _set_state(
        self, cluster: dict[str, Any], state: str, message: str, *, then: str | None = None
    ) -> None:
        cluster["state"] = state
        cluster["state_message"] = message
        if then is None:
            cluster.pop("_next", None)
            return
        delay_ms = int(self._clock.real_seconds(DURATIONS.get(state, 0.0)) * 1000)
        cluster["_next"] = {"state": then, "at": self._clock.now_ms() + delay_ms}

    def _advance(self, cluster: dict[str, Any]) -> dict[str, Any]:
        """Apply the due transition, if any (persisting it), and return the cluster."""
        due = cluster.get("_next")
        if not due or due["at"] > self._clock.now_ms():
            return cluster
        target = due["state"]
        if target == "RUNNING":
            if cluster["state"] != "RESIZING":
                cluster["spark_context_id"] = self._rng.randrange(1, 2**62)
                cluster["last_restarted_time"] = due["at"]
            cluster["driver"] = {"node_id": f"driver-{cluster['cluster_id']}", "private_ip": "10.0.0.1"}
            self._set_state(cluster, "RUNNING", "")
            self._event(
                cluster, "RUNNING", {"current_num_workers": cluster.get("num_workers", 0)}, at=due["at"]
            )
        else:
            cluster["terminated_time"] = due["at"]
            cluster.pop("driver", None)
            reason = cluster.get("termination_reason", {}).get("code", "USER_REQUEST")
            self._set_state(cluster, "TERMINATED", f"Termination reason: {reason}.")
            self._event(
                cluster, "TERMINATED", {"reason": cluster.get("termination_reason", {})}, at=due["at"]
            )
        self._clusters.put(cluster["cluster_id"], cluster)
        return cluster

    def _event(
        self, cluster: dict[str, Any], kind: str, details: dict[str, Any], at: int | None = None
    ) -> None:
        events = cluster.setdefault("_events", [])
        stamp = at if at is not None else self._clock.now_ms()
        events.append(
            {"cluster_id": cluster["cluster_id"], "timestamp": stamp, "type": kind, "details": details}
        )
        del events[:-MAX_EVENTS]

    @staticmethod
    def _refuse_job_cluster(cluster: dict[str, Any], verb: str) -> None:
        # Real wording unverified; the error code is what clients branch on.
        if cluster["cluster_source"] == "JOB":
            raise invalid_parameter(f"Cluster {cluster['cluster_id']} is a job cluster and cannot be {verb}.")

    @staticmethod
    def _unexpected_state(cluster: dict[str, Any]) -> Exception:
        return invalid_state(
            f"Cluster {cluster['cluster_id']} is in unexpected state {cluster['state'].title()}."
        )

    @staticmethod
    def _public(cluster: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in cluster.items() if not k.startswith("_")}


def normalized_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Coerce the numbers Airflow sends as strings ("num_workers": "2") to ints."""
    result = {k: spec[k] for k in SPEC_FIELDS if spec.get(k) is not None}
    for name in ("num_workers", "autotermination_minutes"):
        if name in result:
            result[name] = to_int(result[name], name)
    if isinstance(result.get("autoscale"), dict):
        result["autoscale"] = {k: to_int(v, f"autoscale.{k}") for k, v in result["autoscale"].items()}
    return result
