"""Fixtures shared by the operator, sensor and trigger tests (registered in tests/conftest.py).

The live emulator from the package's pytest plugin, reset per test, as the ``databricks_default``
connection of a real (temporary) Airflow.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.airflow_compat import DagBag
from tests.operators.support import point_airflow_at, reset_db_once


def load_dag(dag_file: str, dag_id: str) -> Any:
    """Parse one DAG file as the DAG processor would (the DagBag moved in Airflow 3.2)."""
    dag = DagBag(dag_folder=dag_file).get_dag(dag_id)
    assert dag is not None, f"{dag_id} not in {dag_file}"
    return dag


@pytest.fixture
def workspace(dbx_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    point_airflow_at(dbx_emulator, monkeypatch)
    return dbx_emulator


@pytest.fixture
def airflow_workspace(workspace: Any) -> Any:
    """The emulator plus an Airflow metadata DB, for ``dag.test()``."""
    reset_db_once()
    return workspace
