"""COPY INTO and DESCRIBE DETAIL over HTTP: files put in DBFS, loaded into Delta tables, as Databricks."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _runs_helpers import Api
from _sql_helpers import rows, sql, warehouse
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import StatementState

from airflow_dbx_provider.emulator import EmulatorServer

COUNTS = ["num_affected_rows", "num_inserted_rows", "num_skipped_corrupt_files"]


@pytest.fixture
def wh(api: Api) -> str:
    return warehouse(api)


def put(api: Api, path: str, data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    api.post(
        "/api/2.0/dbfs/put", {"path": path, "contents": base64.b64encode(raw).decode(), "overwrite": True}
    )


def copy(api: Api, wh: str, statement: str) -> list[int]:
    """Run a COPY INTO; its one result row as ints (and the result columns checked)."""
    body = sql(api, wh, statement)
    assert body["status"]["state"] == "SUCCEEDED", body["status"]
    columns = body["manifest"]["schema"]["columns"]
    assert [(c["name"], c["type_name"]) for c in columns] == [(n, "LONG") for n in COUNTS]
    return [int(v) for v in body["result"]["data_array"][0]]


def failure(api: Api, wh: str, statement: str) -> tuple[str, str]:
    status = sql(api, wh, statement)["status"]
    assert status["state"] == "FAILED", status
    return status["error"]["message"], status["sql_state"]


def test_csv_is_idempotent_and_force_reloads(api: Api, wh: str) -> None:
    put(api, "/landing/sales/day1.csv", "id,country,amount\n1,FR,10.5\n2,DE,3.0\n")
    put(api, "/landing/sales/day2.csv", "id,country,amount\n3,FR,7.0\n")
    put(api, "/landing/sales/_SUCCESS", "")  # hidden, as Spark hides _ and . files
    rows(api, wh, "CREATE TABLE main.default.sales (id INT, country STRING, amount DOUBLE)")
    load = "COPY INTO main.default.sales FROM 'dbfs:/landing/sales' FILEFORMAT = CSV FORMAT_OPTIONS ('header' = 'true')"
    assert copy(api, wh, load) == [3, 3, 0]
    assert copy(api, wh, load) == [0, 0, 0]  # files already loaded are skipped
    put(api, "/landing/sales/day3.csv", "id,country,amount\n4,IT,1.0\n")
    assert copy(api, wh, load) == [1, 1, 0]  # only the new file
    assert copy(api, wh, load + " COPY_OPTIONS ('force' = 'true')") == [4, 4, 0]
    assert rows(api, wh, "SELECT count(*), count(DISTINCT id), sum(amount) FROM main.default.sales") == [
        ["8", "4", "43.0"]
    ]
    described = rows(api, wh, "DESCRIBE TABLE main.default.sales")
    assert [(r[0], r[1]) for r in described] == [("id", "int"), ("country", "string"), ("amount", "double")]


def test_files_and_pattern_select_the_files(api: Api, wh: str) -> None:
    for name in ("a1.csv", "a2.csv", "b1.csv", "sub/a3.csv"):
        put(api, f"/landing/pick/{name}", f"{name}\n")
    rows(api, wh, "CREATE TABLE picked (_c0 STRING)")
    base = "COPY INTO picked FROM '/landing/pick' FILEFORMAT = CSV"
    assert copy(api, wh, f"{base} FILES = ('b1.csv', 'sub/a3.csv')") == [2, 2, 0]
    assert copy(api, wh, f"{base} PATTERN = 'a[0-9].csv'") == [2, 2, 0]  # `*`/`?` stay in a directory
    assert copy(api, wh, f"{base} PATTERN = '{{a,b}}*.csv'") == [0, 0, 0]  # all of those loaded already
    assert sorted(r[0] for r in rows(api, wh, "SELECT _c0 FROM picked")) == [
        "a1.csv",
        "a2.csv",
        "b1.csv",
        "sub/a3.csv",
    ]
    message, state = failure(api, wh, f"{base} FILES = ('nope.csv')")
    assert message.startswith("[PATH_NOT_FOUND]") and "/landing/pick/nope.csv" in message and state == "42K03"


def test_json_into_a_placeholder_table_with_merge_schema(api: Api, wh: str) -> None:
    put(api, "/landing/events/e1.json", '{"user": "ann", "clicks": 3}\n{"user": "bob", "clicks": 5}\n')
    rows(api, wh, "CREATE TABLE IF NOT EXISTS events")  # no columns: Databricks allows it for COPY INTO
    load = "COPY INTO events FROM '/landing/events' FILEFORMAT = JSON"
    message, _ = failure(api, wh, load)
    assert message.startswith("[_LEGACY_ERROR_TEMP_DELTA_0007] A schema mismatch detected")
    assert copy(api, wh, load + " COPY_OPTIONS ('mergeSchema' = 'true')") == [2, 2, 0]
    # JSON fields come sorted by name, integers as BIGINT
    assert [(r[0], r[1]) for r in rows(api, wh, "DESCRIBE events")] == [
        ("clicks", "bigint"),
        ("user", "string"),
    ]
    put(api, "/landing/events/e2.json", '{"user": "cy", "clicks": 1, "country": "FR"}\n')
    message, _ = failure(api, wh, load)
    assert "country" in message  # a new column needs mergeSchema
    assert copy(api, wh, load + " COPY_OPTIONS ('mergeSchema' = 'true')") == [1, 1, 0]
    assert rows(api, wh, "SELECT user, clicks, country FROM events ORDER BY user") == [
        ["ann", "3", None],
        ["bob", "5", None],
        ["cy", "1", "FR"],
    ]


def test_parquet_text_binaryfile_and_a_select(api: Api, wh: str) -> None:
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"id": pa.array([1, 2], pa.int64()), "day": ["2024-01-01", "2024-01-02"]}), buffer
    )
    put(api, "/landing/pq/part-0.parquet", buffer.getvalue())
    rows(api, wh, "CREATE TABLE days (id BIGINT, day STRING)")
    assert copy(api, wh, "COPY INTO days FROM '/landing/pq' FILEFORMAT = PARQUET") == [2, 2, 0]

    put(api, "/landing/txt/notes.txt", "first\nsecond\n")
    rows(api, wh, "CREATE TABLE notes (value STRING)")
    assert copy(api, wh, "COPY INTO notes FROM '/landing/txt/notes.txt' FILEFORMAT = TEXT") == [2, 2, 0]

    rows(api, wh, "CREATE TABLE blobs (path STRING, length BIGINT)")
    blob = "COPY INTO blobs FROM (SELECT path, length FROM '/landing/txt') FILEFORMAT = BINARYFILE"
    assert copy(api, wh, blob) == [1, 1, 0]
    assert rows(api, wh, "SELECT path, length FROM blobs") == [["dbfs:/landing/txt/notes.txt", "13"]]

    put(api, "/landing/raw/r.csv", "7,seven\n8,eight\n")  # no header: _c0, _c1, all STRING
    select = (
        "COPY INTO days FROM (SELECT _c0::bigint AS id, upper(_c1) AS day FROM 'dbfs:/landing/raw') "
        "FILEFORMAT = CSV"
    )
    assert copy(api, wh, select) == [2, 2, 0]
    assert rows(api, wh, "SELECT id, day FROM days WHERE id > 2 ORDER BY id") == [
        ["7", "SEVEN"],
        ["8", "EIGHT"],
    ]


def test_corrupt_files_fail_or_are_skipped(api: Api, wh: str) -> None:
    put(api, "/landing/mixed/good.json", '{"n": 1}\n')
    put(api, "/landing/mixed/bad.json", "{not json\n")
    rows(api, wh, "CREATE TABLE nums (n BIGINT)")
    base = "COPY INTO nums FROM '/landing/mixed' FILEFORMAT = JSON"
    message, state = failure(api, wh, base)
    assert message.startswith("[FAILED_READ_FILE.NO_HINT]") and "bad.json" in message and state == "KD001"
    assert copy(api, wh, base + " FORMAT_OPTIONS ('ignoreCorruptFiles' = 'true')") == [1, 1, 1]
    # a skipped corrupt file is not remembered: fixed, it loads next time
    put(api, "/landing/mixed/bad.json", '{"n": 2}\n')
    assert copy(api, wh, base) == [1, 1, 0]


@pytest.mark.parametrize(
    ("tail", "error_class", "named"),
    [
        ("FILEFORMAT = AVRO", "UNSUPPORTED_FEATURE", "AVRO"),
        ("FILEFORMAT = XLSX", "COPY_INTO_SOURCE_FILE_FORMAT_NOT_SUPPORTED", "CSV, JSON"),
        ("FILEFORMAT = CSV FORMAT_OPTIONS ('multiLine' = 'true')", "UNSUPPORTED_FEATURE", "multiLine"),
        ("FILEFORMAT = CSV COPY_OPTIONS ('rescue' = 'true')", "UNSUPPORTED_FEATURE", "rescue"),
        ("FILEFORMAT = CSV COPY_OPTIONS ('force' = 'yes')", "INVALID_OPTION_VALUE", "force"),
        ("FILEFORMAT = CSV VALIDATE ALL", "UNSUPPORTED_FEATURE", "VALIDATE"),
        ("FILEFORMAT = CSV FILES = ('a.csv') PATTERN = '*'", "PARSE_SYNTAX_ERROR", "PATTERN"),
        ("FORMAT_OPTIONS ('header' = 'true')", "PARSE_SYNTAX_ERROR", "end of input"),
    ],
    ids=[
        "avro",
        "unknown-format",
        "format-option",
        "copy-option",
        "bad-flag",
        "validate",
        "files+pattern",
        "no-format",
    ],
)
def test_bad_copy_into_fails_databricks_shaped(
    api: Api, wh: str, tail: str, error_class: str, named: str
) -> None:
    put(api, "/landing/x/a.csv", "1\n")
    rows(api, wh, "CREATE TABLE x (_c0 STRING)")
    message, _ = failure(api, wh, f"COPY INTO x FROM '/landing/x' {tail}")
    assert message.startswith(f"[{error_class}]") and named in message


def test_sources_and_targets_that_cannot_be_used(api: Api, wh: str) -> None:
    rows(api, wh, "CREATE TABLE y (_c0 STRING)")
    assert failure(api, wh, "COPY INTO y FROM '/landing/none' FILEFORMAT = CSV")[0].startswith(
        "[PATH_NOT_FOUND]"
    )
    assert failure(api, wh, "COPY INTO nowhere FROM '/landing' FILEFORMAT = CSV")[0].startswith(
        "[TABLE_OR_VIEW_NOT_FOUND]"
    )
    message, state = failure(
        api, wh, "COPY INTO y FROM '/landing' WITH (CREDENTIAL (AWS_ACCESS_KEY = 'k')) FILEFORMAT = CSV"
    )
    assert message.startswith("[COPY_INTO_CREDENTIALS_NOT_ALLOWED_ON]") and state == "0A000"
    assert "UNSUPPORTED_FEATURE" in failure(api, wh, "COPY INTO y FROM 's3://bucket/x' FILEFORMAT = CSV")[0]


def test_describe_detail_reports_partitions_files_and_location(api: Api, wh: str) -> None:
    rows(api, wh, "CREATE TABLE main.default.parts (id INT, day DATE) USING DELTA PARTITIONED BY (day)")
    rows(api, wh, "INSERT INTO main.default.parts VALUES (1, DATE'2024-01-01'), (2, DATE'2024-01-02')")
    body = sql(api, wh, "DESCRIBE DETAIL main.default.parts")
    names = [c["name"] for c in body["manifest"]["schema"]["columns"]]
    assert names == [
        "format", "id", "name", "description", "location", "createdAt", "lastModified", "partitionColumns",
        "clusteringColumns", "numFiles", "sizeInBytes", "properties", "minReaderVersion", "minWriterVersion",
        "tableFeatures", "statistics",
    ]  # fmt: skip
    detail = dict(zip(names, body["result"]["data_array"][0], strict=True))
    assert detail["format"] == "delta" and detail["name"] == "main.default.parts"
    assert detail["location"] == "dbfs:/user/hive/warehouse/main/default/parts"
    assert json.loads(detail["partitionColumns"]) == [
        "day"
    ]  # the 8th column, as the official sensor reads it
    assert int(detail["numFiles"]) == 2 and int(detail["sizeInBytes"]) > 0
    assert (detail["minReaderVersion"], detail["minWriterVersion"]) == ("1", "2")
    by_path = rows(api, wh, "DESCRIBE DETAIL 'dbfs:/user/hive/warehouse/main/default/parts'")[0]
    assert by_path[1] == detail["id"] and by_path[2] is None
    rows(api, wh, "CREATE TABLE plain (id INT)")
    assert json.loads(rows(api, wh, "DESC DETAIL plain")[0][7]) == []
    assert failure(api, wh, "DESCRIBE DETAIL missing")[0].startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    assert failure(api, wh, "DESCRIBE DETAIL '/landing/not-delta'")[0].startswith(
        "[DELTA_MISSING_DELTA_TABLE]"
    )


def test_the_sdk_runs_copy_into(dbx_emulator: EmulatorServer, api: Api, wh: str) -> None:
    put(api, "/landing/sdk/a.csv", "id\n1\n2\n")
    client = WorkspaceClient(host=dbx_emulator.url, token=dbx_emulator.admin_token)
    run = client.statement_execution.execute_statement
    run(statement="CREATE TABLE sdk_t (id INT)", warehouse_id=wh, wait_timeout="30s")
    response: Any = run(
        statement="COPY INTO sdk_t FROM '/landing/sdk' FILEFORMAT = CSV FORMAT_OPTIONS ('header' = 'true')",
        warehouse_id=wh,
        wait_timeout="30s",
    )
    assert response.status.state == StatementState.SUCCEEDED
    assert [c.name for c in response.manifest.schema.columns] == COUNTS
    assert response.result.data_array == [["2", "2", "0"]]
