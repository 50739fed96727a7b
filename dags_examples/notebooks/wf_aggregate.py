# Databricks notebook source
# MAGIC %md
# MAGIC # wf_aggregate
# MAGIC Second task of the `workflow_group` example's job: totals per store, written to
# MAGIC `dbfs:/examples/workflow_group/<run_key>/totals.json`.
# MAGIC
# MAGIC With `fail_first_attempt=true` it fails the first time it runs for a given `run_key` (it leaves
# MAGIC a marker file, then raises) and succeeds after: clearing the failed Airflow task repairs this
# MAGIC task in the same Databricks run.

# COMMAND ----------

import json
import re

dbutils.widgets.text("run_key", "manual")
dbutils.widgets.text("fail_first_attempt", "false")

run_key = re.sub(r"[^A-Za-z0-9_.-]+", "_", dbutils.widgets.get("run_key"))
folder = f"dbfs:/examples/workflow_group/{run_key}"
fail_first_attempt = dbutils.widgets.get("fail_first_attempt").strip().lower() in ("true", "1", "yes")

# COMMAND ----------

if fail_first_attempt:
    marker = f"{folder}/aggregate.attempted"
    try:
        dbutils.fs.head(marker)  # there: an earlier attempt failed on purpose, so go on this time
    except Exception:
        dbutils.fs.put(marker, "failed once on purpose", True)
        raise RuntimeError("fail_first_attempt: the first attempt of aggregate fails on purpose") from None

# COMMAND ----------

sales = json.loads(dbutils.fs.head(f"{folder}/sales.json", 10_000_000))
totals: dict[str, float] = {}
for sale in sales:
    totals[sale["store"]] = round(totals.get(sale["store"], 0.0) + sale["amount"], 2)
dbutils.fs.put(f"{folder}/totals.json", json.dumps(totals, sort_keys=True), True)
dbutils.notebook.exit(json.dumps({"stores": len(totals), "sales": len(sales)}))
