"""Fixtures for the example DAGs: an Airflow metadata DB and one live emulator for the session.

The suite-wide tests/conftest.py already points AIRFLOW_HOME at a temporary folder and makes
dags_examples/ a DAG bundle, so `dag.test()` can run the example DAGs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags_examples"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh metadata DB in the temporary AIRFLOW_HOME (about 3 s)."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture(scope="session")
def examples_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A live emulator on 127.0.0.1:<free port>, registered as the `databricks_default` connection.

    Simulated durations run 10x faster, and the sample orders API throttles every 3rd call
    (Retry-After: 0) so the fetch notebook's backoff path runs in every pipeline test.
    """
    from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer

    saved = {
        name: os.environ.get(name)
        for name in (
            "AIRFLOW_CONN_DATABRICKS_DEFAULT",
            "DBX_SAMPLE_SOURCE_THROTTLE_EVERY",
            "DBX_SAMPLE_SOURCE_RETRY_AFTER",
        )
    }
    server = EmulatorServer(EmulatorConfig(data_dir=tmp_path_factory.mktemp("emulator"), time_scale=0.1))
    server.start()
    os.environ["DBX_SAMPLE_SOURCE_THROTTLE_EVERY"] = "3"
    os.environ["DBX_SAMPLE_SOURCE_RETRY_AFTER"] = "0"
    os.environ["AIRFLOW_CONN_DATABRICKS_DEFAULT"] = json.dumps(
        {"conn_type": "dbx", "host": server.url, "password": server.admin_token}
    )
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def example_dagbag(airflow_db: None) -> object:
    from tests.airflow_compat import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))
