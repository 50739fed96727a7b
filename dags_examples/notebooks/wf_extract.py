# Databricks notebook source
# MAGIC %md
# MAGIC # wf_extract
# MAGIC First task of the `workflow_group` example's job: writes the day's sales (deterministic demo
# MAGIC records) to `dbfs:/examples/workflow_group/<run_key>/sales.json` for the next task.

# COMMAND ----------

import json
import re

dbutils.widgets.text("run_key", "manual")
dbutils.widgets.text("rows", "30")

# One folder per Airflow DAG run: the tasks of one run share it, another run never sees it.
run_key = re.sub(r"[^A-Za-z0-9_.-]+", "_", dbutils.widgets.get("run_key"))
folder = f"dbfs:/examples/workflow_group/{run_key}"
rows = int(dbutils.widgets.get("rows"))

# COMMAND ----------

sales = [
    {"sale_id": i + 1, "store": f"store-{i % 3 + 1}", "amount": round(5 + (i * 7919) % 100 / 4, 2)}
    for i in range(rows)
]
dbutils.fs.put(f"{folder}/sales.json", json.dumps(sales), True)
dbutils.notebook.exit(json.dumps({"rows": len(sales), "path": f"{folder}/sales.json"}))
