# Databricks notebook source
# MAGIC %md
# MAGIC # hello_task
# MAGIC A tiny notebook for the small example DAGs: optionally sleeps (to have something to cancel or
# MAGIC wait for), then exits with a JSON description of where it ran.

# COMMAND ----------

import json
import os
import platform
import time

dbutils.widgets.text("message", "hello from Databricks")
dbutils.widgets.text("seconds", "0")

message = dbutils.widgets.get("message")
seconds = float(dbutils.widgets.get("seconds"))

# COMMAND ----------

# Sleep in small steps so a cancel takes effect quickly.
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

dbutils.notebook.exit(
    json.dumps(
        {
            "message": message,
            "slept_seconds": seconds,
            "python": platform.python_version(),
            # Set on Databricks compute; the emulator may not set it.
            "cluster_id": os.environ.get("DB_CLUSTER_ID", ""),
        }
    )
)
