"""Helpers shared by the operator, sensor and trigger tests (notebooks, Airflow env, run lookups)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

NOTEBOOK_DIR = "Shared/dbx_ops"
CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}

NOTEBOOKS = {
    "ok": """
dbutils.widgets.text("greeting", "hi")
dbutils.notebook.exit("echo:" + dbutils.widgets.get("greeting"))
""",
    "fail": """
def load_rows():
    raise ValueError("bad input row 42")

load_rows()
""",
    "flaky": """
dbutils.widgets.text("marker", "m")
marker = "dbfs:/tmp/dbx_ops/" + dbutils.widgets.get("marker")
try:
    dbutils.fs.head(marker)
except Exception:
    dbutils.fs.put(marker, "seen", True)
    raise RuntimeError("first attempt fails on purpose")
dbutils.notebook.exit("second attempt")
""",
    "sleep": """
import time
dbutils.widgets.text("seconds", "30")
deadline = time.monotonic() + float(dbutils.widgets.get("seconds"))
while time.monotonic() < deadline:
    time.sleep(0.2)
dbutils.notebook.exit("slept")
""",
}


def notebook_path(name: str) -> str:
    return f"/{NOTEBOOK_DIR}/{name}"


def notebook_task(key: str, name: str, **params: str) -> dict[str, Any]:
    return {
        "task_key": key,
        "new_cluster": CLUSTER,
        "notebook_task": {"notebook_path": notebook_path(name), "base_parameters": params},
    }


def install_notebooks(workspace_dir: Path) -> None:
    folder = Path(workspace_dir) / NOTEBOOK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in NOTEBOOKS.items():
        (folder / f"{name}.py").write_text("# Databricks notebook source\n" + body.lstrip())


def connection_json(server: Any) -> str:
    return json.dumps({"conn_type": "dbx", "host": server.url, "password": server.admin_token})


def point_airflow_at(server: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", connection_json(server))
    install_notebooks(server.config.workspace_dir)


def runs_created(server: Any) -> int:
    return int(server.counters().get("runs_created", 0))


def requests_to(server: Any, suffix: str) -> int:
    """Requests whose endpoint template ends with ``suffix`` (e.g. ``runs/get``), any API version."""
    total = 0
    for name, by_status in server.counters()["requests"].items():
        if name.split(" ", 1)[1].endswith(suffix):
            total += sum(by_status.values())
    return total


def reset_db_once() -> None:
    if os.environ.get("_DBX_OPS_DB_READY") == os.environ.get("AIRFLOW_HOME"):
        return
    from airflow.utils import db

    db.resetdb()
    os.environ["_DBX_OPS_DB_READY"] = os.environ.get("AIRFLOW_HOME", "")


def run_dag(dag_id: str, conf: dict[str, Any] | None = None) -> Any:
    from tests.airflow_workspace import load_dag

    dags = Path(__file__).resolve().parents[1] / "dags"
    return load_dag(str(dags / "dbx_ops_dags.py"), dag_id).test(run_conf=conf or {})


def ti_states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def xcom(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    ti = next(ti for ti in dag_run.get_task_instances() if ti.task_id == task_id)
    return ti.xcom_pull(task_ids=task_id, key=key)
