"""The pipeline through a real Airflow: REST-triggered, deferred in the real triggerer, checked in Delta."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from deltalake import DeltaTable

from dags_examples.orders_api import orders_for_window
from tests.e2e.conftest import RealAirflow, wait_for_dag, wait_for_run

pytestmark = pytest.mark.slow
DAG_ID = "ingest_transform_delta"


def test_trigger_pipeline_through_the_rest_api(real_airflow: RealAirflow) -> None:
    token = real_airflow.token()
    wait_for_dag(real_airflow, token, DAG_ID)
    real_airflow.api("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False}, token=token)
    table = f"dbfs:/delta/e2e_{uuid.uuid4().hex[:8]}"
    conf = {"start_date": "2024-04-01", "end_date": "2024-04-02", "table_path": table}
    dag_run = real_airflow.api(
        "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf}, token=token
    )
    state = wait_for_run(real_airflow, token, DAG_ID, dag_run["dag_run_id"])
    instances = real_airflow.api(
        "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(dag_run['dag_run_id'])}/taskInstances", token=token
    )["task_instances"]
    states = {ti["task_id"]: ti["state"] for ti in instances}
    assert state == "success", f"{states}\n{real_airflow.task_logs(DAG_ID, dag_run['dag_run_id'])}"

    # The task's "Databricks run" extra link, as the UI gets it from the API server.
    links = real_airflow.api(
        "GET",
        f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(dag_run['dag_run_id'])}/taskInstances/run_pipeline/links",
        token=token,
    )
    run_page = links["extra_links"]["Databricks run"]
    assert run_page.startswith(real_airflow.emulator.state.base_url + "/?o=") and "#job/" in run_page

    local = Path(real_airflow.emulator.state.data_dir) / "dbfs" / table.removeprefix("dbfs:/")
    frame = DeltaTable(str(local)).to_pandas()
    expected = len(orders_for_window(dt.date(2024, 4, 1), dt.date(2024, 4, 2))) - 2 * 3
    assert len(frame) == expected
    assert not frame["order_id"].duplicated().any()
