"""Which workspace an operator or sensor talks to: connection id, hook arguments and the cached hook."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from airflow_dbx_provider.hooks.databricks import DatabricksHook


class DatabricksHookMixin:
    """Gives an operator or sensor ``databricks_conn_id``, ``hook_params`` and a lazily built ``hook``.

    The class keeps ``databricks_conn_id`` and ``hook_params`` in its own ``__init__`` signature
    (Airflow fills ``default_args`` and checks ``partial()`` arguments from that signature) and
    hands them to :meth:`_use_connection`.
    """

    databricks_conn_id: str
    hook_params: dict[str, Any]

    def _use_connection(self, databricks_conn_id: str, hook_params: Mapping[str, Any] | None) -> None:
        self.databricks_conn_id = databricks_conn_id
        self.hook_params = dict(hook_params or {})

    @cached_property
    def hook(self) -> DatabricksHook:
        """The sync hook for ``databricks_conn_id`` (built on first use, after templates render)."""
        return DatabricksHook(self.databricks_conn_id, **self.hook_params)
