"""One-task DAGs for tests/reliability: SIGKILL + retry, emulator restarts and execution_timeout.

Each DAG holds a single run operator, run by ``airflow tasks test`` in a child process (the kill
tests) or by ``dag.test()`` in the test process.

Notebooks live under /Shared/dbx_ops in the emulator (see tests/operators/support.py); the sleep
notebook's length comes from ``RELIABILITY_SLEEP_SECONDS`` (read when the DAG file is parsed).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_dbx_provider.operators import DatabricksSubmitRunOperator

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
START = pendulum.datetime(2024, 1, 1, tz="UTC")
POLL = 0.2
SLEEP_SECONDS = os.environ.get("RELIABILITY_SLEEP_SECONDS", "20")


def sleep_task(seconds: str = SLEEP_SECONDS) -> list[dict[str, Any]]:
    return [
        {
            "task_key": "nap",
            "new_cluster": CLUSTER,
            "notebook_task": {
                "notebook_path": "/Shared/dbx_ops/sleep",
                "base_parameters": {"seconds": seconds},
            },
        }
    ]


JAR_TASK = [{"task_key": "jar", "new_cluster": CLUSTER, "spark_jar_task": {"main_class_name": "Main"}}]


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False)


# SIGKILL while the run is active, then the retry: sync and deferred.
for _mode, _deferrable in (("sync", False), ("deferred", True)):
    with _dag(f"reliability_reattach_{_mode}"):
        DatabricksSubmitRunOperator(
            task_id="nap", tasks=sleep_task(), deferrable=_deferrable, polling_period_seconds=POLL
        )

# The emulator restarts while a simulated task runs: sync and deferred.
for _mode, _deferrable in (("sync", False), ("deferred", True)):
    with _dag(f"reliability_restart_{_mode}"):
        DatabricksSubmitRunOperator(
            task_id="jar", tasks=JAR_TASK, deferrable=_deferrable, polling_period_seconds=POLL
        )

# execution_timeout reached while the run is active: sync (Airflow kills the task) and deferred
# (the trigger times out and the task resumes with the failure).
for _mode, _deferrable in (("sync", False), ("deferred", True)):
    with _dag(f"reliability_timeout_{_mode}"):
        DatabricksSubmitRunOperator(
            task_id="nap",
            tasks=sleep_task("60"),
            deferrable=_deferrable,
            polling_period_seconds=POLL,
            execution_timeout=timedelta(seconds=3),
        )
