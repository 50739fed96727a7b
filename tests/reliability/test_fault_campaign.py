"""20 DAG runs of the pipeline while every endpoint family misbehaves: all succeed, one run each."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.reliability.helpers import (
    admin,
    faults_by_endpoint,
    load_dag,
    run_states,
    status_counts,
    ti_states,
    ti_tries,
)

DAG_RUNS = 20
FAULTS = {
    "slow_seconds": 0.1,
    "rules": [
        {"target": "*", "kind": "500", "probability": 0.05},
        {"target": "*", "kind": "503", "probability": 0.05},
        {"target": "*", "kind": "reset", "probability": 0.05},
        {"target": "*", "kind": "slow", "probability": 0.05},
    ],
}


class BurstsOf429:
    """Every ``period`` seconds, ``length`` seconds during which every API call gets 429 with
    Retry-After: 1 (a workspace-wide throttling episode; any client caught in it must back off)."""

    def __init__(self, server: Any, period: float = 1.5, length: float = 0.1) -> None:
        self.server, self.period, self.length = server, period, length
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.bursts = 0

    def _set(self, probability: float) -> None:
        admin(self.server, "POST", "faults", {"target": "*", "kind": "429", "probability": probability})

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self._set(1.0)
            self._stop.wait(self.length)
            self._set(0.0)
            self.bursts += 1

    def __enter__(self) -> BurstsOf429:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_pipeline_survives_faults_20_times(airflow_workspace: Any) -> None:
    server = airflow_workspace
    dag = load_dag("reliability_pipeline.py", "reliability_pipeline")
    dag.test()  # warm-up without faults (first dag.test() pays ~8 s of Airflow start-up)
    admin(server, "POST", "reset")

    admin(server, "POST", "faults", FAULTS)
    started = time.monotonic()
    results, retried = [], 0
    with BurstsOf429(server) as bursts:
        for _ in range(DAG_RUNS):
            dag_run = dag.test()
            states = ti_states(dag_run)
            assert dag_run.state == "success", states
            retried += sum(1 for tries in ti_tries(dag_run).values() if tries > 1)
            ti = next(t for t in dag_run.get_task_instances() if t.task_id == "report")
            results.append(ti.xcom_pull(task_ids="report"))
    elapsed = time.monotonic() - started
    admin(server, "DELETE", "faults")

    counters = server.counters()
    statuses = status_counts(server)
    print(
        f"\n{DAG_RUNS} DAG runs in {elapsed:.1f}s; {counters['total_requests']} requests; "
        f"by status {statuses}; 429 bursts {bursts.bursts}; task retries {retried}"
    )
    # Exactly one Databricks run per DAG run, all finished, none duplicated or left active.
    assert counters["runs_created"] == DAG_RUNS
    assert len({r["run_id"] for r in results}) == DAG_RUNS
    assert all(r["written"] == 4 for r in results)
    assert counters.get("active_runs", 0) == 0
    states = run_states(server)
    assert len(states) == DAG_RUNS
    assert set(states.values()) == {("TERMINATED", "SUCCESS")}
    assert counters.get("jobs_created") == 1  # upserted by name: later DAG runs reset the same job
    # The faults really happened, on every endpoint family the pipeline uses.
    for kind in ("0", "429", "500", "503"):
        assert statuses.get(kind, 0) > 0, kind
    faulted = faults_by_endpoint(server)
    for family in ("/workspace/", "/secrets/", "/jobs/", "/jobs/runs/"):
        assert sum(n for name, n in faulted.items() if family in name) > 0, family
