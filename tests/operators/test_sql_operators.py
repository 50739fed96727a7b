"""SQL through real Airflow (``dag.test()``) against the live emulator: common-sql's operators by conn
id, and ours (statements, DatabricksSqlOperator, warehouses, SQL sensors). One DAG per scenario family.
"""

from __future__ import annotations

import json
import logging
import time
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
    from tests.airflow_compat import deserialize

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


@pytest.mark.slow
def test_our_sql_operators_and_sensors(
    airflow_workspace: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    sql_connection(airflow_workspace, monkeypatch)
    dag_run = run_sql_dag("dbx_sql_ours", {"out": str(tmp_path), "day": "2024-01-02"})
    states = ti_states(dag_run)
    assert (states.pop("bad_sync"), states.pop("bad_deferred")) == ("failed", "failed")
    assert set(states.values()) == {"success"}, states

    for task_id in ("create", "insert_deferred", "bad_sync"):
        statement_id = xcom(dag_run, task_id, "statement_id")
        assert isinstance(statement_id, str) and statement_id, task_id
    description, rows = value(dag_run, "to_xcom")  # the official shape: (description, rows)
    assert [d[0] for d in description] == ["n", "total"] and rows == [(2, 6.5)]

    assert (tmp_path / "events.csv").read_text().splitlines() == [
        "id,amount,day",
        "1,2.5,2024-01-01",
        "2,4.0,2024-01-02",
    ]
    assert json.loads((tmp_path / "events.json").read_text())[1] == {
        "id": 2,
        "amount": 4.0,
        "day": "2024-01-02",
    }
    assert len((tmp_path / "events.jsonl").read_text().splitlines()) == 2
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "events.parquet").column("id").to_pylist() == [1, 2]

    out = capsys.readouterr()
    text = caplog.text + out.out + out.err
    assert "bad_sync: SQL statement" in text and "TABLE_OR_VIEW_NOT_FOUND" in text
    assert "bad_deferred: SQL statement" in text


# ---- DatabricksSQLStatementsOperator without Airflow's DB: retries, kill, timeout, the trigger ----
SLOW = "SELECT count(*) FROM range(100000) a, range(100000) b WHERE a.id + b.id < 0"


