"""Result formats and dispositions over HTTP: INLINE JSON_ARRAY, EXTERNAL_LINKS (JSON_ARRAY,
ARROW_STREAM, CSV), serverless ARROW_STREAM INLINE, refused combinations, and the links themselves."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
import requests
from _runs_helpers import DAVE, Api
from _sql_helpers import sql, warehouse
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service.sql import Disposition, Format, StatementState

from airflow_dbx_provider.emulator import EmulatorServer
from tests.support.sql_chunks import small_result_chunks

QUERY = "SELECT id, CAST(id * 1.5 AS DOUBLE) AS x, CASE WHEN id % 3 = 0 THEN NULL ELSE 'v,' || id END AS s FROM range(300) ORDER BY id"


@pytest.fixture
def wh(api: Api) -> str:
    return warehouse(api)


@pytest.fixture
def small_chunks(dbx_emulator: EmulatorServer) -> Iterator[None]:
    with small_result_chunks(dbx_emulator):
        yield


def fetch(link: dict[str, Any]) -> requests.Response:
    """A link as a client must fetch it: no Authorization, its own http_headers."""
    return requests.get(link["external_link"], headers=link.get("http_headers") or {}, timeout=10)


def all_links(api: Api, body: dict[str, Any]) -> list[dict[str, Any]]:
    links = list(body["result"]["external_links"])
    while "next_chunk_internal_link" in links[-1]:
        links.extend(api.get(links[-1]["next_chunk_internal_link"])["external_links"])
    return links


def expected_row(i: int) -> tuple[int, float, str | None]:
    return i, i * 1.5, None if i % 3 == 0 else f"v,{i}"


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("fmt", ["JSON_ARRAY", "ARROW_STREAM", "CSV"])
def test_external_links_every_format(api: Api, wh: str, fmt: str) -> None:
    body = sql(api, wh, QUERY, disposition="EXTERNAL_LINKS", format=fmt)
    assert body["status"]["state"] == "SUCCEEDED", body["status"]
    manifest = body["manifest"]
    assert manifest["format"] == fmt and manifest["total_row_count"] == 300
    assert manifest["total_chunk_count"] == len(manifest["chunks"]) > 1
    assert manifest["total_byte_count"] == sum(c["byte_count"] for c in manifest["chunks"])
    assert "data_array" not in body["result"]
    links = all_links(api, body)
    assert [link["chunk_index"] for link in links] == list(range(manifest["total_chunk_count"]))
    rows: list[tuple[Any, ...]] = []
    for link, info in zip(links, manifest["chunks"], strict=True):
        assert {k: link[k] for k in ("row_offset", "row_count", "byte_count")} == {
            k: info[k] for k in ("row_offset", "row_count", "byte_count")
        }
        assert link["expiration"].endswith("Z") and link["row_offset"] == len(rows)
        answer = fetch(link)
        assert answer.status_code == 200 and len(answer.content) == link["byte_count"]
        if fmt == "ARROW_STREAM":
            assert answer.headers["content-type"] == "application/vnd.apache.arrow.stream"
            table = pa.ipc.open_stream(answer.content).read_all()
            assert table.column_names == ["id", "x", "s"]
            rows.extend(tuple(r.values()) for r in table.to_pylist())
        elif fmt == "CSV":
            parsed = list(csv.reader(io.StringIO(answer.content.decode())))
            if link["chunk_index"] == 0:
                assert parsed.pop(0) == ["id", "x", "s"]  # the header, in the first chunk only
            rows.extend((int(a), float(b), None if c == "null" else c) for a, b, c in parsed)
        else:
            assert b" " not in answer.content  # compact JSON
            rows.extend((int(a), float(b), c) for a, b, c in json.loads(answer.content))
    assert rows == [expected_row(i) for i in range(300)]


def test_inline_arrow_is_refused_like_databricks(api: Api, wh: str) -> None:
    for fmt in ("ARROW_STREAM", "CSV"):
        answer = api.call(
            "POST",
            "/api/2.0/sql/statements",
            json={"warehouse_id": wh, "statement": "SELECT 1", "format": fmt, "disposition": "INLINE"},
        )
        assert answer.status_code == 400
        assert answer.json() == {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "The format field must be JSON_ARRAY when the disposition field is INLINE.",
        }


def test_serverless_warehouse_answers_inline_arrow_as_attachment(api: Api, small_chunks: None) -> None:
    serverless = str(
        api.post(
            "/api/2.0/sql/warehouses",
            {"name": "sls", "cluster_size": "2X-Small", "enable_serverless_compute": True},
        )["id"]
    )
    body = sql(api, serverless, QUERY, format="ARROW_STREAM")  # disposition INLINE by default
    assert body["manifest"]["format"] == "ARROW_STREAM" and "total_byte_count" not in body["manifest"]
    data, tables = body["result"], []
    while True:
        assert "data_array" not in data and "external_links" not in data
        tables.append(pa.ipc.open_stream(base64.b64decode(data["attachment"])).read_all())
        if "next_chunk_internal_link" not in data:
            break
        data = api.get(data["next_chunk_internal_link"])
    assert len(tables) > 1
    assert pa.concat_tables(tables).column("id").to_pylist() == list(range(300))
    csv_inline = api.call(
        "POST",
        "/api/2.0/sql/statements",
        json={"warehouse_id": serverless, "statement": "SELECT 1", "format": "CSV"},
    )
    assert csv_inline.status_code == 400


def test_link_refuses_authorization_header(api: Api, wh: str, dbx_emulator: EmulatorServer) -> None:
    link = sql(api, wh, "SELECT 1 AS one", disposition="EXTERNAL_LINKS")["result"]["external_links"][0]
    assert link["external_link"].startswith(dbx_emulator.url + "/_emulator/sql-results/")
    sent = requests.get(
        link["external_link"], headers={"Authorization": f"Bearer {dbx_emulator.admin_token}"}, timeout=10
    )
    assert sent.status_code == 400 and b"<Code>InvalidArgument</Code>" in sent.content
    assert fetch(link).json() == [["1"]]
    assert requests.post(link["external_link"], timeout=10).status_code == 405


def test_unknown_forged_and_expired_links(api: Api, wh: str, dbx_emulator: EmulatorServer) -> None:
    unknown = requests.get(dbx_emulator.url + "/_emulator/sql-results/not-a-token", timeout=10)
    assert unknown.status_code == 403 and unknown.headers["content-type"].startswith("application/xml")
    assert b"<Code>AccessDenied</Code>" in unknown.content
    service = dbx_emulator.state.sql_statements
    service.link_ttl_seconds = 1.0  # 20 ms of real time at the test time scale
    try:
        body = sql(api, wh, "SELECT 2 AS two", disposition="EXTERNAL_LINKS")
    finally:
        service.link_ttl_seconds = 900.0
    time.sleep(0.05)
    expired = fetch(body["result"]["external_links"][0])
    assert expired.status_code == 403 and b"Request has expired" in expired.content
    fresh = api.get(f"/api/2.0/sql/statements/{body['statement_id']}/result/chunks/0")["external_links"][0]
    assert fresh["external_link"] != body["result"]["external_links"][0]["external_link"]
    assert fetch(fresh).json() == [["2"]]
    dbx_emulator.reset()  # the statement is gone: its link names a key that no longer exists
    assert fetch(fresh).status_code == 403


def test_link_needs_its_http_headers_when_sent(api: Api, wh: str, dbx_emulator: EmulatorServer) -> None:
    service = dbx_emulator.state.sql_statements
    service.link_headers = True
    try:
        link = sql(api, wh, "SELECT 3 AS three", disposition="EXTERNAL_LINKS")["result"]["external_links"][0]
    finally:
        service.link_headers = False
    assert set(link["http_headers"]) == {"x-emulator-result-key"}
    assert requests.get(link["external_link"], timeout=10).status_code == 403
    assert fetch(link).json() == [["3"]]


def test_links_are_minted_for_the_statement_owner_only(api: Api, wh: str) -> None:
    body = sql(api, wh, "SELECT 4 AS four", disposition="EXTERNAL_LINKS")
    statement_id = body["statement_id"]
    for path in (
        f"/api/2.0/sql/statements/{statement_id}",
        f"/api/2.0/sql/statements/{statement_id}/result/chunks/0",
    ):
        denied = api.call("GET", path, token=DAVE.token)
        assert denied.status_code == 403 and denied.json()["error_code"] == "PERMISSION_DENIED"
    assert "external_link" not in denied.text


def test_closed_statement_link_is_no_such_key(api: Api, wh: str, dbx_emulator: EmulatorServer) -> None:
    body = sql(api, wh, "SELECT 5 AS five", disposition="EXTERNAL_LINKS")
    link = body["result"]["external_links"][0]
    clock = dbx_emulator.state.clock
    scale, clock.time_scale = clock.time_scale, 1e-7  # the hour of result retention passes at once
    try:
        assert api.get(f"/api/2.0/sql/statements/{body['statement_id']}")["status"]["state"] == "CLOSED"
    finally:
        clock.time_scale = scale
    gone = fetch(link)  # the link is still valid; the object behind it was deleted
    assert gone.status_code == 404 and b"<Code>NoSuchKey</Code>" in gone.content


def test_empty_result_has_no_chunks(api: Api, wh: str) -> None:
    body = sql(api, wh, "SELECT id FROM range(0)", disposition="EXTERNAL_LINKS", format="ARROW_STREAM")
    assert body["manifest"]["total_chunk_count"] == 0 and body["manifest"]["total_row_count"] == 0
    assert "result" not in body


def test_sdk_external_links_round_trip(sdk: WorkspaceClient, wh: str, small_chunks: None) -> None:
    response = sdk.statement_execution.execute_statement(
        statement=QUERY,
        warehouse_id=wh,
        disposition=Disposition.EXTERNAL_LINKS,
        format=Format.ARROW_STREAM,
        wait_timeout="50s",
    )
    if response.status.state != StatementState.SUCCEEDED:
        response = sdk.statement_execution.get_statement(response.statement_id)
    assert response.status.state == StatementState.SUCCEEDED
    assert response.manifest.format == Format.ARROW_STREAM
    assert response.manifest.total_chunk_count > 1
    tables, link = [], response.result.external_links[0]
    while True:
        answer = requests.get(link.external_link, headers=link.http_headers or {}, timeout=10)
        tables.append(pa.ipc.open_stream(answer.content).read_all())
        if link.next_chunk_index is None:
            break
        link = sdk.statement_execution.get_statement_result_chunk_n(
            response.statement_id, link.next_chunk_index
        ).external_links[0]
    assert pa.concat_tables(tables).column("id").to_pylist() == list(range(300))
    with pytest.raises(InvalidParameterValue, match="must be JSON_ARRAY"):
        sdk.statement_execution.execute_statement(
            statement="SELECT 1", warehouse_id=wh, format=Format.CSV, disposition=Disposition.INLINE
        )
