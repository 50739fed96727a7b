"""Triggers (and the shared per-process poller behind them) for deferred Databricks waits."""

from airflow_dbx_provider.triggers.run import DatabricksRunTrigger
from airflow_dbx_provider.triggers.sql_statement import DatabricksSQLStatementExecutionTrigger

__all__ = ["DatabricksRunTrigger", "DatabricksSQLStatementExecutionTrigger"]
