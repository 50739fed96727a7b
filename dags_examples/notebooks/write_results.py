# Databricks notebook source
# MAGIC %md
# MAGIC # write_results
# MAGIC MERGE the typed staging file into a Delta table keyed on `order_id`: new orders are inserted,
# MAGIC known ones updated. Running the same window twice therefore leaves no duplicate rows.
# MAGIC
# MAGIC Uses the `deltalake` package (delta-rs), which works on any Python process: on a cluster
# MAGIC with Spark you would write `MERGE INTO` instead, against the same table.

# COMMAND ----------

import json
import os

import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

dbutils.widgets.text("start_date", "2024-01-01")
dbutils.widgets.text("end_date", "2024-01-07")
dbutils.widgets.text("staging_root", "dbfs:/staging/orders")
dbutils.widgets.text("table_path", "dbfs:/delta/orders")

window = f"{dbutils.widgets.get('start_date')}_{dbutils.widgets.get('end_date')}"
staging_path = f"{dbutils.widgets.get('staging_root').rstrip('/')}/{window}/orders.parquet"
table_path = dbutils.widgets.get("table_path").rstrip("/")

FUSE_ROOT = os.environ.get("DATABRICKS_DBFS_FUSE_ROOT", "/dbfs").rstrip("/")


def to_fuse(dbfs_path: str) -> str:
    return FUSE_ROOT + "/" + dbfs_path.removeprefix("dbfs:").lstrip("/")


# COMMAND ----------

source = pq.read_table(to_fuse(staging_path))
print(f"merging {source.num_rows} rows from {staging_path} into {table_path}")

local_table = to_fuse(table_path)
try:
    table = DeltaTable(local_table)
except TableNotFoundError:
    # First run: create an empty table with the staging schema, so every load (even the first)
    # goes through the same MERGE and reports the same metrics.
    os.makedirs(local_table, exist_ok=True)
    table = DeltaTable.create(local_table, schema=source.schema, description="Orders from the orders API")

metrics = (
    table.merge(
        source=source,
        predicate="t.order_id = s.order_id",
        source_alias="s",
        target_alias="t",
    )
    .when_matched_update_all()
    .when_not_matched_insert_all()
    .execute()
)
print(f"merge metrics: {metrics}")

# COMMAND ----------

table = DeltaTable(local_table)
keys = table.to_pyarrow_table(columns=["order_id"]).column("order_id")
total_rows = len(keys)
distinct_keys = len(keys.unique())
if total_rows != distinct_keys:
    # The MERGE key must be unique in the table: fail the job rather than publish duplicates.
    raise RuntimeError(f"{table_path} has {total_rows} rows but only {distinct_keys} distinct order_ids")

summary = {
    "table_path": table_path,
    "version": table.version(),
    "rows_in_source": source.num_rows,
    "rows_inserted": metrics.get("num_target_rows_inserted", 0),
    "rows_updated": metrics.get("num_target_rows_updated", 0),
    "total_rows": total_rows,
}
print(summary)
dbutils.notebook.exit(json.dumps(summary))
