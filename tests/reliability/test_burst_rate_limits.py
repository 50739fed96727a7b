"""200 runs started at once against the emulator's default rate limits: no task fails on a 429."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from airflow_dbx_provider.operators import DatabricksSubmitRunOperator
from airflow_dbx_provider.triggers import DatabricksRunTrigger
from tests.airflow_compat import TaskDeferred
from tests.reliability.conftest import connection_json
from tests.reliability.helpers import admin, status_counts
from tests.support.task_instance import FakeTaskInstance

RUNS = 200
MAX_429 = 40  # observed: 0-10; the bound fails if the shared limiter stops pacing the burst


def _start(index: int) -> tuple[DatabricksSubmitRunOperator, FakeTaskInstance, DatabricksRunTrigger]:
    op = DatabricksSubmitRunOperator(
        task_id=f"submit_{index}",
        tasks=[
            {
                "task_key": "jar",
                "new_cluster": {
                    "spark_version": "15.4.x-scala2.12",
                    "node_type_id": "i3.xlarge",
                    "num_workers": 1,
                },
                "spark_jar_task": {"main_class_name": "Main"},
            }
        ],
        deferrable=True,
        polling_period_seconds=0.2,
    )
    ti = FakeTaskInstance(dag_id="burst", task_id=op.task_id)
    try:
        op.execute({"ti": ti})  # type: ignore[arg-type]
    except TaskDeferred as deferred:
        return op, ti, deferred.trigger  # type: ignore[return-value]
    raise AssertionError("a fresh run should defer")


async def _watch(triggers: list[DatabricksRunTrigger]) -> list[dict[str, Any]]:
    async def first_event(trigger: DatabricksRunTrigger) -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    return await asyncio.gather(*(first_event(t) for t in triggers))


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_200_runs_at_once_under_default_rate_limits(workspace: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = workspace
    # Honour Retry-After for real here (the default 120 s cap): the limiter must keep 429s rare.
    monkeypatch.setenv(
        "AIRFLOW_CONN_DATABRICKS_DEFAULT", connection_json(server, max_retry_after_seconds=120)
    )
    admin(server, "POST", "rate-limits", {"enabled": True})  # the defaults of config.DEFAULT_RATE_LIMITS
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=RUNS) as pool:
        started_ops = list(pool.map(lambda i: _start(i), range(RUNS)))
    submitted = time.monotonic() - started
    events = asyncio.run(_watch([trigger for _, _, trigger in started_ops]))
    results = [
        op.execute_complete({"ti": ti}, event) for (op, ti, _), event in zip(started_ops, events, strict=True)
    ]
    elapsed = time.monotonic() - started

    statuses = status_counts(server)
    throttled = statuses.get("429", 0)
    print(
        f"\n{RUNS} runs: submitted in {submitted:.1f}s, all done in {elapsed:.1f}s; 429s: {throttled}; {statuses}"
    )
    assert [e["status"] for e in events] == ["success"] * RUNS
    assert {r["result_state"] for r in results} == {"SUCCESS"}
    assert len({r["run_id"] for r in results}) == RUNS
    assert server.counters()["runs_created"] == RUNS
    assert server.counters()["active_runs"] == 0
    assert set(statuses) <= {"200", "429"}
    assert throttled <= MAX_429
