"""SQL DAGs for tests/operators/test_sql_operators.py (run with ``dag.test()`` against the emulator).

The ``databricks_default`` connection (conn type ``dbx``) carries the warehouse in its extras
(``warehouse_id``, ``catalog``, ``schema``): the test sets it before running a DAG.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.sql.operators.sql import (
    SQLColumnCheckOperator,
    SQLExecuteQueryOperator,
    SQLTableCheckOperator,
    SQLThresholdCheckOperator,
    SQLValueCheckOperator,
)
from airflow.providers.common.sql.sensors.sql import SqlSensor
from airflow.sdk import DAG

CONN = "databricks_default"
START = pendulum.datetime(2024, 1, 1, tz="UTC")
ORDERS = [
    "CREATE OR REPLACE TABLE orders (id INT, country STRING, amount DECIMAL(10,2), day DATE) USING DELTA",
    "INSERT INTO orders VALUES (1, 'FR', 10.50, DATE'2024-01-01'), (2, 'DE', 3.00, DATE'2024-01-01'),"
    " (3, 'FR', 7.00, DATE'2024-01-02')",
]

with DAG("dbx_sql_common_sql", start_date=START, schedule=None, catchup=False):
    setup = SQLExecuteQueryOperator(task_id="setup", conn_id=CONN, sql=ORDERS)
    query = SQLExecuteQueryOperator(
        task_id="revenue",
        conn_id=CONN,
        sql="SELECT country, sum(amount) AS revenue FROM orders GROUP BY country ORDER BY country",
    )
    columns = SQLColumnCheckOperator(
        task_id="columns",
        conn_id=CONN,
        table="orders",
        column_mapping={
            "id": {"null_check": {"equal_to": 0}, "unique_check": {"equal_to": 0}},
            "amount": {"min": {"greater_than": 0}},
        },
    )
    table = SQLTableCheckOperator(
        task_id="table",
        conn_id=CONN,
        table="orders",
        checks={"row_count": {"check_statement": "COUNT(*) BETWEEN 1 AND 100"}},
    )
    value = SQLValueCheckOperator(
        task_id="value", conn_id=CONN, sql="SELECT count(*) FROM orders", pass_value=3
    )
    threshold = SQLThresholdCheckOperator(
        task_id="threshold",
        conn_id=CONN,
        sql="SELECT max(amount) FROM orders",
        min_threshold=1,
        max_threshold=20,
    )
    sensor = SqlSensor(
        task_id="sensor", conn_id=CONN, sql="SELECT count(*) FROM orders", poke_interval=0.2, timeout=30
    )
    bad = SQLTableCheckOperator(
        task_id="bad_check",
        conn_id=CONN,
        table="orders",
        checks={"amounts_above_100": {"check_statement": "MIN(amount) > 100"}},
    )
    setup >> [query, columns, table, value, threshold, sensor, bad]

# ---- our SQL operators and sensors (one DAG: the warehouse, statements sync and deferred, files) ----
from airflow_dbx_provider.operators import (  # noqa: E402
    DatabricksSqlOperator,
    DatabricksSQLStatementsOperator,
    DatabricksStartWarehouseOperator,
    DatabricksStopWarehouseOperator,
)
from airflow_dbx_provider.sensors import DatabricksPartitionSensor, DatabricksSqlSensor  # noqa: E402

WAREHOUSE = "{{ conn.databricks_default.extra_dejson.warehouse_id }}"
FAST = {"polling_period_seconds": 0.2}
SENSE = {"poke_interval": 0.2, "timeout": 30, "catalog": "main", "schema": "default"}

with DAG("dbx_sql_ours", start_date=START, schedule=None, catchup=False):
    stop = DatabricksStopWarehouseOperator(task_id="stop", warehouse_id=WAREHOUSE, **FAST)
    start = DatabricksStartWarehouseOperator(task_id="start", warehouse_id=WAREHOUSE, **FAST)
    create = DatabricksSQLStatementsOperator(
        task_id="create",
        warehouse_id=WAREHOUSE,
        catalog="main",
        schema="default",
        statement="CREATE OR REPLACE TABLE events (id INT, amount DOUBLE, day DATE) USING DELTA PARTITIONED BY (day)",
        **FAST,
    )
    insert = DatabricksSQLStatementsOperator(
        task_id="insert_deferred",
        warehouse_id=WAREHOUSE,
        statement="INSERT INTO main.default.events VALUES (1, 2.5, DATE'2024-01-01'), (2, :amount, :day)",
        parameters={"amount": 4.0, "day": "{{ dag_run.conf['day'] }}"},
        deferrable=True,
        **FAST,
    )
    queries = [
        DatabricksSqlOperator(
            task_id=f"to_{fmt}",
            sql="SELECT id, amount, day FROM events ORDER BY id",
            catalog="main",
            schema="default",
            output_path=f"{{{{ dag_run.conf['out'] }}}}/events.{fmt}",
            output_format=fmt,
        )
        for fmt in ("csv", "json", "jsonl", "parquet")
    ]
    to_xcom = DatabricksSqlOperator(
        task_id="to_xcom", sql="SELECT count(*) AS n, sum(amount) AS total FROM main.default.events"
    )
    sensor = DatabricksSqlSensor(task_id="sql_sensor", sql="SELECT 1 FROM events WHERE id = 2", **SENSE)
    partition = DatabricksPartitionSensor(
        task_id="partition_sensor", table_name="events", partitions={"day": ["2024-01-01"]}, **SENSE
    )
    bad_sync = DatabricksSQLStatementsOperator(
        task_id="bad_sync", warehouse_id=WAREHOUSE, statement="SELECT * FROM nowhere", **FAST
    )
    bad_deferred = DatabricksSQLStatementsOperator(
        task_id="bad_deferred",
        warehouse_id=WAREHOUSE,
        statement="SELECT * FROM nowhere",
        deferrable=True,
        **FAST,
    )
    stop >> start >> create >> insert >> [*queries, to_xcom, sensor, partition, bad_sync, bad_deferred]
