"""The shared poller reads runs at the floor of ceil(N / 25) list calls a cycle (fake client, no HTTP)."""

from __future__ import annotations

import asyncio
import logging
import math

import pytest

from airflow_dbx_provider.exceptions import DatabricksApiError, DatabricksNotFoundError
from airflow_dbx_provider.triggers.poller import RunStatePoller, plan_windows, shared_poller, workspace_key
from tests.triggers.fake_workspace import FakeRunsClient

INTERVAL = 0.02


def _poller(client: FakeRunsClient, **kwargs) -> RunStatePoller:
    return RunStatePoller(lambda: client, name="test", **kwargs)


async def _watch_all(
    poller: RunStatePoller, run_ids: list[int], job_of=None, interval=INTERVAL
) -> list[dict]:
    return await asyncio.gather(
        *(poller.wait(r, job_id=(job_of or {}).get(r), interval=interval) for r in run_ids)
    )


async def _until(condition, timeout: float = 20.0) -> None:
    """Wait for the poller to have done something (a count of calls), not for wall-clock time."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the poller never got there"
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("n", [25, 100, 130], ids=["one-page", "four-pages", "partial-last-page"])
def test_finished_runs_cost_pages_and_no_gets(n: int) -> None:
    """N runs that end while watched: ceil(N/25) list calls every cycle, and not one runs/get."""

    async def scenario() -> tuple[FakeRunsClient, list[dict], int]:
        client = FakeRunsClient()
        for run_id in range(1, n + 1):
            client.add(run_id, job_id=run_id)
        poller = _poller(client)
        watching = asyncio.ensure_future(_watch_all(poller, list(range(1, n + 1))))
        await _until(lambda: poller.calls["cycles"] >= 3)  # the runs were seen at least once
        client.finish(*range(1, n + 1))
        results = await watching
        return client, results, poller.calls["cycles"]

    client, results, cycles = asyncio.run(scenario())
    assert [r["run_id"] for r in results] == list(range(1, n + 1))
    assert all(r["run_state"]["result_state"] == "SUCCESS" for r in results)
    assert all(r["tasks"][0]["task_key"] == "t" for r in results)  # the list items carry the tasks
    assert client.calls["get"] == 0
    assert client.calls["list"] == math.ceil(n / 25) * cycles
    assert client.closed == 1  # the last waiter closed the shared client


def test_runs_ending_at_different_times_stay_at_the_floor() -> None:
    async def scenario() -> tuple[FakeRunsClient, RunStatePoller]:
        client = FakeRunsClient()
        for run_id in range(1, 101):
            client.add(run_id, job_id=run_id, ends_in=0.2 + (run_id % 5) * 0.05)
        poller = _poller(client)
        await _watch_all(poller, list(range(1, 101)))
        return client, poller

    client, poller = asyncio.run(scenario())
    assert client.calls["get"] == 0
    # windows shrink as runs finish: never more than the floor
    assert client.calls["list"] <= math.ceil(100 / 25) * poller.calls["cycles"]


def test_windows_are_bounded_by_start_time_and_never_filter_on_activity() -> None:
    async def scenario() -> FakeRunsClient:
        client = FakeRunsClient()
        for run_id in range(1, 51):
            client.add(run_id, job_id=run_id, start_time=1000 + run_id)
        poller = _poller(client)
        watching = asyncio.ensure_future(_watch_all(poller, list(range(1, 51))))
        await _until(lambda: poller.calls["list_window"] >= 2)
        client.finish(*range(1, 51))
        await watching
        return client

    client = asyncio.run(scenario())
    windows = [p for p in client.list_params if p["from"] is not None]
    assert {(p["from"], p["to"]) for p in windows} == {(1026, 1050), (1001, 1025)}
    assert [p["from"] for p in windows[:2]] == [1001, 1026]  # the oldest runs (likeliest ended) first
    assert not any(p["active_only"] for p in windows)


def test_new_runs_are_found_among_the_newest_active_runs() -> None:
    async def scenario() -> tuple[FakeRunsClient, RunStatePoller]:
        client = FakeRunsClient()
        for run_id in range(1, 201):  # 200 older active runs nobody watches
            client.add(run_id, job_id=1)
        client.add(500, job_id=2)
        poller = _poller(client)
        watching = asyncio.ensure_future(poller.wait(500, interval=INTERVAL))
        await _until(lambda: poller.calls["list_window"] >= 2)
        client.finish(500)
        await watching
        return client, poller

    client, poller = asyncio.run(scenario())
    assert poller.calls["list_active"] == 1  # the newest page held it; the other 7 pages are not read
    assert client.calls["get"] == 0
    assert client.calls["list_job"] == poller.calls["list_window"]  # a one-job window filters by job


def test_a_run_that_ended_before_it_was_seen_costs_one_get() -> None:
    async def scenario() -> tuple[FakeRunsClient, dict]:
        client = FakeRunsClient()
        client.add(1, job_id=1, ends_in=0, result="FAILED")
        result = await _poller(client).wait(1, interval=INTERVAL)
        return client, result

    client, result = asyncio.run(scenario())
    assert result["run_state"]["result_state"] == "FAILED"
    assert client.calls["get"] == 1


def test_old_runs_among_many_others_are_read_by_job_window() -> None:
    async def scenario() -> tuple[FakeRunsClient, RunStatePoller]:
        client = FakeRunsClient()
        client.add(1, job_id=7)  # oldest, so last in the newest-first list
        client.add(2, job_id=7)
        for run_id in range(10, 210):  # 200 active runs of other jobs, started later
            client.add(run_id, job_id=1000 + run_id)
        poller = _poller(client)
        watching = asyncio.ensure_future(_watch_all(poller, [1, 2]))
        await _until(lambda: client.calls["list_job"] >= 3)
        client.finish(1, 2)
        await watching
        return client, poller

    client, poller = asyncio.run(scenario())
    assert poller.calls["list_active"] == 9  # found once, at the end of the active list
    assert client.calls["list_job"] == poller.calls["cycles"] - 1  # then one call a cycle
    assert client.calls["get"] == 0


def test_unknown_run_is_an_error() -> None:
    async def scenario() -> None:
        client = FakeRunsClient()
        with pytest.raises(DatabricksNotFoundError):
            await _poller(client).wait(99, interval=INTERVAL)

    asyncio.run(scenario())


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
        return ok, client

    ok, client = asyncio.run(scenario())
    assert ok["run_id"] == 1
    assert client.calls["get"] == 0  # a failed listing is asked again, not replaced by gets


def test_cancelled_waiter_leaves_and_loop_stops() -> None:
    async def scenario():
        client = FakeRunsClient()
        client.add(1, job_id=1, ends_in=60)
        poller = _poller(client)
        waiter = asyncio.create_task(poller.wait(1, interval=INTERVAL))
        await _until(lambda: client.calls["list"] >= 2)
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
        return client, poller, a, b

    client, poller, a, b = asyncio.run(scenario())
    assert a == b and client.calls["get"] == 0
    assert client.calls["list"] == poller.calls["cycles"]


class SlowListClient(FakeRunsClient):
    """Each list call takes ``delay`` seconds; records how many were in flight at once."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.in_flight = 0
        self.peak = 0

    async def list_runs_page(self, **kwargs):
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return await super().list_runs_page(**kwargs)
        finally:
            self.in_flight -= 1


