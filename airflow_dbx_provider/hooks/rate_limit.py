"""Process-wide client-side rate limiting: one token bucket per (workspace host, endpoint family).

Databricks limits requests per endpoint family (runs/get ~100/s, jobs/create 20/s, DBFS 30/s, ...;
see databricks-api.md §9), so one bucket per family lets a burst of ``runs/get`` polls go at the
runs-read rate without eating the budget of ``runs/submit`` or DBFS uploads. The families mirror
the emulator's (``emulator/control.py``). All hooks (sync and async, every task in the process)
talking to one workspace share the buckets. A bucket only computes how long a caller must wait;
the caller sleeps (``time.sleep`` or ``asyncio.sleep``), so one lock-protected implementation
serves both worlds. On a 429 the family's rate halves (AIMD) and then recovers additively.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MIN_RATE = 1.0

#: Requests/s per endpoint family: the published figures where there are some (§9, unverified),
#: else the emulator's default, else 30 (the former single per-host default).
FAMILY_RATES: dict[str, float] = {
    "runs_read": 100.0,  # runs/get, runs/list, runs/get-output
    "runs_submit": 35.0,  # runs/submit, run-now
    "runs_write": 30.0,  # runs/cancel, cancel-all, delete, repair
    "jobs": 20.0,  # jobs/create, reset, update, delete
    "jobs_read": 30.0,  # jobs/get, jobs/list
    "clusters": 50.0,
    "dbfs": 30.0,
    "secrets": 50.0,
    "workspace": 60.0,
    "permissions": 100.0,
    "other": 30.0,  # SCIM, OAuth token endpoints, anything not listed
}


def endpoint_family(method: str, path: str) -> str:
    """The rate-limit family of ``method path`` (``path`` like ``/api/2.2/jobs/runs/get``)."""
    parts = path.strip("/").split("/", 3)  # "api", version, service, action
    if len(parts) < 3 or parts[0] != "api":
        return "other"
    service, action = parts[2], parts[3] if len(parts) > 3 else ""
    if service == "jobs":
        if action in ("run-now", "runs/submit"):
            return "runs_submit"
        if action.startswith("runs/"):
            return "runs_read" if method == "GET" else "runs_write"
        return "jobs_read" if method == "GET" else "jobs"
    return service if service in FAMILY_RATES else "other"


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


_buckets: dict[tuple[str, str], TokenBucket] = {}
_registry_lock = threading.Lock()


def bucket_for(host: str, family: str, rate_override: float | None = None) -> TokenBucket:
    """The shared bucket of ``family`` on ``host``.

    Its rate is the family's published default, or ``rate_override`` (the connection's
    ``requests_per_second``) for every family: users who know their workspace's limits may set
    them higher or lower. Hooks sharing a bucket get the lowest rate any of them asked for.
    """
    rate = FAMILY_RATES.get(family, FAMILY_RATES["other"]) if rate_override is None else rate_override
    with _registry_lock:
        bucket = _buckets.get((host, family))
        if bucket is None:
            bucket = _buckets[(host, family)] = TokenBucket(rate)
        else:
            bucket.configure(rate)
        return bucket


def reset_rate_limiters() -> None:
    """Forget every bucket (tests and benchmarks)."""
    with _registry_lock:
        _buckets.clear()
