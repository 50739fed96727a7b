"""Clusters API methods, plus the one polling helper (kept apart: REST methods never sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from airflow_dbx_provider.exceptions import DbxError
from airflow_dbx_provider.hooks.api import EP
from airflow_dbx_provider.hooks.jobs import _Caller

#: States from which a cluster will not reach RUNNING without a new start.
CLUSTER_TERMINAL_STATES = frozenset({"TERMINATED", "ERROR", "UNKNOWN"})


class ClustersRestMixin(_Caller):
    def create_cluster(self, spec: dict[str, Any], **extra: Any) -> str:
        """Create a cluster (returns while PENDING); returns ``cluster_id``. Not retried on 5xx."""
        return str(self.call(EP.CLUSTERS_CREATE, **{**spec, **extra})["cluster_id"])

    def get_cluster(self, cluster_id: str, **extra: Any) -> dict[str, Any]:
        return self.call(EP.CLUSTERS_GET, cluster_id=cluster_id, **extra)

    def list_clusters(self, **extra: Any) -> Iterator[dict[str, Any]]:
        return self._iterate(EP.CLUSTERS_LIST, "clusters", **extra)

    def start_cluster(self, cluster_id: str, **extra: Any) -> dict[str, Any]:
        return self.call(EP.CLUSTERS_START, cluster_id=cluster_id, **extra)

    def restart_cluster(self, cluster_id: str, **extra: Any) -> dict[str, Any]:
        return self.call(EP.CLUSTERS_RESTART, cluster_id=cluster_id, **extra)

    def edit_cluster(self, spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return self.call(EP.CLUSTERS_EDIT, **{**spec, **extra})

    def resize_cluster(
        self,
        cluster_id: str,
        num_workers: int | None = None,
        autoscale: dict[str, int] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        return self.call(
            EP.CLUSTERS_RESIZE, cluster_id=cluster_id, num_workers=num_workers, autoscale=autoscale, **extra
        )

    def terminate_cluster(self, cluster_id: str, **extra: Any) -> dict[str, Any]:
        """Terminate (``clusters/delete``); the cluster can be started again."""
        return self.call(EP.CLUSTERS_DELETE, cluster_id=cluster_id, **extra)

    def permanent_delete_cluster(self, cluster_id: str, **extra: Any) -> dict[str, Any]:
        return self.call(EP.CLUSTERS_PERMANENT_DELETE, cluster_id=cluster_id, **extra)


class ClusterWaitMixin(_Caller):
    """The only hook helper that polls; sleep and clock are injectable."""

    def wait_for_cluster_state(
        self,
        cluster_id: str,
        target_states: Iterable[str] = ("RUNNING",),
        timeout_seconds: float = 1200.0,
        poll_seconds: float = 10.0,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> dict[str, Any]:
        """Poll ``clusters/get`` until the state is in ``target_states``; returns the cluster.

        Raises :class:`DbxError` on timeout, or when the cluster lands in a terminal state that was not asked for.
        """
        targets = {s.upper() for s in target_states}
        do_sleep = sleep or getattr(self, "_sleep", None) or time.sleep
        deadline = clock() + timeout_seconds
        while True:
            cluster = self.call(EP.CLUSTERS_GET, cluster_id=cluster_id)
            state = str(cluster.get("state", "UNKNOWN")).upper()
            if state in targets:
                return cluster
            if state in CLUSTER_TERMINAL_STATES:
                raise DbxError(
                    f"cluster {cluster_id} is {state} ({cluster.get('state_message', '')}), "
                    f"expected {'/'.join(sorted(targets))}",
                    error_code=state,
                )
            if clock() + poll_seconds > deadline:
                raise DbxError(
                    f"cluster {cluster_id} still {state} after {timeout_seconds:.0f}s, "
                    f"expected {'/'.join(sorted(targets))}",
                    error_code="TIMEOUT",
                )
            do_sleep(poll_seconds)


class ClustersMixin(ClustersRestMixin, ClusterWaitMixin):
    """All cluster methods of the sync hook."""
