"""The request exchange as data: steps a transport-free flow yields, and the two drivers that run it.

A *flow* is a generator, in the pattern of httpx's ``Auth.auth_flow``: it yields what it needs
done (:class:`Send` this request, :class:`Sleep` this long, run a sub-flow :class:`Exclusive`-ly
under the hook's credential lock, :class:`Call` a blocking credential library) and receives the answer (a :class:`Response`, ``None``, the
sub-flow's value). Transport failures are thrown into the flow at the ``yield`` that caused them,
so retries, OAuth and error mapping are written once (``core.ClientCore``) and a driver is only
the loop that performs steps: :func:`drive` for ``requests`` and :func:`adrive` for ``httpx``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager, closing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airflow_dbx_provider.hooks.api import ApiRequest

T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    """Send ``request`` with ``headers``; answer with a :class:`Response` or raise a ``DbxError``."""

    request: ApiRequest
    headers: Mapping[str, str] = field(repr=False)  # carries the Authorization header


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` (a retry backoff or a rate-limiter delay); answer with ``None``."""

    seconds: float


@dataclass(frozen=True)
class Exclusive:
    """Run ``flow`` while holding the hook's credential lock; answer with its value.

    Concurrent callers that find the OAuth token expired fetch it once, not once each.
    """

    flow: Flow[Any]


@dataclass(frozen=True)
class Call:
    """Run a blocking ``fn`` (a credential library's token fetch, e.g. azure-identity); answer with
    its value. The blocking driver calls it; the asyncio driver runs it in a worker thread."""

    fn: Callable[[], Any]


@dataclass(frozen=True)
class Response:
    """What a transport hands back: status, headers (read, never logged) and the raw body."""

    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = b""


Step = Send | Sleep | Exclusive | Call
Flow = Generator[Step, Any, T]


def _advance(flow: Flow[Any], answer: Any, error: Exception | None) -> tuple[bool, Any]:
    """Hand ``flow`` the last step's answer (or throw its error in): ``(False, next step)``, or
    ``(True, the flow's value)`` once it returns. The one protocol both drivers share."""
    try:
        return False, (flow.throw(error) if error is not None else flow.send(answer))
    except StopIteration as stop:
        return True, stop.value


def drive(
    flow: Flow[T],
    send: Callable[[Send], Response],
    sleep: Callable[[float], None],
    lock: AbstractContextManager[Any],
) -> T:
    """Run ``flow`` to completion on a blocking transport."""
    with closing(flow):
        answer: Any = None
        error: Exception | None = None
        while True:
            done, step = _advance(flow, answer, error)
            if done:
                return step  # type: ignore[no-any-return]
            answer, error = None, None
            try:
                if isinstance(step, Send):
                    answer = send(step)
                elif isinstance(step, Sleep):
                    sleep(step.seconds)
                elif isinstance(step, Call):
                    answer = step.fn()
                else:
                    with lock:
                        answer = drive(step.flow, send, sleep, lock)
            except Exception as exc:  # handed to the flow, which retries, maps or re-raises it
                error = exc


async def adrive(
    flow: Flow[T],
    send: Callable[[Send], Awaitable[Response]],
    sleep: Callable[[float], Awaitable[None]],
    lock: AbstractAsyncContextManager[Any],
) -> T:
    """Run ``flow`` to completion on an asyncio transport (same loop as :func:`drive`)."""
    with closing(flow):
        answer: Any = None
        error: Exception | None = None
        while True:
            done, step = _advance(flow, answer, error)
            if done:
                return step  # type: ignore[no-any-return]
            answer, error = None, None
            try:
                if isinstance(step, Send):
                    answer = await send(step)
                elif isinstance(step, Sleep):
                    await sleep(step.seconds)
                elif isinstance(step, Call):
                    answer = await asyncio.to_thread(step.fn)
                else:
                    async with lock:
                        answer = await adrive(step.flow, send, sleep, lock)
            except Exception as exc:
                error = exc
