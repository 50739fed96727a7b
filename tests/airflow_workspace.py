"""Fixtures shared by the operator, sensor and trigger tests (registered in tests/conftest.py).

The live emulator from the package's pytest plugin, reset per test, as the ``databricks_default``
connection of a real (temporary) Airflow.
"""

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
