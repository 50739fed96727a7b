"""Statement Execution API 2.0 over HTTP: Delta tables through DuckDB, states, chunks, errors, the SDK."""

from __future__ import annotations

from typing import Any

import pytest
from _runs_helpers import Api
from _sql_helpers import rows, sql, wait_statement, warehouse
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import StatementParameterListItem, StatementState

from airflow_dbx_provider.emulator import EmulatorServer

SALES = (
    """CREATE TABLE main.shop.sales (id INT, country STRING, amount DECIMAL(10,2), day DATE) USING DELTA"""
)
SALES_ROWS = """INSERT INTO main.shop.sales VALUES
  (1, 'FR', 10.50, DATE'2024-01-01'), (2, 'DE', 3.00, DATE'2024-01-01'), (3, 'FR', 7.00, DATE'2024-01-02')"""


@pytest.fixture
def wh(api: Api) -> str:
    return warehouse(api)


@pytest.fixture
def sales(api: Api, wh: str) -> str:
    assert sql(api, wh, SALES)["status"]["state"] == "SUCCEEDED"
    inserted = sql(api, wh, SALES_ROWS)
    assert inserted["result"]["data_array"] == [["3", "3"]]
    return wh


def test_tables_round_trip_through_delta(api: Api, sales: str, dbx_emulator: EmulatorServer) -> None:
    wh = sales
    report = sql(
        api,
        wh,
        "SELECT day, country, sum(amount) AS revenue, count(*) FROM sales GROUP BY day, country ORDER BY day, country",
        catalog="main",
        schema="shop",
    )
    revenue = report["manifest"]["schema"]["columns"][2]
    assert (revenue["name"], revenue["position"], revenue["type_name"], revenue["type_scale"]) == (
        "revenue",
        2,
        "DECIMAL",
        2,
    )
    assert [c["name"] for c in report["manifest"]["schema"]["columns"]] == [
        "day",
        "country",
        "revenue",
        "count(1)",
    ]
    assert report["result"]["data_array"] == [
        ["2024-01-01", "DE", "3.00", "1"],
        ["2024-01-01", "FR", "10.50", "1"],
        ["2024-01-02", "FR", "7.00", "1"],
    ]
    ranked = rows(
        api,
        wh,
        "SELECT id, rank() OVER (PARTITION BY country ORDER BY amount DESC) AS r FROM main.shop.sales ORDER BY id",
    )
    assert ranked == [["1", "1"], ["2", "1"], ["3", "2"]]
    # DML commits new Delta versions; the Delta log is the truth (read it with deltalake directly).
    assert rows(api, wh, "UPDATE main.shop.sales SET amount = amount * 2 WHERE country = 'DE'") == [["1"]]
    assert rows(api, wh, "DELETE FROM main.shop.sales WHERE id = 3") == [["1"]]
    sql(
        api,
        wh,
        "CREATE TABLE main.shop.fixes USING DELTA AS SELECT 1 AS id, 'IT' AS country, 1.0 AS amount, DATE'2024-02-01' AS day",
    )
    merged = rows(
        api,
        wh,
        "MERGE INTO main.shop.sales t USING main.shop.fixes s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET country = s.country WHEN NOT MATCHED THEN INSERT *",
    )
    assert merged == [["1"]]
    from deltalake import DeltaTable

    path = dbx_emulator.state.dbfs.local_path("dbfs:/user/hive/warehouse/main/shop/sales")
    table = DeltaTable(str(path))
    assert table.version() == 4  # create, insert, update, delete, merge
    assert sorted(table.to_pyarrow_table().column("country").to_pylist()) == ["DE", "IT"]


