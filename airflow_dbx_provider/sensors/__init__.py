"""Sensors for Databricks runs."""

from airflow_dbx_provider.sensors.run import DatabricksRunSensor

__all__ = ["DatabricksRunSensor"]
