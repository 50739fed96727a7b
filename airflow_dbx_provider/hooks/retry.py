"""The one retry policy: a dict of tenacity arguments used by both ``Retrying`` and ``AsyncRetrying``.

Only ``sleep`` differs between the sync and the async hook. The policy reads our exception types
(``status_code``, ``retry_after``, ``request_sent``), never headers or message text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tenacity import RetryCallState, retry_if_exception, stop_before_delay, wait_exponential_jitter
from tenacity.wait import wait_base

from airflow_dbx_provider.exceptions import DatabricksApiError, DatabricksConnectionError

ALWAYS_RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENT_RETRY_STATUSES = frozenset({500, 502, 504})


def is_retryable(exc: BaseException, idempotent: bool) -> bool:
    """Decide whether resending is safe and useful.

    429/503 always (the server refused before doing work); 500/502/504 and post-send network
    failures only for idempotent calls; connect-phase failures always (the server never saw it).
    """
    if isinstance(exc, DatabricksApiError):
        status = exc.status_code or 0
        if status in ALWAYS_RETRY_STATUSES:
            return True
        return idempotent and status in IDEMPOTENT_RETRY_STATUSES
    if isinstance(exc, DatabricksConnectionError):
        return idempotent or not exc.request_sent
    return False


class wait_retry_after(wait_base):
    """Honour the server's ``Retry-After`` (capped), otherwise fall back to jittered backoff."""

    def __init__(self, cap: float, fallback: wait_base) -> None:
        self.cap = cap
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(min(max(retry_after, 0.0), self.cap))
        return float(self.fallback(retry_state))


def describe_failure(exc: BaseException | None) -> str:
    """Short reason for logs: status and error_code, or the exception class (never headers)."""
    if isinstance(exc, DatabricksApiError):
        return f"HTTP {exc.status_code} {exc.error_code or ''}".strip()
    if isinstance(exc, DatabricksConnectionError):
        return exc.reason or type(exc).__name__
    return type(exc).__name__ if exc is not None else "unknown"


def _before_sleep(log: logging.Logger, label: str) -> Callable[[RetryCallState], None]:
    def log_it(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "Databricks %s failed (%s), attempt %d; retrying in %.2fs",
            label,
            describe_failure(exc),
            state.attempt_number,
            wait,
        )

    return log_it


def retry_policy(
    *,
    idempotent: bool,
    deadline_seconds: float,
    max_retry_after_seconds: float,
    log: logging.Logger,
    label: str,
    backoff_max: float = 30.0,
) -> dict[str, Any]:
    """tenacity kwargs for one call; pass ``sleep=`` on top (fake in tests, asyncio in async)."""
    return {
        "retry": retry_if_exception(lambda exc: is_retryable(exc, idempotent)),
        "wait": wait_retry_after(
            max_retry_after_seconds, wait_exponential_jitter(multiplier=1, max=backoff_max, jitter=1)
        ),
        "stop": stop_before_delay(deadline_seconds),
        "before_sleep": _before_sleep(log, label),
        "reraise": True,
    }