def test_table_written_by_a_notebook_is_queryable_at_once(
    api: Api, wh: str, dbx_emulator: EmulatorServer
) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    path = dbx_emulator.state.dbfs.local_path("dbfs:/data/events")
    write_deltalake(str(path), pa.table({"k": [1, 2, 2], "v": ["a", "b", "c"]}))
    assert rows(api, wh, "SELECT count(*) FROM delta.`dbfs:/data/events`") == [["3"]]
    sql(api, wh, "CREATE TABLE events USING DELTA LOCATION 'dbfs:/data/events'")
    write_deltalake(str(path), pa.table({"k": [3], "v": ["d"]}), mode="append")
    assert rows(api, wh, "SELECT k, count(*) FROM events GROUP BY k ORDER BY k") == [
        ["1", "1"],
        ["2", "2"],
        ["3", "1"],
    ]
    sql(api, wh, "DROP TABLE events")  # external: the files stay
    assert (path / "_delta_log").is_dir()


def test_typed_parameters(api: Api, sales: str) -> None:
    params = [
        {"name": "country", "value": "FR"},
        {"name": "min", "value": "5", "type": "DECIMAL(10,2)"},
        {"name": "since", "value": "2024-01-02", "type": "DATE"},
    ]
    found = rows(
        api,
        sales,
        "SELECT id FROM main.shop.sales WHERE country = :country AND amount > :min AND day >= :since",
        parameters=params,
    )
    assert found == [["3"]]
    assert rows(api, sales, "SELECT :n IS NULL", parameters=[{"name": "n", "type": "INT"}]) == [["true"]]


def test_complex_cells_are_json_text(api: Api, wh: str) -> None:
    found = rows(api, wh, "SELECT map('a', 1, 'b', 2), array(1, 2), named_struct('x', 1)")
    assert found == [['{"a":1,"b":2}', "[1,2]", '{"x":1}']]


