"""A local Databricks workspace emulator (Jobs, Clusters, DBFS, Secrets, Workspace, Permissions).

Public API: `EmulatorServer`, `EmulatorConfig`. Never imports Airflow.
"""

from airflow_dbx_provider.emulator.config import EmulatorConfig, PrincipalSpec
from airflow_dbx_provider.emulator.server import EmulatorServer

__all__ = ["EmulatorConfig", "EmulatorServer", "PrincipalSpec"]
