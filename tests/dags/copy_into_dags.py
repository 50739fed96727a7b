"""COPY INTO DAG for tests/operators/test_copy_into.py (run with ``dag.test()`` against the emulator).

The test puts CSV files under ``dbfs:/landing/orders`` and sets ``databricks_default`` (conn type
``dbx``, the warehouse in its extras) before running it.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_dbx_provider.operators import DatabricksCopyIntoOperator, DatabricksSqlOperator
from airflow_dbx_provider.sensors import DatabricksPartitionSensor

START = pendulum.datetime(2024, 1, 1, tz="UTC")
LOAD = {
    "table_name": "main.default.{{ dag_run.conf['table'] }}",
    "file_location": "dbfs:/landing/orders",
    "file_format": "CSV",
    "pattern": "*.csv",
    "format_options": {"header": "true", "inferSchema": "true"},
    "copy_options": {"mergeSchema": "true"},
}

with DAG("dbx_copy_into", start_date=START, schedule=None, catchup=False):
    create = DatabricksSqlOperator(
        task_id="create", sql="CREATE TABLE IF NOT EXISTS main.default.{{ dag_run.conf['table'] }}"
    )
    load = DatabricksCopyIntoOperator(task_id="load", **LOAD)
    again = DatabricksCopyIntoOperator(task_id="load_again", **LOAD)
    forced = DatabricksCopyIntoOperator(
        task_id="load_forced",
        force_copy=True,
        files=["day1.csv"],
        **{k: v for k, v in LOAD.items() if k != "pattern"},
    )
    partitioned = DatabricksSqlOperator(
        task_id="partitioned",
        sql="CREATE OR REPLACE TABLE main.default.by_day PARTITIONED BY (day) AS "
        "SELECT * FROM main.default.{{ dag_run.conf['table'] }}",
    )
    sensor = DatabricksPartitionSensor(
        task_id="day_loaded",
        table_name="by_day",
        partitions={"day": "2024-01-02"},
        catalog="main",
        schema="default",
        poke_interval=0.2,
        timeout=30,
    )
    create >> load >> again >> forced >> partitioned >> sensor
