# Databricks notebook source
# MAGIC %md
# MAGIC # read_input
# MAGIC Checks what `setup_dbfs_and_secrets` prepared: reads the uploaded CSV from DBFS and the API key
# MAGIC from the secret scope. The key is only checked, never printed (Databricks would redact it anyway).

# COMMAND ----------

import csv
import json
import os

dbutils.widgets.text("input_path", "dbfs:/examples/input/customers.csv")
dbutils.widgets.text("secret_scope", "dbx_examples")
dbutils.widgets.text("secret_key", "sample_source_api_key")

input_path = dbutils.widgets.get("input_path")
api_key = dbutils.secrets.get(dbutils.widgets.get("secret_scope"), dbutils.widgets.get("secret_key"))

FUSE_ROOT = os.environ.get("DATABRICKS_DBFS_FUSE_ROOT", "/dbfs").rstrip("/")
local_path = FUSE_ROOT + "/" + input_path.removeprefix("dbfs:").lstrip("/")

# COMMAND ----------

# dbutils.fs works on dbfs:/ paths; the csv module needs the FUSE path of the same file.
print(dbutils.fs.head(input_path, 200))
with open(local_path, newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))

dbutils.notebook.exit(
    json.dumps(
        {
            "input_path": input_path,
            "rows": len(rows),
            "columns": list(rows[0]) if rows else [],
            "api_key_present": bool(api_key),
        }
    )
)
