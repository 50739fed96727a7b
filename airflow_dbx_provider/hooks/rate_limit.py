"""Process-wide client-side rate limiting: one token bucket per workspace host.

All hooks (sync and async, every task in the process) talking to one workspace share a bucket, so
a burst of triggers cannot exceed the configured requests/s. The bucket only computes how long a
caller must wait; the caller sleeps (``time.sleep`` or ``asyncio.sleep``), so one lock-protected
implementation serves both worlds. On a 429 the rate halves (AIMD) and then recovers additively.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MIN_RATE = 1.0


class TokenBucket:
    """A reservation-style token bucket; ``reserve()`` returns the seconds to wait before sending."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.max_rate = float(rate)
        self.rate = float(rate)
        self._tokens = float(rate)  # allow a one-second burst
        self._stamp = clock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.rate, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self) -> float:
        """Take one token (possibly on credit) and return how long to wait before using it."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate

    def on_throttled(self) -> None:
        """The server said 429: halve the rate (not below ``MIN_RATE``)."""
        with self._lock:
            self._refill(self._clock())
            self.rate = max(MIN_RATE, self.rate / 2.0)
            self._tokens = min(self._tokens, self.rate)

    def on_success(self) -> None:
        """Additive increase back towards the configured rate."""
        with self._lock:
            if self.rate < self.max_rate:
                self.rate = min(self.max_rate, self.rate + max(0.1, self.max_rate / 100.0))

    def configure(self, rate: float) -> None:
        """Lower the ceiling when a hook asks for less than the current one (never raise it)."""
        with self._lock:
            if rate < self.max_rate:
                self.max_rate = float(rate)
                self.rate = min(self.rate, self.max_rate)


_buckets: dict[str, TokenBucket] = {}
_registry_lock = threading.Lock()


def bucket_for(host: str, rate: float) -> TokenBucket:
    """The shared bucket for ``host``; the lowest requested rate wins."""
    with _registry_lock:
        bucket = _buckets.get(host)
        if bucket is None:
            bucket = _buckets[host] = TokenBucket(rate)
        else:
            bucket.configure(rate)
        return bucket


def reset_rate_limiters() -> None:
    """Forget every bucket (tests and benchmarks)."""
    with _registry_lock:
        _buckets.clear()
