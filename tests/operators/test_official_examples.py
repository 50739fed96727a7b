"""The official provider's documented example DAGs, import lines changed, run to success here.

Each DAG file of ``tests/dags/official_examples/`` runs once through ``dag.test()`` against the
emulator, sync and deferred (``[operators] default_deferrable``, which the examples rely on).
The only harness change: the tasks poll every 0.2 s instead of their default 30 s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from tests.operators.official_compute import allow_example_compute
from tests.operators.support import CLUSTER, connection_json, requests_to, ti_states

EXAMPLES = Path(__file__).resolve().parents[1] / "dags" / "official_examples"
NOTEBOOK = "# Databricks notebook source\ndbutils.notebook.exit('done')\n"
#: Workspace paths the official examples name.
NOTEBOOK_PATHS = (
    "/Shared/test",
    "/Users/airflow@example.com/PrepareData",
    "/Shared/Notebook_1",
    "/Shared/Notebook_2",
)


@pytest.fixture
def example_workspace(airflow_workspace: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    root = Path(airflow_workspace.config.workspace_dir)
    for path in NOTEBOOK_PATHS:
        target = root / f"{path.lstrip('/')}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(NOTEBOOK)
    allow_example_compute(airflow_workspace, monkeypatch)  # their old runtimes and node types
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_CONN", connection_json(airflow_workspace))
    cluster_id = DatabricksHook().create_cluster({"cluster_name": "examples", **CLUSTER})
    monkeypatch.setenv("EXAMPLE_EXISTING_CLUSTER_ID", cluster_id)
    return airflow_workspace


def _run(dag_file: str, dag_id: str, monkeypatch: pytest.MonkeyPatch, deferrable: bool) -> Any:
    from tests.airflow_workspace import load_dag

    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", str(deferrable))
    monkeypatch.setenv("EXAMPLE_DAG_ID", dag_id)
    dag = load_dag(str(EXAMPLES / dag_file), dag_id)
    for task in dag.tasks:
        if hasattr(task, "polling_period_seconds"):
            task.polling_period_seconds = 0.2
    return dag.test()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sync", "deferred"])
def test_example_databricks_operator(
    example_workspace: Any, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    dag_id = f"example_databricks_operator_{mode}"
    dag_run = _run("example_databricks.py", dag_id, monkeypatch, deferrable=mode == "deferred")
    states = ti_states(dag_run)
    assert dag_run.state == "success", states
    assert set(states) == {
        "jobs_create_json",
        "jobs_create_named",
        "run_now",
        "notebook_task",
        "spark_jar_task",
        "notebook_1",
        "notebook_2",
        "nb_1",
    }
    deferrals = requests_to(example_workspace, "runs/list")
    assert (deferrals > 0) == (mode == "deferred"), json.dumps(example_workspace.counters()["requests"])
