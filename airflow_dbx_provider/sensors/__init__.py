"""Sensors for Databricks runs and SQL warehouses."""

from airflow_dbx_provider.sensors.run import DatabricksRunSensor
from airflow_dbx_provider.sensors.sql import DatabricksPartitionSensor, DatabricksSqlSensor

__all__ = ["DatabricksPartitionSensor", "DatabricksRunSensor", "DatabricksSqlSensor"]
