# Databricks notebook source
# MAGIC %md
# MAGIC # transform_data
# MAGIC Clean and type the raw pages landed by `fetch_data`:
# MAGIC
# MAGIC * every rule that fails sends the row to a rejects file with its reason: nothing is dropped silently;
# MAGIC * repeated `order_id`s keep their latest `updated_at` version;
# MAGIC * the good rows go to a typed Parquet staging file that `write_results` merges into Delta.

# COMMAND ----------

import datetime as dt
import glob
import json
import os
from decimal import Decimal, InvalidOperation

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

dbutils.widgets.text("start_date", "2024-01-01")
dbutils.widgets.text("end_date", "2024-01-07")
dbutils.widgets.text("raw_root", "dbfs:/raw/orders")
dbutils.widgets.text("staging_root", "dbfs:/staging/orders")

start_date = dbutils.widgets.get("start_date")
end_date = dbutils.widgets.get("end_date")
window = f"{start_date}_{end_date}"
raw_dir = f"{dbutils.widgets.get('raw_root').rstrip('/')}/{window}"
staging_dir = f"{dbutils.widgets.get('staging_root').rstrip('/')}/{window}"

FUSE_ROOT = os.environ.get("DATABRICKS_DBFS_FUSE_ROOT", "/dbfs").rstrip("/")


def to_fuse(dbfs_path: str) -> str:
    return FUSE_ROOT + "/" + dbfs_path.removeprefix("dbfs:").lstrip("/")


# The staging schema is the contract with write_results (and the Delta table's schema).
MONEY = pa.decimal128(12, 2)
SCHEMA = pa.schema(
    [
        pa.field("order_id", pa.string(), nullable=False),
        pa.field("customer_id", pa.string()),
        pa.field("order_ts", pa.timestamp("us", tz="UTC")),
        pa.field("order_date", pa.date32()),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
        pa.field("sku", pa.string()),
        pa.field("product_name", pa.string()),
        pa.field("quantity", pa.int32()),
        pa.field("unit_price", MONEY),
        pa.field("amount", MONEY),
        pa.field("currency", pa.string()),
        pa.field("country", pa.string()),
        pa.field("status", pa.string()),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)

# COMMAND ----------

pages = sorted(glob.glob(to_fuse(f"{raw_dir}/page-*.json")))
if not pages:
    raise RuntimeError(f"no raw pages in {raw_dir}: did fetch_data run for this window?")
records = []
for page_file in pages:
    with open(page_file, encoding="utf-8") as f:
        records.extend(json.load(f)["data"])
raw = pd.DataFrame.from_records(records)
print(f"read {len(raw)} records from {len(pages)} pages")

# COMMAND ----------


def money(value: object) -> Decimal | None:
    """'24.90' -> Decimal('24.90'); None for anything that is not a number with at most 2 decimals."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number == number.quantize(Decimal("0.01")) else None


df = pd.DataFrame(
    {
        "order_id": raw["order_id"].astype("string").str.strip(),
        "customer_id": raw["customer_id"].astype("string").str.strip(),
        # Unparsable timestamps become NaT here and are rejected below, with their raw value kept.
        "order_ts": pd.to_datetime(raw["order_ts"], errors="coerce", utc=True, format="ISO8601"),
        "updated_at": pd.to_datetime(raw["updated_at"], errors="coerce", utc=True, format="ISO8601"),
        "sku": raw["sku"].astype("string"),
        "product_name": raw["product_name"].astype("string"),
        "quantity": pd.to_numeric(raw["quantity"], errors="coerce").astype("Int64"),
        "unit_price": raw["unit_price"].map(money),
        "amount": raw["amount"].map(money),
        "currency": raw["currency"].astype("string").str.upper(),
        "country": raw["country"].astype("string").str.upper(),
        "status": raw["status"].astype("string").str.lower(),
    }
)

# One boolean column per rule; a row may break several, the rejects file lists them all.
rules = {
    "missing_order_id": df["order_id"].isna() | (df["order_id"] == ""),
    "bad_order_ts": df["order_ts"].isna(),
    "bad_updated_at": df["updated_at"].isna(),
    "bad_quantity": df["quantity"].isna(),
    "non_positive_quantity": df["quantity"].notna() & (df["quantity"] <= 0),
    "missing_amount": df["amount"].isna(),
    "bad_unit_price": df["unit_price"].isna(),
}
broken = pd.DataFrame(rules)
bad = broken.any(axis=1)
# Amount must agree with quantity x unit_price; only checkable on rows that passed the rules above.
ok_so_far = ~bad
mismatch = pd.Series(False, index=df.index)
mismatch[ok_so_far] = [
    amount != unit_price * int(quantity)
    for amount, unit_price, quantity in zip(
        df.loc[ok_so_far, "amount"],
        df.loc[ok_so_far, "unit_price"],
        df.loc[ok_so_far, "quantity"],
        strict=True,
    )
]
broken["amount_mismatch"] = mismatch
bad = broken.any(axis=1)

rejects_by_reason = {reason: int(hits.sum()) for reason, hits in broken.items() if hits.any()}
print(f"rejected {int(bad.sum())} rows: {rejects_by_reason}")

# COMMAND ----------

dbutils.fs.rm(staging_dir, True)
os.makedirs(to_fuse(staging_dir), exist_ok=True)

# Rejects keep the record exactly as the API sent it, plus every reason it failed.
rejects_path = f"{staging_dir}/rejects.jsonl"
with open(to_fuse(rejects_path), "w", encoding="utf-8") as f:
    for index in df.index[bad]:
        reasons = [reason for reason in broken.columns if broken.at[index, reason]]
        f.write(json.dumps({"reasons": reasons, "record": records[index]}) + "\n")

good = df[~bad].copy()
# The API may send an order twice (e.g. once placed, once paid): keep the latest version.
before = len(good)
good = good.sort_values("updated_at").drop_duplicates("order_id", keep="last").sort_values("order_id")
duplicates_dropped = before - len(good)
good["order_date"] = good["order_ts"].dt.date
good["quantity"] = good["quantity"].astype("int32")
good["ingested_at"] = pd.Timestamp(dt.datetime.now(dt.UTC))

table = pa.Table.from_pandas(good[SCHEMA.names], schema=SCHEMA, preserve_index=False)
staging_path = f"{staging_dir}/orders.parquet"
pq.write_table(table, to_fuse(staging_path))
print(f"wrote {table.num_rows} typed rows to {staging_path}")

# COMMAND ----------

dbutils.notebook.exit(
    json.dumps(
        {
            "input_rows": len(raw),
            "valid_rows": table.num_rows,
            "rejected_rows": int(bad.sum()),
            "rejects_by_reason": rejects_by_reason,
            "duplicates_dropped": duplicates_dropped,
            "staging_path": staging_path,
            "rejects_path": rejects_path,
        }
    )
)
