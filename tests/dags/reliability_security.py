"""DAGs for tests/security/test_leak_scan.py: representative flows whose logs, XComs and rendered
fields are scanned for the connection's token and a workspace secret.

The secret value is never in this file: the test stores it in the workspace beforehand, and the
notebooks (``/Shared/leak/*``) read it with ``dbutils.secrets.get`` and print only its length.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_dbx_provider.operators import (
    DatabricksCreateJobOperator,
    DatabricksRunNowOperator,
    DatabricksSubmitRunOperator,
)

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
START = pendulum.datetime(2024, 1, 1, tz="UTC")
POLL = 0.2
SCOPE, KEY = "leak-scan", "api_key"

NOTEBOOKS = {
    "read": f"""
value = dbutils.secrets.get("{SCOPE}", "{KEY}")
dbutils.widgets.text("who", "nobody")
print("secret read; length", len(value), "for", dbutils.widgets.get("who"))
dbutils.notebook.exit("read:" + str(len(value)))
""",
    "fail": f"""
value = dbutils.secrets.get("{SCOPE}", "{KEY}")
raise ValueError("bad row 7 (the secret has %d characters)" % len(value))
""",
}


def notebook(key: str, name: str, **params: str) -> dict[str, Any]:
    return {
        "task_key": key,
        "new_cluster": CLUSTER,
        "notebook_task": {"notebook_path": f"/Shared/leak/{name}", "base_parameters": params},
    }


with DAG(dag_id="security_leak_flows", schedule=None, start_date=START, catchup=False):
    DatabricksSubmitRunOperator(
        task_id="submit_sync", tasks=[notebook("read", "read", who="sync")], polling_period_seconds=POLL
    )
    DatabricksSubmitRunOperator(
        task_id="submit_deferred",
        tasks=[notebook("read", "read", who="deferred")],
        deferrable=True,
        polling_period_seconds=POLL,
    )
    job = DatabricksCreateJobOperator(
        task_id="upsert_job",
        json={"name": "leak-scan", "tasks": [notebook("read", "read")]},
    )
    DatabricksRunNowOperator(
        task_id="run_now_templated",
        job_id=job.output,
        notebook_params={"who": "{{ run_id }}"},
        deferrable=True,
        polling_period_seconds=POLL,
    )

with DAG(dag_id="security_leak_failing", schedule=None, start_date=START, catchup=False):
    DatabricksSubmitRunOperator(
        task_id="submit_failing", tasks=[notebook("fail", "fail")], polling_period_seconds=POLL
    )
