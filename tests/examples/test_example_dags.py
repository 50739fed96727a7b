"""Every example DAG parses, and runs to success through `dag.test()` against a live emulator."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from dags_examples.orders_api import orders_for_window
from tests.examples.conftest import DAGS_FOLDER

EXAMPLE_DAG_IDS = {
    "ingest_transform_delta",
    "submit_run_ephemeral_vs_all_purpose",
    "cancel_run",
    "run_sensor",
    "setup_dbfs_and_secrets",
    "workflow_group",
}
SMALL_EXAMPLE_IDS = sorted(EXAMPLE_DAG_IDS - {"ingest_transform_delta"})
BAD_ROWS_PER_DAY = 3


def test_every_example_parses(example_dagbag: Any) -> None:
    assert example_dagbag.import_errors == {}
    assert set(example_dagbag.dag_ids) == EXAMPLE_DAG_IDS
    files = {Path(dag.fileloc).name for dag in example_dagbag.dags.values()}
    assert files == {path.name for path in DAGS_FOLDER.glob("*.py")}


def test_pipeline_params_make_a_trigger_form(example_dagbag: Any) -> None:
    params = example_dagbag.get_dag("ingest_transform_delta").params
    assert set(params) >= {"start_date", "end_date", "table_path"}
    assert "source_url" not in params  # where the API key goes is not the triggering user's choice
    for name in ("start_date", "end_date", "table_path"):
        param = params.get_param(name)
        assert param.description, name
        assert param.schema["type"] == "string", name
    assert params["table_path"] == "dbfs:/delta/orders"


def _run(dag: Any, conf: dict[str, Any] | None = None) -> Any:
    dag_run = dag.test(run_conf=conf or {})
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "success", states
    return dag_run


def _xcom(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    ti = next(ti for ti in dag_run.get_task_instances() if ti.task_id == task_id)
    return ti.xcom_pull(task_ids=task_id, key=key)


@pytest.mark.parametrize("dag_id", SMALL_EXAMPLE_IDS)
def test_small_example_runs(example_dagbag: Any, examples_workspace: Any, dag_id: str) -> None:
    """Each small example runs to success with its default params (the pipeline has its own tests)."""
    _run(example_dagbag.get_dag(dag_id))


def test_pipeline_merges_and_stays_idempotent(example_dagbag: Any, examples_workspace: Any) -> None:
    """Two real runs: a first window, then an overlapping one (its first day again, plus a new day)."""
    import datetime as dt

    dag = example_dagbag.get_dag("ingest_transform_delta")
    table = f"dbfs:/delta/orders_{uuid.uuid4().hex[:8]}"  # private to this test
    conf = {"start_date": "2024-02-01", "end_date": "2024-02-03", "table_path": table, "page_size": 40}
    fetched = len(orders_for_window(dt.date(2024, 2, 1), dt.date(2024, 2, 3)))
    good = fetched - 3 * BAD_ROWS_PER_DAY

    first_run = _run(dag, conf)
    first = _xcom(first_run, "report")
    assert first["records_fetched"] == fetched
    assert first["rows_rejected"] == 3 * BAD_ROWS_PER_DAY
    assert first["rejects_by_reason"]["missing_amount"] == 3
    assert first["rejects_by_reason"]["bad_order_ts"] == 3
    assert first["rejects_by_reason"]["non_positive_quantity"] == 3
    assert first["rows_inserted"] == first["total_rows"] == good
    # What run-now pushed: the upserted job, the run page, each notebook's exit value.
    assert _xcom(first_run, "upsert_job") == _xcom(first_run, "run_pipeline", "job_id")
    assert "/run/" in _xcom(first_run, "run_pipeline", "run_page_url")
    outputs = _xcom(first_run, "run_pipeline", "task_outputs")
    assert json.loads(outputs["write_results"])["table_path"] == table

    # An overlapping window: its first day's rows are updated in place (MERGE), the new day added.
    later = _xcom(_run(dag, {**conf, "start_date": "2024-02-03", "end_date": "2024-02-04"}), "report")
    overlap = len(orders_for_window(dt.date(2024, 2, 3), dt.date(2024, 2, 3))) - BAD_ROWS_PER_DAY
    new_day = len(orders_for_window(dt.date(2024, 2, 4), dt.date(2024, 2, 4))) - BAD_ROWS_PER_DAY
    assert later["rows_inserted"] == new_day
    assert later["rows_updated"] == overlap
    assert later["total_rows"] == good + new_day
    assert later["table_version"] == first["table_version"] + 1

    # The table itself, read straight from the emulator's DBFS folder: no duplicate key, no bad row.
    local = Path(examples_workspace.state.data_dir) / "dbfs" / table.removeprefix("dbfs:/")
    frame = DeltaTable(str(local)).to_pandas()
    assert len(frame) == good + new_day
    assert not frame["order_id"].duplicated().any()
    assert frame["amount"].notna().all() and (frame["quantity"] > 0).all()
    rejects = local.parents[1] / "staging/orders/2024-02-01_2024-02-03/rejects.jsonl"
    assert len(rejects.read_text().splitlines()) == 3 * BAD_ROWS_PER_DAY


def test_a_wrong_api_key_fails_the_run_with_the_remote_error(
    example_dagbag: Any, examples_workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_dbx_provider.hooks.databricks import DatabricksHook

    # The DAG stores the key from this Airflow Variable in the workspace's secret scope.
    monkeypatch.setenv("AIRFLOW_VAR_SAMPLE_SOURCE_API_KEY", "not-the-key")
    dag = example_dagbag.get_dag("ingest_transform_delta")
    table = f"dbfs:/delta/orders_{uuid.uuid4().hex[:8]}"
    dag_run = dag.test(run_conf={"start_date": "2024-05-01", "end_date": "2024-05-01", "table_path": table})
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "failed" and states["run_pipeline"] == "failed", states

    hook = DatabricksHook()
    run = hook.get_run(_xcom(dag_run, "run_pipeline", "run_id"))
    fetch = next(task for task in run["tasks"] if task["task_key"] == "fetch_data")
    assert fetch["state"]["result_state"] == "FAILED"
    assert "orders API answered 401" in hook.get_run_output(fetch["run_id"])["error"]
    assert not (Path(examples_workspace.state.data_dir) / "dbfs" / table.removeprefix("dbfs:/")).exists()


@pytest.mark.parametrize(
    ("table_path", "refused_by"),
    # One case per layer that refuses; the path rules themselves are unit-tested below.
    [("dbfs:/delta/../../etc", "param"), ("dbfs:/delta/x/../../../y", "check_inputs")],
    ids=["param-pattern", "check_inputs-task"],
)
def test_table_path_outside_its_root_fails_before_any_api_call(
    example_dagbag: Any, examples_workspace: Any, table_path: str, refused_by: str
) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    dag = example_dagbag.get_dag("ingest_transform_delta")
    before = examples_workspace.counters()["total_requests"]
    conf = {"start_date": "2024-05-01", "end_date": "2024-05-01", "table_path": table_path}
    if refused_by == "param":  # the trigger form's pattern already refuses it
        with pytest.raises(ParamValidationError, match="table_path"):
            dag.test(run_conf=conf)
    else:  # the pattern lets it through; the DAG's first task refuses it
        dag_run = dag.test(run_conf=conf)
        states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
        assert dag_run.state == "failed" and states["check_inputs"] == "failed", states
    assert examples_workspace.counters()["total_requests"] == before


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "dbfs:/delta/../../x",
            "table_path 'dbfs:/delta/../../x' must not contain '..', '.' or empty segments",
        ),
        ("dbfs:/delta/x/./y", "table_path 'dbfs:/delta/x/./y' must not contain '..', '.' or empty segments"),
        ("dbfs:/delta/x//y", "table_path 'dbfs:/delta/x//y' must not contain '..', '.' or empty segments"),
        ("dbfs:/tmp/x", "table_path 'dbfs:/tmp/x' must be inside dbfs:/delta/"),
        ("dbfs:/delta", "table_path 'dbfs:/delta' must be inside dbfs:/delta/"),
        (
            "dbfs:/delta/a b",
            "table_path 'dbfs:/delta/a b' must be a dbfs:/ path of letters, digits, '_', '-', '.' and '/'",
        ),
    ],
    ids=["dotdot", "dot", "empty-segment", "other-root", "the-root-itself", "space"],
)
def test_table_path_check_says_what_is_wrong_in_one_line(path: str, message: str) -> None:
    from dags_examples.ingest_transform_delta import InputError, table_path_inside_root

    with pytest.raises(InputError) as info:
        table_path_inside_root(path)
    assert str(info.value) == message
    assert table_path_inside_root("dbfs:/delta/orders/") == "dbfs:/delta/orders"


def test_orders_api_url_comes_from_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    from dags_examples.ingest_transform_delta import DEMO_ORDERS_API_URL, InputError, orders_api_url

    monkeypatch.delenv("AIRFLOW_CONN_ORDERS_API_DEFAULT", raising=False)
    assert orders_api_url() == DEMO_ORDERS_API_URL
    monkeypatch.setenv(
        "AIRFLOW_CONN_ORDERS_API_DEFAULT",
        json.dumps({"conn_type": "http", "host": "https://orders.example.com/v1/"}),
    )
    assert orders_api_url() == "https://orders.example.com/v1"
    monkeypatch.setenv(
        "AIRFLOW_CONN_ORDERS_API_DEFAULT", json.dumps({"conn_type": "http", "host": "ftp://x/v1"})
    )
    with pytest.raises(InputError, match="host 'ftp://x/v1' is not an http\\(s\\) base URL"):
        orders_api_url()
