"""Time for simulated durations: real wall time, optionally sped up, and fakeable in tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Clock:
    """Wall-clock milliseconds for API fields, plus a scale for simulated durations.

    `time_scale=0.1` makes a simulated 10 s cluster start take 1 s of real time. `held()` stops
    the workspace's time for a moment, so a test can act and then read a transient state (a
    cluster PENDING right after create) however slow the machine; time resumes where it stood.
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self._hold_lock = threading.Lock()
        self._held_at: float | None = None  # wall seconds at which time stands while held
        self._lost = 0.0  # seconds spent held, so that time resumes without a jump

    def now_ms(self) -> int:
        held_at = self._held_at
        return int((held_at if held_at is not None else time.time() - self._lost) * 1000)

    def monotonic(self) -> float:
        return time.monotonic()

    def real_seconds(self, simulated_seconds: float) -> float:
        return simulated_seconds * self.time_scale

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._hold_lock:
            began = time.time()
            self._held_at = began - self._lost
        try:
            yield
        finally:
            with self._hold_lock:
                self._lost += time.time() - began
                self._held_at = None


class FakeClock(Clock):
    """A clock that only moves when told to (for model-level tests)."""

    def __init__(self, start_ms: int = 1_700_000_000_000, time_scale: float = 1.0) -> None:
        super().__init__(time_scale)
        self._now_ms = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return self._now_ms

    def monotonic(self) -> float:
        return self._now_ms / 1000

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now_ms += int(seconds * 1000)
