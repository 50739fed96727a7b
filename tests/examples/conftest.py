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
def orders_api() -> Iterator[object]:
    """The demo orders API (dags_examples/orders_api) on 127.0.0.1:<free port>, registered as the
    ``orders_api_default`` connection. It throttles every 3rd call (Retry-After: 0) so the fetch
    notebook's backoff path runs in every pipeline test."""
    from dags_examples.orders_api import OrdersApiServer, OrdersApiSettings

    saved = os.environ.get("AIRFLOW_CONN_ORDERS_API_DEFAULT")
    server = OrdersApiServer(OrdersApiSettings(throttle_every=3, retry_after_seconds=0)).start()
    os.environ["AIRFLOW_CONN_ORDERS_API_DEFAULT"] = json.dumps({"conn_type": "http", "host": server.url})
    try:
        yield server
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("AIRFLOW_CONN_ORDERS_API_DEFAULT", None)
        else:
            os.environ["AIRFLOW_CONN_ORDERS_API_DEFAULT"] = saved


@pytest.fixture(scope="session")
def examples_workspace(tmp_path_factory: pytest.TempPathFactory, orders_api: object) -> Iterator[object]:
    """A live emulator on 127.0.0.1:<free port>, registered as the `databricks_default` connection,
    next to the demo orders API. Simulated durations run 10x faster."""
    from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer

    saved = os.environ.get("AIRFLOW_CONN_DATABRICKS_DEFAULT")
    server = EmulatorServer(EmulatorConfig(data_dir=tmp_path_factory.mktemp("emulator"), time_scale=0.1))
    server.start()
    os.environ["AIRFLOW_CONN_DATABRICKS_DEFAULT"] = json.dumps(
        {"conn_type": "dbx", "host": server.url, "password": server.admin_token}
    )
    try:
        yield server
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("AIRFLOW_CONN_DATABRICKS_DEFAULT", None)
        else:
            os.environ["AIRFLOW_CONN_DATABRICKS_DEFAULT"] = saved


@pytest.fixture(scope="session")
def example_dagbag(airflow_db: None) -> object:
    from tests.airflow_compat import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))
