"""One polling loop per workspace per triggerer process, shared by every run trigger.

A trigger per run that calls ``runs/get`` every interval costs N requests per interval for N runs.
Here all triggers of one connection in one event loop register their run with a single poller,
which per interval reads the *active* runs in pages (``runs/list?active_only=true``, 25 a page; or
per job when that takes fewer requests) and calls ``runs/get`` only for watched runs missing from
that list, i.e. runs that ended (or are not listed as active yet). The detection latency is at most
one interval, the shortest interval any subscriber asked for.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_dbx_provider.exceptions import DatabricksNotFoundError, DbxError
from airflow_dbx_provider.runs.state import RunState
from airflow_dbx_provider.runs.summary import run_summary

log = logging.getLogger(__name__)

PAGE_SIZE = 25  # the runs/list maximum
GLOBAL_REFRESH_CYCLES = 30  # re-measure the global active count this often while polling per job


class RunsClient(Protocol):
    """What the poller needs from :class:`~airflow_dbx_provider.hooks.databricks_async.DatabricksAsyncHook`."""

    async def get_run(self, run_id: int) -> dict[str, Any]: ...

    async def list_runs_page(self, **kwargs: Any) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


@dataclass(eq=False)
class _Subscriber:
    interval: float
    future: asyncio.Future[dict[str, Any]]


@dataclass
class _Watched:
    job_id: int | None = None
    state: str | None = None
    subscribers: list[_Subscriber] = field(default_factory=list)


class RunStatePoller:
    """Coalesces the waits of many triggers on one workspace into one polling loop.

    :param client_factory: builds the async client on first use (closed when the last waiter leaves).
    :param max_failed_cycles: consecutive failed list cycles before every waiter gets the error.
    :param get_concurrency: parallel ``runs/get`` calls for runs that left the active list, and
        parallel per-job listings.
    """

    def __init__(
        self,
        client_factory: Callable[[], RunsClient],
        *,
        name: str = "",
        max_failed_cycles: int = 5,
        get_concurrency: int = 16,
    ) -> None:
        self.name = name
        self._client_factory = client_factory
        self._client: RunsClient | None = None
        self._watched: dict[int, _Watched] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._next_cycle_at = math.inf
        self._global_pages: int | None = None
        self._cycles_since_global = 0
        self.max_failed_cycles = max_failed_cycles
        self.get_concurrency = get_concurrency
        #: Requests made, by kind ("list", "get"), and cycles run: for tests and benchmarks.
        self.calls: Counter[str] = Counter()

    # ---- subscriber side ---------------------------------------------------------------------
    @property
    def watched_run_ids(self) -> set[int]:
        return set(self._watched)

    async def wait(self, run_id: int, *, job_id: int | None = None, interval: float = 30.0) -> dict[str, Any]:
        """Return the :func:`run_summary` of ``run_id`` once it is terminal (raises ``DbxError``)."""
        loop = asyncio.get_running_loop()
        sub = _Subscriber(interval=max(float(interval), 0.01), future=loop.create_future())
        watched = self._watched.setdefault(int(run_id), _Watched())
        if job_id is not None:
            watched.job_id = int(job_id)
        watched.subscribers.append(sub)
        self._ensure_running(sub.interval)
        try:
            return await sub.future
        finally:
            self._unsubscribe(int(run_id), sub)
            if not self._watched:
                await self._stop()

    def _unsubscribe(self, run_id: int, sub: _Subscriber) -> None:
        watched = self._watched.get(run_id)
        if watched is None:
            return
        if sub in watched.subscribers:
            watched.subscribers.remove(sub)
        if not watched.subscribers:
            del self._watched[run_id]

    def _ensure_running(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run(), name=f"dbx-run-poller-{self.name}")
        elif loop.time() + interval < self._next_cycle_at and self._wake is not None:
            self._wake.set()  # a subscriber wants a shorter interval than the current sleep

    async def _stop(self) -> None:
        task, self._task = self._task, None
        client, self._client = self._client, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if client is not None:
            try:
                await client.aclose()
            except Exception:  # closing must never mask the subscriber's outcome
                log.debug("closing the poller client failed", exc_info=True)

    # ---- polling side ------------------------------------------------------------------------
    def _interval(self) -> float:
        return min((s.interval for w in self._watched.values() for s in w.subscribers), default=1.0)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        failed_cycles = 0
        while self._watched:
            started = loop.time()
            try:
                await self.cycle()
                failed_cycles = 0
            except DbxError as err:
                failed_cycles += 1
                log.warning("Polling Databricks runs failed (%d in a row): %s", failed_cycles, err)
                if failed_cycles >= self.max_failed_cycles:
                    self._fail_all(err)
                    failed_cycles = 0
            self._next_cycle_at = started + self._interval()
            assert self._wake is not None
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, self._next_cycle_at - loop.time()))
            except TimeoutError:
                pass

    async def cycle(self) -> None:
        """One polling round: list active runs, then ``runs/get`` the watched runs not listed."""
        if not self._watched:
            return
        if self._client is None:
            self._client = self._client_factory()
        self.calls["cycles"] += 1
        watched = set(self._watched)
        active = await self._list_active(watched)
        for run_id in watched & active.keys():
            self._observe(run_id, active[run_id])
        missing = [run_id for run_id in watched if run_id not in active]
        if missing:
            limit = asyncio.Semaphore(self.get_concurrency)
            await asyncio.gather(*(self._check(run_id, limit) for run_id in missing))

    async def _list_active(self, watched: set[int]) -> dict[int, dict[str, Any]]:
        jobs = {self._watched[r].job_id for r in watched if r in self._watched}
        use_per_job = (
            None not in jobs
            and self._global_pages is not None
            and len(jobs) < self._global_pages
            and self._cycles_since_global < GLOBAL_REFRESH_CYCLES
        )
        if use_per_job:
            self._cycles_since_global += 1
            limit = asyncio.Semaphore(self.get_concurrency)

            async def list_job(job_id: int) -> dict[int, dict[str, Any]]:
                async with limit:
                    return await self._list_pages(job_id=job_id)

            # one page chain per job, side by side: the cycle lasts as long as the longest chain
            listed = await asyncio.gather(*(list_job(j) for j in sorted(j for j in jobs if j is not None)))
            return {run_id: run for found in listed for run_id, run in found.items()}
        self._cycles_since_global = 0
        return await self._list_pages(job_id=None, stop_when_seen=watched)

    async def _list_pages(
        self, *, job_id: int | None, stop_when_seen: set[int] | None = None
    ) -> dict[int, dict[str, Any]]:
        assert self._client is not None
        found: dict[int, dict[str, Any]] = {}
        token: str | None = None
        pages = 0
        while True:
            page = await self._client.list_runs_page(
                job_id=job_id, active_only=True, limit=PAGE_SIZE, page_token=token
            )
            self.calls["list"] += 1
            pages += 1
            for run in page.get("runs") or []:
                found[int(run["run_id"])] = run
            token = page.get("next_page_token")
            if not token:
                break
            if stop_when_seen is not None and stop_when_seen <= found.keys():
                break  # every watched run is still active: the rest of the list cannot matter
        if job_id is None:
            self._global_pages = max(1, pages)
        return found

    async def _check(self, run_id: int, limit: asyncio.Semaphore) -> None:
        assert self._client is not None
        async with limit:
            try:
                run = await self._client.get_run(run_id)
            except DatabricksNotFoundError as err:
                self._resolve(run_id, error=err)
                return
            except DbxError as err:
                log.warning("runs/get %s failed, will retry next cycle: %s", run_id, err)
                return
            finally:
                self.calls["get"] += 1
        self._observe(run_id, run)
        if RunState.of_run(run).is_terminal:
            self._resolve(run_id, summary=run_summary(run))

    def _observe(self, run_id: int, run: dict[str, Any]) -> None:
        watched = self._watched.get(run_id)
        if watched is None:
            return
        if run.get("job_id") is not None:
            watched.job_id = int(run["job_id"])
        state = str(RunState.of_run(run))
        if state != watched.state:
            log.info("Databricks run %s is %s (%s)", run_id, state, run.get("run_page_url"))
            watched.state = state

    def _resolve(
        self, run_id: int, *, summary: dict[str, Any] | None = None, error: BaseException | None = None
    ) -> None:
        watched = self._watched.get(run_id)
        for sub in list(watched.subscribers if watched else []):
            if sub.future.done():
                continue
            if error is not None:
                sub.future.set_exception(error)
            else:
                sub.future.set_result(dict(summary or {}))

    def _fail_all(self, error: BaseException) -> None:
        for run_id in list(self._watched):
            self._resolve(run_id, error=error)


_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, RunStatePoller]] = (
    weakref.WeakKeyDictionary()
)


def shared_poller(key: str, client_factory: Callable[[], RunsClient]) -> RunStatePoller:
    """The poller of workspace ``key`` in the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    pollers = _POLLERS.setdefault(loop, {})
    poller = pollers.get(key)
    if poller is None:
        poller = pollers[key] = RunStatePoller(client_factory, name=key)
    return poller
