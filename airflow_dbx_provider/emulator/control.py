"""Test controls around the API: request counters, fault injection and rate limiting.

These sit in front of the route table (see app.py), so every family gets them for free and
tests steer them through `/_emulator/*` (admin.py) or the `EmulatorServer` object.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter as _Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_dbx_provider.api_families import family_of
from airflow_dbx_provider.emulator.errors import EmulatorError, rate_limited

FAULT_KINDS = ("500", "503", "429", "reset", "slow")
DEFAULT_SLOW_SECONDS = 2.0


def limit_family(family: str, method: str, template: str) -> str:
    """The rate-limit family of a call, from the table the hooks share (``api_families.py``)."""
    return family_of(method, template)


class Counters:
    """Request counts per (method, endpoint template, status) plus named event counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: _Counter[tuple[str, str, int]] = _Counter()
        self._events: _Counter[str] = _Counter()
        self._gauges: dict[str, Callable[[], int]] = {}

    def record(self, method: str, template: str, family: str, status: int | str) -> None:
        with self._lock:
            self._requests[(method, template, int(status) if str(status).isdigit() else 0)] += 1

    def incr(self, event: str, amount: int = 1) -> None:
        with self._lock:
            self._events[event] += amount

    def register_gauge(self, name: str, read: Callable[[], int]) -> None:
        """A value computed on demand (e.g. active runs), reported by `snapshot()`."""
        self._gauges[name] = read

    def requests_to(self, template: str, method: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (m, t, _), n in self._requests.items()
                if t == template and (method is None or m == method)
            )

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            requests: dict[str, dict[str, int]] = {}
            for (method, template, status), n in sorted(self._requests.items()):
                requests.setdefault(f"{method} {template}", {})[str(status)] = n
            result: dict[str, Any] = {"requests": requests, "total_requests": sum(self._requests.values())}
            result.update(self._events)
        for name, read in self._gauges.items():
            result[name] = read()
        result.setdefault("runs_created", 0)
        return result

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._events.clear()


@dataclass
class FaultAction:
    """What to do to one request instead of (or before) answering it."""

    error: EmulatorError | None = None
    delay_seconds: float = 0.0
    reset_connection: bool = False
    kind: str = ""


def _matches(target: str, method: str, template: str, family: str) -> bool:
    if target in ("*", family, limit_family(family, method, template)):
        return True
    target = target.strip("/")
    if " " in target:  # "GET jobs/runs/get"
        want_method, _, target = target.partition(" ")
        if want_method.upper() != method:
            return False
    return (
        template.strip("/") == target
        or template.strip("/").endswith("/" + target)
        or (template.strip("/") == "jobs/" + target)
    )


def _action(kind: str, slow_seconds: float) -> FaultAction:
    if kind == "500":
        return FaultAction(
            EmulatorError("INTERNAL_ERROR", "Unexpected error occurred (injected fault).", 500), kind=kind
        )
    if kind == "503":
        return FaultAction(
            EmulatorError(
                "TEMPORARILY_UNAVAILABLE",
                "The service is temporarily unavailable (injected fault).",
                503,
                headers={"Retry-After": "1"},
            ),
            kind=kind,
        )
    if kind == "429":
        return FaultAction(
            EmulatorError(
                "REQUEST_LIMIT_EXCEEDED",
                "Too many requests (injected fault). Please wait a moment and try again.",
                429,
                headers={"Retry-After": "1"},
            ),
            kind=kind,
        )
    if kind == "reset":
        return FaultAction(reset_connection=True, kind=kind)
    if kind == "slow":
        return FaultAction(delay_seconds=slow_seconds, kind=kind)
    raise EmulatorError(
        "INVALID_PARAMETER_VALUE", f"Unknown fault kind {kind!r}; use one of {FAULT_KINDS}", 400
    )


