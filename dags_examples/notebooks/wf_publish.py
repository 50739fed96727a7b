# Databricks notebook source
# MAGIC %md
# MAGIC # wf_publish
# MAGIC Last task of the `workflow_group` example's job: reads the totals `wf_aggregate` wrote and
# MAGIC exits with a summary (it reaches Airflow as the `task_outputs` XCom of the `publish` task).

# COMMAND ----------

import json
import re

dbutils.widgets.text("run_key", "manual")
dbutils.widgets.text("report_title", "Daily sales")

run_key = re.sub(r"[^A-Za-z0-9_.-]+", "_", dbutils.widgets.get("run_key"))
folder = f"dbfs:/examples/workflow_group/{run_key}"

# COMMAND ----------

totals = json.loads(dbutils.fs.head(f"{folder}/totals.json", 1_000_000))
top_store = max(totals, key=totals.get)
dbutils.notebook.exit(
    json.dumps(
        {
            "title": dbutils.widgets.get("report_title"),
            "total": round(sum(totals.values()), 2),
            "top_store": top_store,
            "stores": totals,
        }
    )
)
