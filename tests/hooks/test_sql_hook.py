"""DatabricksHook's SQL calls against the live emulator: warehouses, statements, chunks, errors, retries."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from airflow_dbx_provider.emulator import EmulatorServer
from airflow_dbx_provider.exceptions import DatabricksApiError, DatabricksNotFoundError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.hooks.sql import STATEMENT_TERMINAL_STATES, aget_statement, typed_parameter


@pytest.fixture
def hook(dbx_emulator: EmulatorServer) -> DatabricksHook:
    return DatabricksHook.from_settings(
        host=dbx_emulator.url, token=dbx_emulator.admin_token, requests_per_second=1000, sleep=lambda s: None
    )


def _finish(hook: DatabricksHook, response: dict) -> dict:
    for _ in range(2000):
        if response["status"]["state"] in STATEMENT_TERMINAL_STATES:
            return response
        asyncio.run(asyncio.sleep(0.01))
        response = hook.get_statement(response["statement_id"])
    raise AssertionError(response)


def test_warehouse_calls(hook: DatabricksHook, dbx_emulator: EmulatorServer) -> None:
    assert dbx_emulator.state is not None
    with dbx_emulator.state.clock.held():  # STARTING and STOPPING last a few ms at this time scale
        warehouse_id = hook.create_warehouse({"name": "etl", "cluster_size": "2X-Small"})
        assert hook.get_warehouse(warehouse_id)["state"] == "STARTING"
        assert [w["id"] for w in hook.list_warehouses()] == [warehouse_id]
        hook.edit_warehouse(warehouse_id, {"name": "etl2"})
        hook.stop_warehouse(warehouse_id)
        assert hook.get_warehouse(warehouse_id)["state"] == "STOPPING"
    hook.start_warehouse(warehouse_id)
    hook.delete_warehouse(warehouse_id)
    with pytest.raises(DatabricksNotFoundError) as err:
        hook.get_warehouse(warehouse_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST" and err.value.status_code == 404


def test_statement_calls_with_typed_parameters_and_chunks(
    hook: DatabricksHook, dbx_emulator: EmulatorServer
) -> None:
    warehouse_id = hook.create_warehouse({"name": "q"})
    dbx_emulator.state.sql_statements.chunk_bytes = 500
    try:
        response = _finish(
            hook,
            hook.execute_statement(
                "SELECT id FROM range(200) WHERE id >= :low AND :day = DATE'2024-05-01' ORDER BY id",
                warehouse_id,
                parameters={"low": 10, "day": dt.date(2024, 5, 1)},
                wait_timeout="50s",
            ),
        )
    finally:
        dbx_emulator.state.sql_statements.chunk_bytes = 4 * 1024 * 1024
    assert response["manifest"]["total_chunk_count"] > 1
    assert [int(r[0]) for r in hook.iter_statement_rows(response)] == list(range(10, 200))
    assert hook.get_statement_result_chunk(response["statement_id"], 1)["chunk_index"] == 1
    assert asyncio.run(_aget(dbx_emulator, response["statement_id"]))["status"]["state"] == "SUCCEEDED"

    hook.stop_warehouse(warehouse_id)
    with dbx_emulator.state.clock.held():  # still PENDING (the warehouse still starting) when canceled
        pending = hook.execute_statement("SELECT 1", warehouse_id, wait_timeout="0s")
        assert pending["status"]["state"] == "PENDING"
        hook.cancel_statement(pending["statement_id"])
    assert hook.get_statement(pending["statement_id"])["status"]["state"] == "CANCELED"

    failed = _finish(hook, hook.execute_statement("SELECT * FROM nowhere", warehouse_id, wait_timeout="50s"))
    assert failed["status"]["sql_state"] == "42P01"
    with pytest.raises(DatabricksNotFoundError):
        hook.get_statement("no-such-statement")


async def _aget(server: EmulatorServer, statement_id: str) -> dict:
    async with DatabricksAsyncHook.from_settings(host=server.url, token=server.admin_token) as ahook:
        return await aget_statement(ahook, statement_id)


def test_execute_is_not_resent_but_reads_are(hook: DatabricksHook, dbx_emulator: EmulatorServer) -> None:
    warehouse_id = hook.create_warehouse({"name": "r"})
    dbx_emulator.state.faults.fail_next("sql_statements", "500", count=1)
    with pytest.raises(DatabricksApiError) as err:  # a 500 may have run the statement: not resent
        hook.execute_statement("SELECT 1", warehouse_id, wait_timeout="0s")
    assert err.value.status_code == 500
    statement_id = hook.execute_statement("SELECT 1", warehouse_id, wait_timeout="0s")["statement_id"]
    dbx_emulator.state.faults.fail_next("sql_statements", "500", count=2)
    assert hook.get_statement(statement_id)["statement_id"] == statement_id  # retried twice


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, {"name": "p", "value": "3", "type": "BIGINT"}),
        (True, {"name": "p", "value": "true", "type": "BOOLEAN"}),
        (Decimal("12.50"), {"name": "p", "value": "12.50", "type": "DECIMAL(4,2)"}),
        (dt.datetime(2024, 1, 2, 3, 4), {"name": "p", "value": "2024-01-02T03:04:00", "type": "TIMESTAMP"}),
        (None, {"name": "p", "type": "STRING"}),
        ("x", {"name": "p", "value": "x", "type": "STRING"}),
    ],
    ids=["int", "bool", "decimal", "datetime", "null", "string"],
)
def test_typed_parameter(value: object, expected: dict) -> None:
    assert typed_parameter("p", value) == expected
