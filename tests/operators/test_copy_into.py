"""DatabricksCopyIntoOperator: the statement it builds, the input it refuses, and one real run."""

from __future__ import annotations

import inspect
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.operators import DatabricksCopyIntoOperator
from tests.airflow_workspace import load_dag
from tests.operators.support import ti_states, xcom

DAGS = Path(__file__).resolve().parents[1] / "dags" / "copy_into_dags.py"


def op(**kwargs: Any) -> DatabricksCopyIntoOperator:
    args = {
        "task_id": "t",
        "table_name": "main.sales.orders",
        "file_location": "dbfs:/in",
        "file_format": "CSV",
    }
    return DatabricksCopyIntoOperator(**{**args, **kwargs})


def test_statement_from_every_clause() -> None:
    sql = op(
        files=["a.csv", "b.csv"],
        expression_list="id::bigint AS id, upper(name) AS name",
        credential={"AZURE_SAS_TOKEN": "sas"},
        encryption={"TYPE": "AWS_SSE_C"},
        storage_credential="writer",
        format_options={"header": "true", "sep": ";"},
        force_copy=True,
        copy_options={"mergeSchema": "true"},
        validate=10,
    )._create_sql_query()
    assert sql.splitlines() == [
        "COPY INTO main.sales.orders WITH (CREDENTIAL writer)",
        "FROM (SELECT id::bigint AS id, upper(name) AS name FROM 'dbfs:/in' WITH "
        "(CREDENTIAL (AZURE_SAS_TOKEN = 'sas') ENCRYPTION (TYPE = 'AWS_SSE_C')))",
        "FILEFORMAT = CSV",
        "VALIDATE 10 ROWS",
        "FILES = ('a.csv', 'b.csv')",
        "FORMAT_OPTIONS ('header' = 'true', 'sep' = ';')",
        "COPY_OPTIONS ('mergeSchema' = 'true', 'force' = 'true')",
    ]
    minimal = op(pattern="*.csv", validate=True, file_format="json")._create_sql_query()
    assert minimal.splitlines() == [
        "COPY INTO main.sales.orders",
        "FROM 'dbfs:/in'",
        "FILEFORMAT = JSON",
        "VALIDATE ALL",
        "PATTERN = '*.csv'",
    ]


def test_values_are_quoted_so_nothing_escapes_the_literal() -> None:
    sql = op(
        file_location="dbfs:/in/it's\\",
        pattern="x' ; DROP TABLE t; --",
        format_options={"nullValue": "N'A"},
        table_name="`my cat`.`sch``ema`.t",
    )._create_sql_query()
    assert "FROM 'dbfs:/in/it\\'s\\\\'" in sql
    assert "PATTERN = 'x\\' ; DROP TABLE t; --'" in sql
    assert "'nullValue' = 'N\\'A'" in sql
    assert sql.startswith("COPY INTO `my cat`.`sch``ema`.t\n")
    # the emulator's tokenizer reads back exactly the values given
    from sqlglot import Dialect
    from sqlglot.tokens import TokenType

    strings = [
        t.text for t in Dialect.get_or_raise("databricks").tokenize(sql) if t.token_type == TokenType.STRING
    ]
    assert strings == ["dbfs:/in/it's\\", "x' ; DROP TABLE t; --", "nullValue", "N'A"]


def test_credentials_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    operator = op(credential={"AWS_SECRET_KEY": "s3cr3t"})
    assert "s3cr3t" in operator._create_sql_query()
    assert "s3cr3t" not in operator._create_sql_query(redact=True)
    assert "AWS_SECRET_KEY = '***'" in operator._create_sql_query(redact=True)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"file_format": "XLSX"}, "file_format"),
        ({"files": ["a"], "pattern": "*"}, "files and pattern"),
        ({"expression_list": "1; DROP TABLE t"}, "expression_list"),
        ({"expression_list": "a -- comment"}, "expression_list"),
        ({"expression_list": "a) FROM x; (SELECT 1"}, "expression_list"),
        ({"expression_list": "f(a"}, "expression_list"),
        ({"storage_credential": "x) DROP"}, "storage_credential"),
        ({"validate": -1}, "validate"),
        ({"validate": "all"}, "validate"),
        ({"format_options": {"a' = '1') --": "x"}}, "format_options"),
        ({"copy_options": {"force": ["x"]}}, "copy_options"),
        ({"credential": {"KEY = 'x') --": "v"}}, "credential"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_bad_arguments_fail_at_construction_naming_them(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(DatabricksConfigError) as raised:
        op(**kwargs)
    message = str(raised.value)
    assert named in message and "\n" not in message


@pytest.mark.parametrize(
    "table_name", ["", "a.b.c.d", "t; DROP TABLE x", "t--", "`unclosed", "a..b", "t WITH (x)", "1abc"]
)
def test_bad_table_names_fail_before_any_request(table_name: str) -> None:
    operator = op(table_name=table_name, databricks_conn_id="no_such_connection")
    with pytest.raises(DatabricksConfigError, match="table_name"):
        operator.execute({})  # type: ignore[arg-type]


def test_the_official_arguments_and_template_fields() -> None:
    official = pytest.importorskip(
        "airflow.providers.databricks.operators.databricks_sql"
    ).DatabricksCopyIntoOperator

    def named(cls: type) -> set[str]:
        params = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
        return {p.name for p in params if p.kind == inspect.Parameter.KEYWORD_ONLY}

    assert not named(official) - named(DatabricksCopyIntoOperator)
    assert tuple(official.template_fields) == tuple(DatabricksCopyIntoOperator.template_fields)


@pytest.mark.slow
def test_copy_into_dag_against_the_emulator(
    airflow_workspace: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    api = DatabricksHook.from_settings(
        host=airflow_workspace.url, token=airflow_workspace.admin_token, requests_per_second=1000
    )
    warehouse_id = api.create_warehouse({"name": "copy"})
    extra = {"warehouse_id": warehouse_id, "catalog": "main", "schema": "default"}
    conn = {
        "conn_type": "dbx",
        "host": airflow_workspace.url,
        "password": airflow_workspace.admin_token,
        "extra": extra,
    }
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", json.dumps(conn))
    api.dbfs_put("/landing/orders/day1.csv", b"id,amount,day\n1,2.5,2024-01-01\n2,4.0,2024-01-01\n")
    api.dbfs_put("/landing/orders/day2.csv", b"id,amount,day\n3,1.5,2024-01-02\n")

    dag_run = load_dag(str(DAGS), "dbx_copy_into").test(run_conf={"table": "orders"})
    states = ti_states(dag_run)
    assert set(states.values()) == {"success"}, states
    counts = ["num_affected_rows", "num_inserted_rows", "num_skipped_corrupt_files"]
    assert xcom(dag_run, "load") == dict(zip(counts, [3, 3, 0], strict=True))
    assert xcom(dag_run, "load_again") == dict(zip(counts, [0, 0, 0], strict=True))  # idempotent
    assert xcom(dag_run, "load_forced") == dict(zip(counts, [2, 2, 0], strict=True))
    rows = api.execute_statement(
        "SELECT count(*), sum(amount) FROM main.default.orders", warehouse_id, wait_timeout="30s"
    )
    assert rows["result"]["data_array"] == [["5", "14.5"]]