def test_windows_are_read_side_by_side() -> None:
    async def scenario() -> tuple[SlowListClient, RunStatePoller]:
        client = SlowListClient(delay=0.05)
        for run_id in range(1, 101):
            client.add(run_id, job_id=run_id)
        poller = _poller(client)
        watching = asyncio.ensure_future(_watch_all(poller, list(range(1, 101))))
        await _until(lambda: poller.calls["list_window"] >= 8)
        client.finish(*range(1, 101))
        await watching
        return client, poller

    client, poller = asyncio.run(scenario())
    assert client.peak == 4  # the four windows of 100 runs overlap
    assert client.calls["get"] == 0


class GatedListClient(FakeRunsClient):
    """Window reads of runs started before ``gate_before`` wait until :attr:`gate` is set."""

    def __init__(self, gate_before: int) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate_before = gate_before
        self.blocked = 0

    async def list_runs_page(self, **kwargs):
        start_to = kwargs.get("start_time_to")
        if self.gate_before and start_to is not None and start_to < self.gate_before:
            self.blocked += 1
            await self.gate.wait()
        return await super().list_runs_page(**kwargs)


def test_a_run_is_reported_when_its_window_answers_not_when_the_slowest_does() -> None:
    """Windows are acted on as they arrive: one slow window does not delay the others' runs."""

    async def scenario() -> tuple[GatedListClient, dict, list[dict]]:
        client = GatedListClient(gate_before=0)
        for run_id in range(1, 51):
            client.add(run_id, job_id=run_id)
        poller = _poller(client)
        watching = [asyncio.ensure_future(poller.wait(r, interval=INTERVAL)) for r in range(1, 51)]
        await _until(lambda: poller.calls["list_window"] >= 2)  # start times known: two windows
        client.gate_before = client.runs[26]["start_time"]  # the older window (runs 1-25) now hangs
        client.finish(*range(1, 51))
        newest = await asyncio.wait_for(asyncio.gather(*watching[25:]), timeout=20)
        stalled = [w.done() for w in watching[:25]]
        client.gate.set()
        oldest = await asyncio.gather(*watching[:25])
        return client, {"stalled_done": any(stalled)}, [*oldest, *newest]

    client, seen, results = asyncio.run(scenario())
    assert client.blocked >= 1
    assert seen == {"stalled_done": False}  # the newer runs resolved while the older window hung
    assert sorted(r["run_id"] for r in results) == list(range(1, 51))
    assert client.calls["get"] == 0


