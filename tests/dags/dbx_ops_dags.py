"""DAGs for tests/operators, tests/sensors and tests/triggers (run with ``dag.test()``).

Notebooks live under /Shared/dbx_ops in the emulator (see tests/operators/support.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.operators import (
    DatabricksCancelRunOperator,
    DatabricksCreateJobOperator,
    DatabricksRunNowOperator,
    DatabricksSubmitRunOperator,
)
from airflow_dbx_provider.sensors import DatabricksRunSensor

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
POLL = 0.2
START = pendulum.datetime(2024, 1, 1, tz="UTC")


def nb(key: str, name: str, depends_on: list[str] | None = None, **params: str) -> dict[str, Any]:
    task_spec: dict[str, Any] = {
        "task_key": key,
        "new_cluster": CLUSTER,
        "notebook_task": {"notebook_path": f"/Shared/dbx_ops/{name}", "base_parameters": params},
    }
    if depends_on:
        task_spec["depends_on"] = [{"task_key": k} for k in depends_on]
    return task_spec


class CrashOnFirstTryWhileWaiting(DatabricksSubmitRunOperator):
    """Stands in for a worker lost mid-wait: try 1 dies after the run started."""

    def execute(self, context: Any) -> Any:
        self._try = context["ti"].try_number
        return super().execute(context)

    def _wait(self, run_id: int, run: dict[str, Any]) -> dict[str, Any]:
        if self._try == 1:
            raise RuntimeError("worker lost")
        return super()._wait(run_id, run)


class CrashOnFirstTryAfterSuccess(DatabricksSubmitRunOperator):
    """Try 1 dies after its run succeeded: the retry must not relaunch it."""

    def execute(self, context: Any) -> Any:
        self._try = context["ti"].try_number
        return super().execute(context)

    def _finish(self, context: Any, summary: Any) -> Any:
        if self._try == 1:
            raise RuntimeError("worker lost after the run succeeded")
        return super()._finish(context, summary)


for mode, deferrable in (("sync", False), ("deferred", True)):
    with DAG(f"dbx_ops_pipeline_{mode}", schedule=None, start_date=START, params={"greeting": "hello"}):
        create = DatabricksCreateJobOperator(
            task_id="create_job",
            json={"name": f"dbx-ops-{mode}-{{{{ params.greeting }}}}", "tasks": [nb("echo", "ok")]},
        )
        run_now = DatabricksRunNowOperator(
            task_id="run_now",
            job_id="{{ ti.xcom_pull(task_ids='create_job') }}",
            notebook_params={"greeting": "{{ params.greeting }}"},
            deferrable=deferrable,
            polling_period_seconds=POLL,
        )
        submit = DatabricksSubmitRunOperator(
            task_id="submit",
            json={"run_name": "{{ dag.dag_id }}-{{ params.greeting }}"},
            tasks=[nb("first", "ok", greeting="{{ params.greeting }}"), nb("second", "ok", ["first"])],
            deferrable=deferrable,
            polling_period_seconds=POLL,
        )
        create >> run_now

    with DAG(f"dbx_ops_fail_{mode}", schedule=None, start_date=START):
        DatabricksSubmitRunOperator(
            task_id="submit_failing",
            tasks=[nb("load", "fail"), nb("after", "ok", ["load"])],
            deferrable=deferrable,
            polling_period_seconds=POLL,
        )

    with DAG(f"dbx_ops_retry_failed_{mode}", schedule=None, start_date=START):
        DatabricksSubmitRunOperator(
            task_id="submit_flaky",
            tasks=[nb("flaky", "flaky", marker="{{ dag.dag_id }}-{{ run_id }}")],
            deferrable=deferrable,
            polling_period_seconds=POLL,
            retries=1,
            retry_delay=timedelta(seconds=0),
        )

with DAG("dbx_ops_retry_crash", schedule=None, start_date=START):
    CrashOnFirstTryWhileWaiting(
        task_id="submit",
        tasks=[nb("nap", "sleep", seconds="1")],
        polling_period_seconds=POLL,
        retries=1,
        retry_delay=timedelta(seconds=0),
    )

with DAG("dbx_ops_retry_after_success", schedule=None, start_date=START):
    CrashOnFirstTryAfterSuccess(
        task_id="submit",
        tasks=[nb("echo", "ok")],
        polling_period_seconds=POLL,
        retries=1,
        retry_delay=timedelta(seconds=0),
    )

with DAG("dbx_ops_cancel", schedule=None, start_date=START):

    @task
    def start_long_runs() -> int:
        hook = DatabricksHook()
        job_id = hook.create_job(
            {"name": "dbx-ops-long", "max_concurrent_runs": 5, "tasks": [nb("nap", "sleep")]}
        )
        for _ in range(2):
            hook.run_now(job_id)
        return job_id

    job = start_long_runs()
    DatabricksCancelRunOperator(
        task_id="cancel_all",
        job_id="{{ ti.xcom_pull(task_ids='start_long_runs') }}",
        polling_period_seconds=POLL,
    ).set_upstream(job)

for sensor_mode in ("poke", "reschedule", "deferrable"):
    with DAG(f"dbx_ops_sensor_{sensor_mode}", schedule=None, start_date=START):

        @task
        def start_runs(good_seconds: str = "5" if sensor_mode == "deferrable" else "1") -> dict[str, int]:
            hook = DatabricksHook()
            return {
                # Deferrable: still running at the sensor's first poke on any Airflow version (3.1's
                # dag.test spends ~2 s starting each task; wait_good goes first), so it really defers.
                "good": hook.submit_run(
                    {"run_name": "ok", "tasks": [nb("echo", "sleep", seconds=good_seconds)]}
                ),
                "bad": hook.submit_run({"run_name": "bad", "tasks": [nb("load", "fail")]}),
            }

        runs = start_runs()
        kwargs: dict[str, Any] = {
            "poke_interval": POLL,
            "timeout": 120,
            "mode": "reschedule" if sensor_mode == "reschedule" else "poke",
            "deferrable": sensor_mode == "deferrable",
        }
        good = DatabricksRunSensor(
            task_id="wait_good", run_id="{{ ti.xcom_pull(task_ids='start_runs')['good'] }}", **kwargs
        )
        bad = DatabricksRunSensor(
            task_id="wait_bad_soft",
            run_id="{{ ti.xcom_pull(task_ids='start_runs')['bad'] }}",
            soft_fail=True,
            **kwargs,
        )
        runs >> good >> bad

with DAG("dbx_ops_sensor_job_name", schedule=None, start_date=START):

    @task
    def start_job_run() -> int:
        hook = DatabricksHook()
        job_id = hook.create_job({"name": "dbx-ops-sensed", "tasks": [nb("echo", "ok")]})
        return int(hook.run_now(job_id)["run_id"])

    started = start_job_run()
    DatabricksRunSensor(task_id="wait_latest", job_name="dbx-ops-sensed", poke_interval=POLL).set_upstream(
        started
    )