@pytest.mark.parametrize(
    ("statement", "error_class", "sql_state"),
    [
        ("SELECT * FROM main.shop.missing", "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
        ("SELEC 1", "PARSE_SYNTAX_ERROR", "42601"),
        ("OPTIMIZE main.shop.sales", "UNSUPPORTED_FEATURE", "0A000"),
        ("SELECT :nope", "UNBOUND_SQL_PARAMETER", "42P02"),
        ("SELECT 1; SELECT 2", "UNSUPPORTED_FEATURE", "0A000"),
        ("SELECT no_such_column FROM range(1)", "UNRESOLVED_COLUMN", "42703"),
    ],
    ids=["missing-table", "syntax", "unsupported", "unbound-parameter", "two-statements", "bad-column"],
)
def test_failures_are_databricks_shaped(
    api: Api, wh: str, statement: str, error_class: str, sql_state: str
) -> None:
    body = sql(api, wh, statement)
    status = body["status"]
    assert status["state"] == "FAILED"
    assert status["sql_state"] == sql_state
    assert status["error"]["error_code"] in ("BAD_REQUEST", "INTERNAL_ERROR")
    assert status["error"]["message"].startswith(f"[{error_class}]")


def test_chunks_row_limit_and_byte_limit(api: Api, wh: str, dbx_emulator: EmulatorServer) -> None:
    dbx_emulator.state.sql_statements.chunk_bytes = 2000
    try:
        body = sql(api, wh, "SELECT id, repeat('x', 20) AS pad FROM range(500) ORDER BY id")
    finally:
        dbx_emulator.state.sql_statements.chunk_bytes = 4 * 1024 * 1024
    manifest = body["manifest"]
    assert manifest["total_row_count"] == 500 and manifest["truncated"] is False
    assert manifest["total_chunk_count"] > 5
    collected, result = [], body["result"]
    while True:
        collected.extend(result["data_array"])
        if "next_chunk_internal_link" not in result:
            break
        assert result["next_chunk_index"] == result["chunk_index"] + 1
        result = api.get(result["next_chunk_internal_link"])
    assert [int(r[0]) for r in collected] == list(range(500))
    bad = api.call("GET", f"/api/2.0/sql/statements/{body['statement_id']}/result/chunks/999")
    assert bad.status_code == 400

    limited = sql(api, wh, "SELECT id FROM range(100)", row_limit=7)
    assert limited["manifest"]["truncated"] is True and limited["manifest"]["total_row_count"] == 7
    by_bytes = sql(api, wh, "SELECT id FROM range(100)", byte_limit=30)
    assert by_bytes["manifest"]["truncated"] is True and 0 < by_bytes["manifest"]["total_row_count"] < 10


def _execute(api: Api, **fields: Any) -> dict[str, Any]:
    return api.post("/api/2.0/sql/statements", fields)


def test_stopped_warehouse_is_started_and_wait_timeout_cancel(api: Api, wh: str) -> None:
    api.post(f"/api/2.0/sql/warehouses/{wh}/stop", {})
    # wait_timeout 0: asynchronous, PENDING while the warehouse starts again
    with api.held():
        body = _execute(api, warehouse_id=wh, statement="SELECT 1", wait_timeout="0s")
        assert body["status"]["state"] == "PENDING"
        assert api.get(f"/api/2.0/sql/warehouses/{wh}")["state"] == "STARTING"
    assert wait_statement(api, body["statement_id"])["result"]["data_array"] == [["1"]]
    # on_wait_timeout CANCEL: the statement ends CANCELED when the wait runs out
    api.post(f"/api/2.0/sql/warehouses/{wh}/stop", {})
    canceled = _execute(
        api, warehouse_id=wh, statement="SELECT 1", wait_timeout="5s", on_wait_timeout="CANCEL"
    )
    assert canceled["status"]["state"] in ("CANCELED", "SUCCEEDED")  # 5 s simulated vs a 10 s start
    # the warehouse starts in 200 ms here: stopped again and held, the statement is PENDING when canceled
    with api.held():
        api.post(f"/api/2.0/sql/warehouses/{wh}/stop", {})
        pending = _execute(api, warehouse_id=wh, statement="SELECT 2", wait_timeout="0s")
        assert pending["status"]["state"] == "PENDING"
        api.post(f"/api/2.0/sql/statements/{pending['statement_id']}/cancel", {})
    assert api.get(f"/api/2.0/sql/statements/{pending['statement_id']}")["status"]["state"] == "CANCELED"


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"wait_timeout": "3s"}, 400),
        ({"wait_timeout": "60s"}, 400),
        ({"on_wait_timeout": "LATER"}, 400),
        ({"format": "XML"}, 400),
        ({"disposition": "SOMEWHERE"}, 400),
        ({"format": "CSV"}, 400),  # INLINE is JSON_ARRAY only (test_sql_results_formats.py)
        ({"warehouse_id": "nope"}, 404),
    ],
    ids=[
        "wait-too-short",
        "wait-too-long",
        "bad-on-wait",
        "bad-format",
        "bad-disposition",
        "inline-csv",
        "no-warehouse",
    ],
)
def test_invalid_requests(api: Api, wh: str, fields: dict[str, Any], status: int) -> None:
    response = api.call(
        "POST", "/api/2.0/sql/statements", json={"warehouse_id": wh, "statement": "SELECT 1", **fields}
    )
    assert response.status_code == status, response.text
    assert "error_code" in response.json()


def test_unknown_statement_is_404(api: Api) -> None:
    assert api.call("GET", "/api/2.0/sql/statements/nope").status_code == 404


def test_sdk_statement_execution_unchanged(sdk: WorkspaceClient, api: Api, sales: str) -> None:
    response = sdk.statement_execution.execute_statement(
        statement="SELECT id, country FROM sales WHERE amount > :min ORDER BY id",
        warehouse_id=sales,
        catalog="main",
        schema="shop",
        parameters=[StatementParameterListItem(name="min", value="5", type="INT")],
        wait_timeout="50s",
    )
    if response.status.state != StatementState.SUCCEEDED:
        response = sdk.statement_execution.get_statement(response.statement_id)
    assert response.status.state == StatementState.SUCCEEDED
    assert [c.name for c in response.manifest.schema.columns] == ["id", "country"]
    assert response.result.data_array == [["1", "FR"], ["3", "FR"]]
    chunk = sdk.statement_execution.get_statement_result_chunk_n(response.statement_id, 0)
    assert chunk.data_array == response.result.data_array
    sdk.statement_execution.cancel_execution(response.statement_id)  # finished: a no-op