def test_progress_reaches_each_waiter_from_the_listing() -> None:
    async def scenario() -> tuple[FakeRunsClient, list[tuple[str, tuple]]]:
        client = FakeRunsClient()
        client.add(1, job_id=1, tasks=2)
        client.runs[1]["task_phase"] = "PENDING"
        poller = _poller(client)
        seen: list[tuple[str, tuple]] = []

        def record(run: dict) -> None:
            tasks = tuple(t["state"]["life_cycle_state"] for t in run["tasks"])
            seen.append((run["state"]["life_cycle_state"], tasks))

        watching = asyncio.ensure_future(poller.wait(1, interval=INTERVAL, on_progress=record))
        await _until(lambda: poller.calls["cycles"] >= 2)
        client.runs[1]["task_phase"] = "RUNNING"
        await _until(lambda: len(seen) >= 2)
        client.finish(1)
        await watching
        return client, seen

    client, seen = asyncio.run(scenario())
    assert seen == [
        ("RUNNING", ("PENDING", "PENDING")),
        ("RUNNING", ("RUNNING", "RUNNING")),
        ("TERMINATED", ("TERMINATED", "TERMINATED")),
    ]  # one update per change, not per cycle
    assert client.calls["get"] == 0


def test_plan_windows_groups_by_start_time_and_job() -> None:
    known = {r: (100 + r, 7 if r <= 25 else None) for r in range(1, 31)}
    windows = plan_windows(known)
    assert [(w.start_from, w.start_to, w.job_id, len(w.run_ids)) for w in windows] == [
        (106, 130, None, 25),
        (101, 105, 7, 5),
    ]
    # runs nobody watches any more still take room in a window; a window of them alone is dropped
    others = {r: 100 + r for r in range(1, 61)}
    windows = plan_windows({55: (155, 1), 20: (120, 1)}, others)
    assert [(w.start_from, w.start_to, sorted(w.run_ids)) for w in windows] == [
        (136, 160, [55]),
        (111, 135, [20]),
    ]


def test_workspace_key_hashes_the_credentials() -> None:
    key = workspace_key("https://ws.example", "pat", "dapi-secret-token")
    assert "dapi-secret-token" not in key
    assert key == workspace_key("https://ws.example", "pat", "dapi-secret-token")
    assert key != workspace_key("https://ws.example", "pat", "another-token")


def test_one_shared_poller_per_workspace_per_loop_logs_its_start(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> tuple[RunStatePoller, RunStatePoller, RunStatePoller]:
        first = shared_poller("https://ws.example#aaaa", FakeRunsClient)
        again = shared_poller("https://ws.example#aaaa", FakeRunsClient)
        other = shared_poller("https://other.example#bbbb", FakeRunsClient)
        return first, again, other

    with caplog.at_level(logging.INFO, logger="airflow_dbx_provider.triggers.poller"):
        first, again, other = asyncio.run(scenario())
    assert first is again and first is not other
    started = [r.getMessage() for r in caplog.records if "Started the shared" in r.getMessage()]
    assert len(started) == 2
    assert "https://ws.example" in started[0] and "aaaa" not in started[0]  # never the credential hash
