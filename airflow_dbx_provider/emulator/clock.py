"""Time for simulated durations: real wall time, optionally sped up, and fakeable in tests."""

from __future__ import annotations

import threading
import time


class Clock:
    """Wall-clock milliseconds for API fields, plus a scale for simulated durations.

    `time_scale=0.1` makes a simulated 10 s cluster start take 1 s of real time.
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def monotonic(self) -> float:
        return time.monotonic()

    def real_seconds(self, simulated_seconds: float) -> float:
        return simulated_seconds * self.time_scale


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
