"""The hooks' result formats and dispositions: EXTERNAL_LINKS downloads (no token, http_headers,
retries, a fresh link for an expired one), ARROW_STREAM decoding, and the DB-API hook's options."""

from __future__ import annotations

import datetime as dt
import io
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hook_test_server import TOKEN, Reply, ScriptedServer, ok

from airflow_dbx_provider.emulator import EmulatorServer
from airflow_dbx_provider.exceptions import DatabricksApiError, DatabricksConfigError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.sql import STATEMENT_TERMINAL_STATES
from airflow_dbx_provider.hooks.sql_dbapi import DatabricksSqlHook
from tests.support.sql_chunks import small_result_chunks

QUERY = (
    "SELECT id, CAST(id AS DECIMAL(10,2)) AS amount, DATE'2024-01-01' + CAST(id AS INT) AS day,"
    " CASE WHEN id % 4 = 0 THEN NULL ELSE 'n' || id END AS note FROM range(250) ORDER BY id"
)
LINK_TEMPLATE = "GET /_emulator/sql-results/{token}"


@pytest.fixture
def hook(dbx_emulator: EmulatorServer) -> DatabricksHook:
    return DatabricksHook.from_settings(
        host=dbx_emulator.url, token=dbx_emulator.admin_token, requests_per_second=1000, sleep=lambda s: None
    )


@pytest.fixture
def warehouse(hook: DatabricksHook) -> str:
    return hook.create_warehouse({"name": "formats"})


@pytest.fixture
def small_chunks(dbx_emulator: EmulatorServer) -> Iterator[None]:
    with small_result_chunks(dbx_emulator):
        yield


def run(hook: DatabricksHook, warehouse: str, sql: str = QUERY, **options: Any) -> dict[str, Any]:
    response = hook.execute_statement(sql, warehouse, wait_timeout="50s", **options)
    deadline = time.monotonic() + 30
    while response["status"]["state"] not in STATEMENT_TERMINAL_STATES and time.monotonic() < deadline:
        time.sleep(0.01)
        response = hook.get_statement(response["statement_id"])
    assert response["status"]["state"] == "SUCCEEDED", response["status"]
    return response


def link_statuses(dbx_emulator: EmulatorServer) -> dict[str, int]:
    return dbx_emulator.state.counters.snapshot()["requests"].get(LINK_TEMPLATE, {})


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize(
    ("fmt", "disposition"),
    [
        ("JSON_ARRAY", "INLINE"),
        ("JSON_ARRAY", "EXTERNAL_LINKS"),
        ("CSV", "EXTERNAL_LINKS"),
        ("ARROW_STREAM", "EXTERNAL_LINKS"),
    ],
)
def test_rows_in_every_served_combination(
    hook: DatabricksHook, warehouse: str, dbx_emulator: EmulatorServer, fmt: str, disposition: str
) -> None:
    response = run(hook, warehouse, format=fmt, disposition=disposition)
    assert response["manifest"]["total_chunk_count"] > 1
    rows = list(hook.iter_statement_rows(response))
    assert len(rows) == 250
    if fmt == "ARROW_STREAM":  # Python values straight from Arrow
        assert rows[5] == (5, Decimal("5.00"), dt.date(2024, 1, 6), "n5") and rows[4][3] is None
    else:  # Databricks' strings
        assert list(rows[5]) == ["5", "5.00", "2024-01-06", "n5"] and rows[4][3] is None
    links = link_statuses(dbx_emulator)
    if disposition == "EXTERNAL_LINKS":  # every chunk downloaded once, never with our token (→ 400)
        assert links == {"200": response["manifest"]["total_chunk_count"]}
    else:
        assert links == {}


def test_serverless_inline_arrow_attachment(hook: DatabricksHook, small_chunks: None) -> None:
    serverless = hook.create_warehouse({"name": "sls", "enable_serverless_compute": True})
    response = run(hook, serverless, format="ARROW_STREAM", disposition="INLINE")
    tables = list(hook.iter_statement_arrow(response))
    assert len(tables) > 1 and pa.concat_tables(tables).column("id").to_pylist() == list(range(250))
    assert list(hook.iter_statement_rows(response))[3][0] == 3


def test_http_headers_are_sent_and_expired_links_refreshed(
    hook: DatabricksHook, warehouse: str, dbx_emulator: EmulatorServer
) -> None:
    service = dbx_emulator.state.sql_statements
    service.link_headers, service.link_ttl_seconds = True, 1.0  # expires in milliseconds here
    try:
        response = run(
            hook, warehouse, "SELECT 7 AS seven", format="JSON_ARRAY", disposition="EXTERNAL_LINKS"
        )
    finally:
        service.link_ttl_seconds = 900.0
    time.sleep(0.05)
    try:
        assert list(hook.iter_statement_rows(response)) == [["7"]]
    finally:
        service.link_headers = False
    assert link_statuses(dbx_emulator) == {"403": 1, "200": 1}  # the stale link, then a fresh one


