"""Databricks hooks: :class:`DatabricksHook` (sync, requests) and :class:`DatabricksAsyncHook` (httpx).

``DEFAULT_CONN_ID`` lives here, its one home: importing it loads nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_dbx_provider.hooks.databricks import DatabricksHook
    from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
    from airflow_dbx_provider.hooks.settings import DbxSettings

__all__ = ["DEFAULT_CONN_ID", "DatabricksAsyncHook", "DatabricksHook", "DbxSettings"]

#: The Airflow connection every hook, operator, sensor and trigger uses unless told otherwise.
DEFAULT_CONN_ID = "databricks_default"


def __getattr__(name: str) -> Any:  # lazy: importing the package must not pull in requests/httpx
    if name == "DatabricksHook":
        from airflow_dbx_provider.hooks.databricks import DatabricksHook

        return DatabricksHook
    if name == "DatabricksAsyncHook":
        from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook

        return DatabricksAsyncHook
    if name == "DbxSettings":
        from airflow_dbx_provider.hooks.settings import DbxSettings

        return DbxSettings
    raise AttributeError(name)
