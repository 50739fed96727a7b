"""HTTP handlers per API family: read and validate the wire, call services with typed arguments.

Each class is constructed with the services it needs (app.py binds them into a `RouteTable`).
"""

from airflow_dbx_provider.emulator.handlers.clusters import ClustersHandlers
from airflow_dbx_provider.emulator.handlers.dbfs import DbfsHandlers
from airflow_dbx_provider.emulator.handlers.identity import IdentityHandlers
from airflow_dbx_provider.emulator.handlers.jobs import JobsHandlers
from airflow_dbx_provider.emulator.handlers.permissions import PermissionsHandlers
from airflow_dbx_provider.emulator.handlers.secrets import SecretsHandlers
from airflow_dbx_provider.emulator.handlers.workspace import WorkspaceHandlers

__all__ = [
    "ClustersHandlers",
    "DbfsHandlers",
    "IdentityHandlers",
    "JobsHandlers",
    "PermissionsHandlers",
    "SecretsHandlers",
    "WorkspaceHandlers",
]
