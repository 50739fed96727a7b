"""The shared poller coalesces many waits into paged list calls (fake client, no HTTP)."""

from __future__ import annotations

import asyncio
import math

import pytest

from airflow_dbx_provider.exceptions import DatabricksApiError, DatabricksNotFoundError
from airflow_dbx_provider.triggers.poller import RunStatePoller
from tests.triggers.fake_workspace import FakeRunsClient

INTERVAL = 0.02


def _poller(client: FakeRunsClient, **kwargs) -> RunStatePoller:
    return RunStatePoller(lambda: client, name="test", **kwargs)


async def _watch_all(poller: RunStatePoller, run_ids: list[int], job_of=None) -> list[dict]:
    return await asyncio.gather(
        *(poller.wait(r, job_id=(job_of or {}).get(r), interval=INTERVAL) for r in run_ids)
    )


def test_many_runs_cost_pages_not_runs() -> None:
    async def scenario() -> tuple[FakeRunsClient, list[dict], int]:
        client = FakeRunsClient()
        for run_id in range(1, 101):
            client.add(run_id, job_id=run_id, ends_in=0.2 + (run_id % 5) * 0.02)
        poller = _poller(client)
        results = await _watch_all(poller, list(range(1, 101)))
        return client, results, poller.calls["cycles"]

    client, results, cycles = asyncio.run(scenario())
    assert [r["run_id"] for r in results] == list(range(1, 101))
    assert all(r["run_state"]["result_state"] == "SUCCESS" for r in results)
    # one runs/get per run, when it left the active list; lists: at most 4 pages per cycle
    assert client.calls["get"] == 100
    assert client.calls["list"] <= cycles * math.ceil(100 / 25)
    naive = 100 * cycles  # one runs/get per run per interval
    assert client.calls["list"] + client.calls["get"] < naive / 3
    assert client.closed == 1  # the last waiter closed the shared client


async def _until(condition, timeout: float = 20.0) -> None:
    """Wait for the poller to have done something (a count of calls), not for wall-clock time."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the poller never got there"
        await asyncio.sleep(0.005)


def test_per_job_listing_when_cheaper() -> None:
    async def scenario() -> FakeRunsClient:
        client = FakeRunsClient()
        client.add(1, job_id=7)  # oldest, so last in the newest-first list
        client.add(2, job_id=7)
        for run_id in range(10, 210):  # 200 active runs of other jobs
            client.add(run_id, job_id=1000 + run_id)
        poller = _poller(client)
        watching = asyncio.ensure_future(_watch_all(poller, [1, 2], {1: 7, 2: 7}))
        # the poller must switch to listing job 7 alone: 3 cycles of that, then the runs end
        await _until(lambda: client.calls["list_job"] >= 3)
        client.finish(1, 2)
        await watching
        return client

    client = asyncio.run(scenario())
    assert client.calls["list_all"] <= 9  # 202 active runs: 9 pages, measured once
    assert client.calls["get"] == 2


def test_failed_run_and_unknown_run() -> None:
    async def scenario():
        client = FakeRunsClient()
        client.add(1, job_id=1, ends_in=0.05, result="FAILED")
        poller = _poller(client)
        failed = await poller.wait(1, interval=INTERVAL)
        with pytest.raises(DatabricksNotFoundError):
            await poller.wait(99, interval=INTERVAL)
        return failed

    failed = asyncio.run(scenario())
    assert failed["run_state"]["result_state"] == "FAILED"
    assert failed["tasks"][0]["task_key"] == "t"


def test_transient_list_errors_are_tolerated_then_reported() -> None:
    async def scenario():
        client = FakeRunsClient()
        client.add(1, job_id=1, ends_in=0.1)
        client.list_errors = 2
        ok = await _poller(client, max_failed_cycles=3).wait(1, interval=INTERVAL)
        client.add(2, job_id=1, ends_in=5)
        client.list_errors = 10
        with pytest.raises(DatabricksApiError):
            await _poller(client, max_failed_cycles=3).wait(2, interval=INTERVAL)
        return ok

    assert asyncio.run(scenario())["run_id"] == 1


def test_cancelled_waiter_leaves_and_loop_stops() -> None:
    async def scenario():
        client = FakeRunsClient()
        client.add(1, job_id=1, ends_in=60)
        poller = _poller(client)
        waiter = asyncio.create_task(poller.wait(1, interval=INTERVAL))
        await asyncio.sleep(0.1)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        calls = client.calls["list"]
        await asyncio.sleep(0.1)
        return poller, client, calls

    poller, client, calls = asyncio.run(scenario())
    assert poller.watched_run_ids == set()
    assert client.calls["list"] == calls  # no more polling once nobody waits
    assert client.closed == 1


def test_two_waiters_on_one_run_share_calls() -> None:
    async def scenario():
        client = FakeRunsClient()
        client.add(1, job_id=1, ends_in=0.1)
        poller = _poller(client)
        a, b = await asyncio.gather(poller.wait(1, interval=INTERVAL), poller.wait(1, interval=INTERVAL))
        return client, a, b

    client, a, b = asyncio.run(scenario())
    assert a == b and client.calls["get"] == 1


class SlowListClient(FakeRunsClient):
    """Each list call takes ``delay`` seconds; records how many were in flight at once."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.in_flight = 0
        self.peak_job_lists = 0

    async def list_runs_page(self, *, job_id=None, **kwargs):
        self.in_flight += 1
        if job_id is not None:
            self.peak_job_lists = max(self.peak_job_lists, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return await super().list_runs_page(job_id=job_id, **kwargs)
        finally:
            self.in_flight -= 1


def test_per_job_listings_run_side_by_side() -> None:
    async def scenario() -> tuple[SlowListClient, int]:
        client = SlowListClient(delay=0.01)
        for job_id in (7, 8, 9):
            client.add(job_id, job_id=job_id)
        for run_id in range(10, 210):  # 200 active runs of other jobs: per job is cheaper
            client.add(run_id, job_id=1000 + run_id)
        poller = _poller(client)
        watching = asyncio.ensure_future(_watch_all(poller, [7, 8, 9], {7: 7, 8: 8, 9: 9}))
        await _until(lambda: client.calls["list_job"] >= 6)
        client.finish(7, 8, 9)
        await watching
        return client, poller.calls["cycles"]

    client, cycles = asyncio.run(scenario())
    assert client.calls["list_all"] <= 9  # the global list, measured once
    assert client.peak_job_lists == 3  # the three jobs' listings overlap
    assert 6 <= client.calls["list_job"] <= 3 * (cycles - 1)  # still one request per job per cycle
    assert client.calls["get"] == 3