class FaultInjector:
    """Random faults per family and scripted ones ("the next 3 calls to runs/get get 503").

    Targets are a route family ("jobs", "clusters"), a rate-limit family ("runs_read"), an
    endpoint ("runs/get", "GET jobs/runs/get") or "*". Scripted faults win over random ones.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._probabilities: dict[str, dict[str, float]] = {}
        self._scripted: list[tuple[str, list[str]]] = []
        self.slow_seconds = DEFAULT_SLOW_SECONDS
        self.injected = 0

    def set_probability(self, target: str, kind: str, probability: float) -> None:
        _action(kind, 0)  # validates the kind
        if not 0.0 <= probability <= 1.0:
            raise EmulatorError("INVALID_PARAMETER_VALUE", "probability must be within [0, 1]", 400)
        with self._lock:
            self._probabilities.setdefault(target, {})[kind] = probability

    def script(self, target: str, kinds: list[str]) -> None:
        """The next calls matching `target` get these faults in order ("ok" lets one through)."""
        for kind in kinds:
            if kind != "ok":
                _action(kind, 0)
        with self._lock:
            self._scripted.append((target, list(kinds)))

    def fail_next(self, target: str, kind: str, count: int = 1) -> None:
        self.script(target, [kind] * count)

    def before_request(self, method: str, template: str, family: str) -> FaultAction | None:
        with self._lock:
            for index, (target, kinds) in enumerate(self._scripted):
                if kinds and _matches(target, method, template, family):
                    kind = kinds.pop(0)
                    if not kinds:
                        del self._scripted[index]
                    if kind == "ok":
                        return None
                    self.injected += 1
                    return _action(kind, self.slow_seconds)
            for target, kinds_p in self._probabilities.items():
                if not _matches(target, method, template, family):
                    continue
                for kind, probability in kinds_p.items():
                    if probability and self._random.random() < probability:
                        self.injected += 1
                        return _action(kind, self.slow_seconds)
        return None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "probabilities": {k: dict(v) for k, v in self._probabilities.items()},
                "scripted": [{"target": t, "sequence": list(k)} for t, k in self._scripted],
                "slow_seconds": self.slow_seconds,
                "injected": self.injected,
            }

    def reset(self) -> None:
        with self._lock:
            self._probabilities.clear()
            self._scripted.clear()
            self.slow_seconds = DEFAULT_SLOW_SECONDS
            self.injected = 0


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> float:
        """0 if a token was taken, else the seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    """Token buckets per rate-limit family (requests/s, burst of one second's worth)."""

    def __init__(self, rate_limits: dict[str, float], enabled: bool = True) -> None:
        self._lock = threading.Lock()
        self._initial = (dict(rate_limits), enabled)
        self.rate_limits = dict(rate_limits)
        self.enabled = enabled
        self._buckets: dict[str, _Bucket] = {}

    def configure(self, rate_limits: dict[str, float] | None = None, enabled: bool | None = None) -> None:
        with self._lock:
            if rate_limits is not None:
                self.rate_limits.update(rate_limits)
                for name in rate_limits:
                    self._buckets.pop(name, None)
            if enabled is not None:
                self.enabled = enabled

    def check(self, family: str, method: str, template: str) -> None:
        """Raise 429 REQUEST_LIMIT_EXCEEDED with an integer Retry-After when the bucket is empty."""
        if not self.enabled:
            return
        name = limit_family(family, method, template)
        rate = self.rate_limits.get(name, 0.0)
        if rate <= 0:
            return
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None or bucket.rate != rate:
                bucket = self._buckets[name] = _Bucket(rate)
            wait = bucket.take()
        if wait > 0:
            raise rate_limited(max(1, math.ceil(wait)), name)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"enabled": self.enabled, "rate_limits": dict(self.rate_limits)}

    def reset(self) -> None:
        """Back to the configured limits with full buckets."""
        with self._lock:
            self.rate_limits = dict(self._initial[0])
            self.enabled = self._initial[1]
            self._buckets.clear()
