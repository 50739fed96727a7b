"""Trigger tests: the live emulator from the package's pytest plugin, reset per test, as the
``databricks_default`` connection of a real (temporary) Airflow."""

from __future__ import annotations

from typing import Any

import pytest

from tests.operators.support import point_airflow_at, reset_db_once


@pytest.fixture
def workspace(dbx_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    point_airflow_at(dbx_emulator, monkeypatch)
    return dbx_emulator


@pytest.fixture
def airflow_workspace(workspace: Any) -> Any:
    """The emulator plus an Airflow metadata DB, for ``dag.test()``."""
    reset_db_once()
    return workspace


@pytest.fixture(scope="module")
def slow_workspace(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A second emulator where simulated task kinds take ~2 s (several polling intervals)."""
    from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer

    root = tmp_path_factory.mktemp("slow-emulator")
    server = EmulatorServer(EmulatorConfig(port=0, data_dir=root, time_scale=0.4, rate_limit_enabled=False))
    server.start()
    try:
        yield server
    finally:
        server.stop()
