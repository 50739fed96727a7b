"""Clocks for live-emulator tests that must see a transient state before simulated time moves on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from airflow_dbx_provider.emulator.clock import Clock


class HoldableClock(Clock):
    """Wall time, except while held: then the emulator's time stands still.

    A test holds it around "act, then read the transient state" (a cluster PENDING right after
    create), so a slow machine cannot let the transition happen in between. On release time
    resumes from where it stood, as if the hold never happened.
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        super().__init__(time_scale)
        self._lock = threading.Lock()
        self._held_at: float | None = None
        self._lost = 0.0  # seconds spent held, subtracted from the wall clock

    def _now(self) -> float:
        with self._lock:
            return self._held_at if self._held_at is not None else time.time() - self._lost

    def now_ms(self) -> int:
        return int(self._now() * 1000)

    def monotonic(self) -> float:
        return self._now()

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            started, self._held_at = time.time(), time.time() - self._lost
        try:
            yield
        finally:
            with self._lock:
                self._lost += time.time() - started
                self._held_at = None
