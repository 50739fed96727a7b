"""Triggers (and the shared per-process poller behind them) for deferred Databricks waits."""

from airflow_dbx_provider.triggers.run import DatabricksRunTrigger

__all__ = ["DatabricksRunTrigger"]
