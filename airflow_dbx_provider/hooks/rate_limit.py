"""Process-wide client-side rate limiting: one token bucket per (workspace host, endpoint family).

The families and their default rates are :mod:`airflow_dbx_provider.api_families`, the table the
emulator enforces too. All hooks (sync and async, every task in the process) talking to one
workspace share the buckets. A bucket only computes how long a caller must wait; the exchange
turns that into a sleep step (``core.ClientCore._send_flow``), so it serves both hooks.
On a 429 the family's rate halves (AIMD) and then recovers additively.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from airflow_dbx_provider.api_families import FAMILY_RATES, rate_of
from airflow_dbx_provider.api_families import family_of as endpoint_family

__all__ = ["FAMILY_RATES", "TokenBucket", "bucket_for", "endpoint_family", "reset_rate_limiters"]

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
        if self.rate >= self.max_rate:  # the common case, decided without the lock
            return
        with self._lock:
            if self.rate < self.max_rate:
                self.rate = min(self.max_rate, self.rate + max(0.1, self.max_rate / 100.0))

    def configure(self, rate: float) -> None:
        """Lower the ceiling when a hook asks for less than the current one (never raise it)."""
        with self._lock:
            if rate < self.max_rate:
                self.max_rate = float(rate)
                self.rate = min(self.rate, self.max_rate)


# The clock new shared buckets read; tests swap it to step time instead of waiting on it.
bucket_clock: Callable[[], float] = time.monotonic
_buckets: dict[tuple[str, str], TokenBucket] = {}
_registry_lock = threading.Lock()
_generation = 0  # bumped by reset_rate_limiters(), so callers may cache the buckets they got


def generation() -> int:
    """Changes whenever the registry is reset: a cached bucket from another generation is stale."""
    return _generation


def bucket_for(host: str, family: str, rate_override: float | None = None) -> TokenBucket:
    """The shared bucket of ``family`` on ``host``.

    Its rate is the family's published default, or ``rate_override`` (the connection's
    ``requests_per_second``) for every family: users who know their workspace's limits may set
    them higher or lower. Hooks sharing a bucket get the lowest rate any of them asked for.
    """
    rate = rate_of(family) if rate_override is None else rate_override
    with _registry_lock:
        bucket = _buckets.get((host, family))
        if bucket is None:
            bucket = _buckets[(host, family)] = TokenBucket(rate, clock=bucket_clock)
        else:
            bucket.configure(rate)
        return bucket


def reset_rate_limiters() -> None:
    """Forget every bucket (tests and benchmarks)."""
    global _generation
    with _registry_lock:
        _buckets.clear()
        _generation += 1
