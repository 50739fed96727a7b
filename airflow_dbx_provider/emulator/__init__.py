"""A local Databricks workspace emulator (Jobs, Clusters, DBFS, Secrets, Workspace, Permissions).

Public API: `EmulatorServer`, `EmulatorConfig`, `PrincipalSpec`. Never imports Airflow.
They load on first access, so importing a submodule (the pytest plugin, which every user of
the provider who runs pytest loads) does not pull in uvicorn and starlette.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.config import EmulatorConfig, PrincipalSpec
    from airflow_dbx_provider.emulator.server import EmulatorServer

__all__ = ["EmulatorConfig", "EmulatorServer", "PrincipalSpec"]
_HOMES = {
    "EmulatorConfig": "airflow_dbx_provider.emulator.config",
    "PrincipalSpec": "airflow_dbx_provider.emulator.config",
    "EmulatorServer": "airflow_dbx_provider.emulator.server",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home), name)