class FakeStore(dict):
    """``context["task_state_store"]``: what survives between tries (Airflow 3.3+)."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value


class FakeTI:
    dag_id, task_id, run_id, map_index = "d", "t", "manual__1", -1

    def __init__(self, try_number: int = 1) -> None:
        self.try_number = try_number
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        return self.xcoms.get(key)


def _operator(warehouse_id: str, statement: str = "SELECT 1", **kwargs: Any) -> Any:
    from airflow_dbx_provider.operators import DatabricksSQLStatementsOperator

    return DatabricksSQLStatementsOperator(
        task_id="t", statement=statement, warehouse_id=warehouse_id, polling_period_seconds=0.05, **kwargs
    )


def _api() -> DatabricksHook:
    return DatabricksHook()


def _final(api: DatabricksHook, statement_id: str) -> str:
    deadline = time.monotonic() + 20
    while (state := api.get_statement(statement_id)["status"]["state"]) in ("PENDING", "RUNNING"):
        assert time.monotonic() < deadline, state
        time.sleep(0.05)
    return state


@pytest.mark.parametrize(
    ("earlier", "executes_again"),
    [(SLOW, False), ("SELECT 1", False), ("SELECT * FROM nowhere", True)],
    ids=["running-reattached", "succeeded-kept", "failed-executed-again"],
)
def test_retry_looks_up_the_earlier_try_statement(workspace: Any, earlier: str, executes_again: bool) -> None:
    api = _api()
    warehouse_id = api.create_warehouse({"name": "w"})
    first = api.execute_statement(earlier, warehouse_id, wait_timeout="0s")["statement_id"]
    if earlier != SLOW:
        _final(api, first)
    store, ti = FakeStore({"dbx_statement_id": first}), FakeTI(try_number=2)
    op = _operator(warehouse_id, "SELECT 2", wait_for_termination=False)
    op.execute({"ti": ti, "task_state_store": store})  # type: ignore[arg-type]
    assert (ti.xcoms["statement_id"] != first) == executes_again
    assert store["dbx_statement_id"] == ti.xcoms["statement_id"]
    if earlier == SLOW:
        api.cancel_statement(first)


def test_on_kill_and_timeout_cancel_the_statement(workspace: Any) -> None:
    import threading

    from airflow_dbx_provider.hooks.sql_dbapi import DatabricksSqlError

    api = _api()
    warehouse_id = api.create_warehouse({"name": "w"})
    op, ti = _operator(warehouse_id, SLOW), FakeTI()
    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(errors, op.execute, {"ti": ti}))
    worker.start()
    deadline = time.monotonic() + 10
    while op.statement_id is None and time.monotonic() < deadline:
        time.sleep(0.02)
    op.on_kill()
    worker.join(20)
    assert _final(api, str(op.statement_id)) == "CANCELED"
    assert isinstance(errors[0], DatabricksSqlError) and errors[0].state == "CANCELED"

    timed = _operator(warehouse_id, SLOW, timeout=0.3)
    with pytest.raises(DatabricksSqlError, match="still .* after 0.3s: canceled") as err:
        timed.execute({"ti": FakeTI()})  # type: ignore[arg-type]
    assert err.value.error_code == "DEADLINE_EXCEEDED"
    assert _final(api, str(timed.statement_id)) == "CANCELED"


def _capture(errors: list[BaseException], call: Any, *args: Any) -> None:
    try:
        call(*args)
    except BaseException as exc:
        errors.append(exc)


def test_trigger_fires_on_the_end_state_and_cancels_at_its_end_time(workspace: Any) -> None:
    import asyncio

    from airflow_dbx_provider.triggers import DatabricksSQLStatementExecutionTrigger

    api = _api()
    warehouse_id = api.create_warehouse({"name": "w"})

    async def first_event(trigger: Any) -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    done = api.execute_statement("SELECT * FROM nowhere", warehouse_id, wait_timeout="0s")["statement_id"]
    event = asyncio.run(
        first_event(DatabricksSQLStatementExecutionTrigger(done, polling_period_seconds=0.05))
    )
    assert (event["status"], event["state"], event["sql_state"]) == ("failed", "FAILED", "42P01")

    slow = api.execute_statement(SLOW, warehouse_id, wait_timeout="0s")["statement_id"]
    trigger = DatabricksSQLStatementExecutionTrigger(
        slow, end_time=time.time() + 0.3, polling_period_seconds=0.05
    )
    classpath, kwargs = trigger.serialize()
    assert (
        classpath.endswith("sql_statement.DatabricksSQLStatementExecutionTrigger")
        and kwargs["statement_id"] == slow
    )
    event = asyncio.run(first_event(trigger))
    assert (event["status"], event["error_code"]) == ("timeout", "DEADLINE_EXCEEDED")
    assert _final(api, slow) == "CANCELED"


# ---- the official names and arguments (tests/operators/test_official_signatures.py covers the
# operators of operators/databricks.py, DatabricksSQLStatementsOperator included) ----
OFFICIAL_SQL = [
    ("operators.databricks_sql", "DatabricksSqlOperator"),
    ("operators.warehouse", "DatabricksStartWarehouseOperator"),
    ("operators.warehouse", "DatabricksStopWarehouseOperator"),
    ("sensors.databricks_sql", "DatabricksSqlSensor"),
    ("sensors.databricks_partition", "DatabricksPartitionSensor"),
]


@pytest.mark.parametrize(("module", "name"), OFFICIAL_SQL, ids=[n for _, n in OFFICIAL_SQL])
def test_official_sql_arguments_are_accepted(module: str, name: str) -> None:
    import inspect

    import airflow_dbx_provider.operators
    import airflow_dbx_provider.sensors

    official = pytest.importorskip(f"airflow.providers.databricks.{module}")

    def named(cls: type) -> set[str]:
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        names: set[str] = set()
        for klass in cls.__mro__:
            if "__init__" in vars(klass) and klass is not object:
                params = inspect.signature(klass.__init__).parameters.values()  # type: ignore[misc]
                names |= {p.name for p in params if p.kind in kinds and p.name != "self"}
        return names

    package = airflow_dbx_provider.sensors if module.startswith("sensors") else airflow_dbx_provider.operators
    theirs, ours = getattr(official, name), getattr(package, name)
    missing = sorted(named(theirs) - named(ours))
    assert not missing, f"{name} does not accept the official argument(s): {', '.join(missing)}"
