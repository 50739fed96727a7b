"""SQL through real Airflow (``dag.test()``) against the live emulator: common-sql's operators by conn
id, and ours (statements, DatabricksSqlOperator, warehouses, SQL sensors). One DAG per scenario family.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from tests.airflow_workspace import load_dag
from tests.operators.support import ti_states, xcom

DAGS = Path(__file__).resolve().parents[1] / "dags" / "sql_dags.py"


def sql_connection(server: Any, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> str:
    """``databricks_default`` (conn type dbx) with a fresh running warehouse in its extras; its id."""
    api = DatabricksHook.from_settings(host=server.url, token=server.admin_token, requests_per_second=1000)
    warehouse_id = api.create_warehouse({"name": "airflow"})
    conn = {
        "conn_type": "dbx",
        "host": server.url,
        "password": server.admin_token,
        "extra": {"warehouse_id": warehouse_id, "catalog": "main", "schema": "default", **extra},
    }
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", json.dumps(conn))
    return warehouse_id


def value(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    """An XCom value as the task returned it (tuples and Decimals, not their serialized form)."""
    from airflow.sdk.serde import deserialize

    return deserialize(xcom(dag_run, task_id, key))


def run_sql_dag(dag_id: str, conf: dict[str, Any] | None = None) -> Any:
    return load_dag(str(DAGS), dag_id).test(run_conf=conf or {})


@pytest.mark.slow
def test_common_sql_operators_by_conn_id(
    airflow_workspace: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    sql_connection(airflow_workspace, monkeypatch)
    dag_run = run_sql_dag("dbx_sql_common_sql")
    states = ti_states(dag_run)
    assert states.pop("bad_check") == "failed"
    assert set(states.values()) == {"success"}, states
    assert value(dag_run, "revenue") == [("DE", Decimal("3.00")), ("FR", Decimal("17.50"))]
    out = capsys.readouterr()
    text = caplog.text + out.out + out.err
    assert "amounts_above_100" in text  # the failing check is named
