"""One polling loop per workspace per triggerer process, shared by every run trigger.

A trigger per run that calls ``runs/get`` every interval costs N requests per interval for N runs.
Here all triggers watching one workspace (same host and credentials, whatever their connection id)
register their run with one poller. Each cycle reads ``runs/list`` (25 runs a page, with
``expand_tasks=true``), and the listing answers both questions: which runs still run, and how each
finished run ended, tasks included. Nothing else is called while the listing can answer:

- A run whose ``start_time`` is known is read through a *time window*: the watched runs, ordered by
  start time, are cut into groups of 25, and each group is one ``runs/list`` call bounded by
  ``start_time_from``/``start_time_to`` (and ``job_id`` when the group is of one job), with no
  active/completed filter, so a run that ended since the last cycle is still listed, with its final
  state. Windows are independent requests: they are read side by side, so a cycle lasts about one
  round trip, not pages x round trip. N watched runs cost ``ceil(N / 25)`` calls a cycle.
- A run never seen yet is looked for in the active runs (``active_only=true``, newest first,
  stopping once every new run was seen): new runs are the newest, so this is usually one page.
- ``runs/get`` only for a run the listing could not answer: not listed (it ended before it was
  first seen, or was deleted), or listed as finished with more tasks than the list item carries.

Progress (the run's and each task's state) goes to each waiter's ``on_progress`` callback from the
listing items, at no extra call. Callbacks run in the waiter's own task, so a trigger's lines reach
its own task log; the polling loop runs in a fresh context, bound to no trigger.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import os
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_dbx_provider.exceptions import (
    DatabricksInvalidParameterError,
    DatabricksNotFoundError,
    DatabricksPermissionDeniedError,
    DbxError,
)
from airflow_dbx_provider.runs.state import RunState
from airflow_dbx_provider.runs.summary import run_summary
from airflow_dbx_provider.triggers.windows import (
    PAGE_SIZE,
    Window,
    needs_full_run,
    plan_windows,
    progress_signature,
    workspace_key,
)

log = logging.getLogger(__name__)

LIST_CONCURRENCY = 32  # windows read side by side (the async hook pools 32 connections)
GET_CONCURRENCY = 16


class RunsClient(Protocol):
    """What the poller needs from :class:`~airflow_dbx_provider.hooks.databricks_async.DatabricksAsyncHook`."""

    async def get_run(self, run_id: int) -> dict[str, Any]: ...

    async def list_runs_page(self, **kwargs: Any) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass(eq=False)
class _Subscriber:
    interval: float
    queue: asyncio.Queue[tuple[str, Any]]
    wants_progress: bool


@dataclass
class _Watched:
    job_id: int | None = None
    start_time: int | None = None
    signature: tuple[Any, ...] | None = None
    last_view: dict[str, Any] | None = None
    subscribers: list[_Subscriber] = field(default_factory=list)


class RunStatePoller:
    """Coalesces the waits of many triggers on one workspace into one polling loop.

    :param client_factory: builds the async client on first use (closed when the last waiter leaves).
    :param max_failed_cycles: consecutive failed cycles before every waiter gets the error.
    """

    def __init__(
        self,
        client_factory: Callable[[], RunsClient],
        *,
        name: str = "",
        max_failed_cycles: int = 5,
        list_concurrency: int = LIST_CONCURRENCY,
        get_concurrency: int = GET_CONCURRENCY,
    ) -> None:
        self.name = name
        self._client_factory = client_factory
        self._client: RunsClient | None = None
        self._watched: dict[int, _Watched] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._next_cycle_at = math.inf
        self._unlistable_jobs: set[int] = set()  # jobs runs/list refuses (one-time runs' jobs)
        self._others: dict[int, int] = {}  # start times of listed runs nobody watches (last cycle)
        self.max_failed_cycles = max_failed_cycles
        self.list_concurrency = list_concurrency
        self.get_concurrency = get_concurrency
        #: Requests made, by kind ("list", "get"; "list_window", "list_active"), cycles run, and the
        #: floor: the sum over cycles of ceil(watched runs / 25), for tests and benchmarks.
        self.calls: Counter[str] = Counter()

    # ---- subscriber side ---------------------------------------------------------------------
    @property
    def watched_run_ids(self) -> set[int]:
        return set(self._watched)

    async def wait(
        self,
        run_id: int,
        *,
        job_id: int | None = None,
        interval: float = 30.0,
        on_progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        """Return the :func:`run_summary` of ``run_id`` once it is terminal (raises ``DbxError``).

        ``on_progress`` gets the run (a list item or ``runs/get`` answer) each time its state or a
        task's state changes, called from this coroutine.
        """
        loop = asyncio.get_running_loop()
        sub = _Subscriber(max(float(interval), 0.01), asyncio.Queue(), on_progress is not None)
        watched = self._watched.setdefault(int(run_id), _Watched())
        if job_id is not None and watched.job_id is None:
            watched.job_id = int(job_id)
        watched.subscribers.append(sub)
        if on_progress is not None and watched.last_view is not None:
            sub.queue.put_nowait(("progress", watched.last_view))
        self._ensure_running(loop, sub.interval)
        try:
            while True:
                kind, value = await sub.queue.get()
                if kind == "progress" and on_progress is not None:
                    on_progress(value)
                elif kind == "error":
                    raise value
                elif kind == "done":
                    return dict(value)
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

    def _ensure_running(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            # a fresh context: the loop must not log into the task log of the trigger that started it
            self._task = loop.create_task(
                self._run(), name=f"dbx-run-poller-{self.name}", context=contextvars.Context()
            )
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
        """One polling round: the windows and the new runs' search side by side, then the gets.

        Each listing is acted on as soon as it arrives, not once the slowest window is back: a
        run that ended is reported after its own window's round trip, not the whole cycle's.
        """
        if not self._watched:
            return
        if self._client is None:
            self._client = self._client_factory()
        self.calls["cycles"] += 1
        watched = set(self._watched)
        self.calls["floor"] += math.ceil(len(watched) / PAGE_SIZE)  # the least any listing could cost
        known = {
            r: (w.start_time, w.job_id) for r in watched if (w := self._watched[r]).start_time is not None
        }
        unknown = watched - known.keys()
        limit = asyncio.Semaphore(self.list_concurrency)
        # Oldest window first: the server answers in about the order it is asked, and the runs that
        # started first are the likeliest to have ended (a fan-out of similar runs ends in start order).
        windows = plan_windows(known, self._others, no_filter_jobs=self._unlistable_jobs)
        reads: list[tuple[Iterable[int], Awaitable[dict[int, dict[str, Any]]]]] = [
            (w.run_ids, self._read_window(w, limit)) for w in reversed(windows)
        ]
        if unknown:
            reads.append((unknown, self._find_active(unknown, limit)))
        listed: dict[int, dict[str, Any]] = {}
        answered: set[int] = set()  # observed from a listing this cycle
        unread: set[int] = set()  # in a window that failed: asked again next cycle, not with gets

        async def settle(run_ids: Iterable[int], read: Awaitable[dict[int, dict[str, Any]]]) -> None:
            try:
                found = await read
            except DbxError:
                unread.update(run_ids)
                raise
            listed.update(found)
            for run_id, run in found.items():
                if run_id in watched and run_id not in answered and not needs_full_run(run):
                    answered.add(run_id)
                    self._observe(run_id, run)

        results = await asyncio.gather(*(settle(*read) for read in reads), return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        for fatal in (err for err in errors if not isinstance(err, DbxError)):
            raise fatal
        # what the windows will also meet next cycle (runs resolved now included)
        self._others = {
            r: run["start_time"] for r, run in listed.items() if isinstance(run.get("start_time"), int)
        }
        # not listed (ended before first seen, or deleted), or listed without all its tasks; a
        # waiter that left meanwhile costs nothing
        to_get = [r for r in watched - answered - unread if r in self._watched]
        if to_get:
            gets = asyncio.Semaphore(self.get_concurrency)
            await asyncio.gather(*(self._check(run_id, gets) for run_id in to_get))
        if errors:
            raise errors[0]

    async def _list(self, kind: str, **params: Any) -> dict[str, Any]:
        assert self._client is not None
        try:
            return await self._client.list_runs_page(limit=PAGE_SIZE, expand_tasks=True, **params)
        finally:
            self.calls["list"] += 1
            self.calls[kind] += 1

    async def _read_window(self, window: Window, limit: asyncio.Semaphore) -> dict[int, dict[str, Any]]:
        """Every run of ``window`` (active or not): one call unless other runs started in between."""
        found: dict[int, dict[str, Any]] = {}
        token: str | None = None
        job_id = window.job_id
        async with limit:
            while True:
                try:
                    page = await self._list(
                        "list_window",
                        job_id=job_id,
                        start_time_from=window.start_from,
                        start_time_to=window.start_to,
                        page_token=token,
                    )
                except (
                    DatabricksInvalidParameterError,
                    DatabricksNotFoundError,
                    DatabricksPermissionDeniedError,
                ):
                    if job_id is None:
                        raise
                    # one-time runs carry a job_id that runs/list may not accept: list by time only
                    self._unlistable_jobs.add(job_id)
                    job_id, token, found = None, None, {}
                    continue
                for run in page.get("runs") or []:
                    found[int(run["run_id"])] = run
                token = page.get("next_page_token")
                if not token or window.run_ids <= found.keys():
                    return found

    async def _find_active(self, new: set[int], limit: asyncio.Semaphore) -> dict[int, dict[str, Any]]:
        """Active runs, newest first, until every run of ``new`` was seen (or the list ends)."""
        found: dict[int, dict[str, Any]] = {}
        token: str | None = None
        async with limit:
            while True:
                page = await self._list("list_active", active_only=True, page_token=token)
                for run in page.get("runs") or []:
                    found[int(run["run_id"])] = run
                token = page.get("next_page_token")
                if not token or new <= found.keys():
                    return found

    async def _check(self, run_id: int, limit: asyncio.Semaphore) -> None:
        """``runs/get``: for a run the listing could not answer."""
        assert self._client is not None
        async with limit:
            try:
                run = await self._client.get_run(run_id)
            except DatabricksNotFoundError as err:
                self._resolve(run_id, "error", err)
                return
            except DbxError as err:
                log.warning("runs/get %s failed, will retry next cycle: %s", run_id, err)
                return
            finally:
                self.calls["get"] += 1
        self._observe(run_id, run)

    def _observe(self, run_id: int, run: dict[str, Any]) -> None:
        """Record a view of a run: remember where to find it, tell waiters what changed, resolve."""
        watched = self._watched.get(run_id)
        if watched is None:
            return
        if run.get("run_type") not in (None, "JOB_RUN"):
            watched.job_id = None  # a one-time run's job_id names no job that runs/list can filter on
        elif run.get("job_id") is not None:
            watched.job_id = int(run["job_id"])
        start = run.get("start_time")
        if isinstance(start, int) and start > 0:
            watched.start_time = start
        signature = progress_signature(run)
        if signature != watched.signature:
            log.debug("Databricks run %s is %s", run_id, signature[0])
            watched.signature = signature
            watched.last_view = run
            for sub in watched.subscribers:
                if sub.wants_progress:
                    sub.queue.put_nowait(("progress", run))
        if RunState.of_run(run).is_terminal:
            self._resolve(run_id, "done", run_summary(run))

    def _resolve(self, run_id: int, kind: str, value: Any) -> None:
        watched = self._watched.get(run_id)
        for sub in list(watched.subscribers if watched else []):
            sub.queue.put_nowait((kind, value))

    def _fail_all(self, error: BaseException) -> None:
        for run_id in list(self._watched):
            self._resolve(run_id, "error", error)


_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, RunStatePoller]] = (
    weakref.WeakKeyDictionary()
)


__all__ = ["RunStatePoller", "Window", "plan_windows", "shared_poller", "workspace_key"]


def shared_poller(key: str, client_factory: Callable[[], RunsClient]) -> RunStatePoller:
    """The poller of workspace ``key`` (see :func:`workspace_key`) in the running event loop."""
    loop = asyncio.get_running_loop()
    pollers = _POLLERS.setdefault(loop, {})
    poller = pollers.get(key)
    if poller is None:
        poller = pollers[key] = RunStatePoller(client_factory, name=key.split("#", 1)[0])
        # one line per workspace per triggerer process: how a deployment checks the coalescing
        log.info("Started the shared Databricks run poller for %s (pid %d)", poller.name, os.getpid())
    return poller
