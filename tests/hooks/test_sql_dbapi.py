"""DatabricksSqlHook (common-sql DbApiHook) against the live emulator, and common-sql's operators on it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from airflow.providers.common.sql.operators.sql import (
    SQLColumnCheckOperator,
    SQLExecuteQueryOperator,
    SQLTableCheckOperator,
    SQLThresholdCheckOperator,
    SQLValueCheckOperator,
)

from airflow_dbx_provider.emulator import EmulatorServer
from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.sql_dbapi import (
    DatabricksSqlError,
    DatabricksSqlHook,
    warehouse_from_http_path,
)

try:
    from airflow.exceptions import AirflowException
except ImportError:  # pragma: no cover
    AirflowException = Exception  # type: ignore[misc,assignment]


@pytest.fixture
def sql_hook(dbx_emulator: EmulatorServer) -> DatabricksSqlHook:
    api = DatabricksHook.from_settings(
        host=dbx_emulator.url, token=dbx_emulator.admin_token, requests_per_second=1000, sleep=lambda s: None
    )
    warehouse_id = api.create_warehouse({"name": "dbapi"})
    hook = DatabricksSqlHook(
        http_path=f"/sql/1.0/warehouses/{warehouse_id}",
        catalog="main",
        schema="shop",
        api=api,
        sleep=lambda s: None,
    )
    hook.run(
        [
            "CREATE TABLE orders (id INT, country STRING, amount DECIMAL(10,2), day DATE) USING DELTA",
            "INSERT INTO orders VALUES (1, 'FR', 10.50, DATE'2024-01-01'), (2, 'DE', 3.00, DATE'2024-01-01'),"
            " (3, 'FR', 7.00, DATE'2024-01-02')",
        ]
    )
    return hook


def test_records_types_description_rowcount(sql_hook: DatabricksSqlHook) -> None:
    assert sql_hook.get_records(
        "SELECT id, amount, day FROM orders WHERE country = :c ORDER BY id", {"c": "FR"}
    ) == [
        (1, Decimal("10.50"), dt.date(2024, 1, 1)),
        (3, Decimal("7.00"), dt.date(2024, 1, 2)),
    ]
    assert sql_hook.get_first("SELECT count(*) FROM orders WHERE amount > ?", [Decimal("5")]) == (2,)
    cursor = sql_hook.get_conn().cursor()
    cursor.execute("SELECT country, sum(amount) AS total FROM orders GROUP BY country ORDER BY country")
    assert [d[:2] for d in cursor.description] == [("country", "string"), ("total", "decimal")]
    assert cursor.rowcount == 2 and cursor.fetchone() == ("DE", Decimal("3.00"))
    assert cursor.fetchmany(5) == [("FR", Decimal("17.50"))] and cursor.fetchall() == []
    cursor.execute("UPDATE orders SET amount = 0 WHERE country = 'DE'")
    assert cursor.rowcount == 1


def test_get_df_and_errors(sql_hook: DatabricksSqlHook) -> None:
    frame = sql_hook.get_df("SELECT id, country FROM orders ORDER BY id", df_type="pandas")
    assert list(frame.columns) == ["id", "country"] and frame["id"].tolist() == [1, 2, 3]
    with pytest.raises(DatabricksSqlError) as err:
        sql_hook.get_records("SELECT * FROM missing_table")
    assert (err.value.state, err.value.sql_state) == ("FAILED", "42P01")


def test_common_sql_operators_on_the_hook(sql_hook: DatabricksSqlHook) -> None:
    def run(op: Any) -> Any:
        op.__dict__["_hook"] = sql_hook  # what get_db_hook() returns for a dbx connection
        return op.execute(context={})

    rows = run(SQLExecuteQueryOperator(task_id="q", sql="SELECT id FROM orders ORDER BY id", conn_id="x"))
    assert rows == [(1,), (2,), (3,)]
    run(
        SQLColumnCheckOperator(
            task_id="cols",
            conn_id="x",
            table="orders",
            column_mapping={"id": {"null_check": {"equal_to": 0}, "unique_check": {"equal_to": 0}}},
        )
    )
    run(
        SQLTableCheckOperator(
            task_id="t", conn_id="x", table="orders", checks={"rows": {"check_statement": "COUNT(*) = 3"}}
        )
    )
    run(SQLValueCheckOperator(task_id="v", conn_id="x", sql="SELECT count(*) FROM orders", pass_value=3))
    run(
        SQLThresholdCheckOperator(
            task_id="th", conn_id="x", sql="SELECT max(amount) FROM orders", min_threshold=1, max_threshold=20
        )
    )
    with pytest.raises(AirflowException, match="positive"):
        run(
            SQLTableCheckOperator(
                task_id="bad",
                conn_id="x",
                table="orders",
                checks={"positive": {"check_statement": "MIN(amount) > 100"}},
            )
        )


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/sql/1.0/warehouses/abc123", "abc123"), ("sql/1.0/endpoints/e1/", "e1"), (None, None)],
    ids=["warehouses", "endpoints", "none"],
)
def test_http_path(path: str | None, expected: str | None) -> None:
    assert warehouse_from_http_path(path) == expected


def test_http_path_without_warehouse_is_a_config_error() -> None:
    with pytest.raises(DatabricksConfigError):
        warehouse_from_http_path("/sql/protocolv1/o/0/cluster-id")