def test_refused_combinations_fail_before_any_call(hook: DatabricksHook, warehouse: str) -> None:
    with pytest.raises(DatabricksConfigError, match="format CSV needs disposition EXTERNAL_LINKS"):
        hook.execute_statement("SELECT 1", warehouse, format="CSV")
    with pytest.raises(DatabricksConfigError, match="format 'XML'"):
        hook.execute_statement("SELECT 1", warehouse, format="XML")
    with pytest.raises(DatabricksApiError) as refused:  # the warehouse refuses ARROW_STREAM INLINE
        hook.execute_statement("SELECT 1", warehouse, format="ARROW_STREAM", disposition="INLINE")
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE" and refused.value.status_code == 400


# ---- against a scripted stand-in: exactly what goes to the link host ----------------------------------
def _arrow_bytes() -> bytes:
    sink = io.BytesIO()
    table = pa.table({"n": [1, 2]})
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _statement(server: ScriptedServer, path: str, index: int = 0) -> dict[str, Any]:
    link = {
        "chunk_index": index,
        "row_offset": 0,
        "row_count": 2,
        "external_link": f"{server.url}{path}?X-Amz-Signature=SIGNATURE0123456789abcdef",
        "expiration": "2030-01-01T00:00:00.000Z",
        "http_headers": {"x-amz-server-side-encryption-customer-key": "KEY0123456789"},
    }
    return {
        "statement_id": "s1",
        "status": {"state": "SUCCEEDED"},
        "manifest": {
            "format": "ARROW_STREAM",
            "total_chunk_count": 1,
            "schema": {"columns": [{"name": "n"}]},
        },
        "result": {"external_links": [link]},
    }


def test_link_download_sends_no_token_and_retries_like_any_call(server: ScriptedServer) -> None:
    hook = DatabricksHook.from_settings(host=server.url, token=TOKEN, sleep=lambda s: None)
    server.script(
        "/bucket/c0", Reply(503, b"<Error><Code>SlowDown</Code></Error>"), Reply(200, _arrow_bytes())
    )
    assert list(hook.iter_statement_rows(_statement(server, "/bucket/c0"))) == [(1,), (2,)]
    seen = server.hits("/bucket/c0")
    assert len(seen) == 2
    for request in seen:
        lowered = {k.lower(): v for k, v in request.headers.items()}
        assert "authorization" not in lowered and TOKEN not in str(request.headers)
        assert lowered["x-amz-server-side-encryption-customer-key"] == "KEY0123456789"


def test_link_errors_never_quote_the_url(server: ScriptedServer) -> None:
    hook = DatabricksHook.from_settings(host=server.url, token=TOKEN, sleep=lambda s: None)
    denied = Reply(403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
    server.script("/bucket/c1", denied, denied)
    server.script(
        "/api/2.0/sql/statements/s1/result/chunks/0", ok(_statement(server, "/bucket/c1")["result"])
    )
    with pytest.raises(DatabricksApiError) as failure:
        list(hook.iter_statement_rows(_statement(server, "/bucket/c1")))
    assert failure.value.status_code == 403 and failure.value.error_code == "AccessDenied"
    assert "Request has expired" in str(failure.value)
    for secret in ("SIGNATURE0123456789abcdef", "KEY0123456789", "/bucket/c1", TOKEN):
        assert secret not in str(failure.value)
    assert len(server.hits("/bucket/c1")) == 2  # the stale link, then the fresh one: no more


# ---- the DB-API hook ---------------------------------------------------------------------------------
def test_dbapi_hook_arrow_external_links_matches_json(
    hook: DatabricksHook, warehouse: str, small_chunks: None
) -> None:
    def records(**options: Any) -> list[tuple[Any, ...]]:
        sql_hook = DatabricksSqlHook(warehouse_id=warehouse, api=hook, sleep=lambda s: None, **options)
        return sql_hook.get_records(QUERY)

    plain = records()
    arrow = records(result_format="ARROW_STREAM", result_disposition="EXTERNAL_LINKS")
    csv_rows = records(result_format="CSV", result_disposition="EXTERNAL_LINKS")
    assert arrow == plain == csv_rows and len(plain) == 250
    assert plain[1] == (1, Decimal("1.00"), dt.date(2024, 1, 2), "n1")


def test_dbapi_hook_options_are_checked_first(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        DatabricksConfigError, match="result_format CSV needs result_disposition EXTERNAL_LINKS"
    ):
        DatabricksSqlHook(warehouse_id="w", result_format="CSV")
    with pytest.raises(DatabricksConfigError, match="result_disposition 'LATER'"):
        DatabricksSqlHook(warehouse_id="w", result_disposition="LATER")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if pyarrow were not installed
    with pytest.raises(DatabricksConfigError, match="result_format=ARROW_STREAM needs pyarrow"):
        DatabricksSqlHook(warehouse_id="w", result_format="ARROW_STREAM", result_disposition="EXTERNAL_LINKS")
