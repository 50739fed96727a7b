"""The official provider's argument conventions, read onto ours.

- ``json`` may be a mapping, a JSON string or a Python dict literal (what Jinja renders from an
  XCom dict); the named arguments override its top-level keys when they are not ``None``.
- ``databricks_retry_limit`` / ``databricks_retry_delay`` / ``databricks_retry_args`` describe a
  tenacity policy. Ours is deadline-based (``retry_deadline_seconds``, default 600 s, honouring
  ``Retry-After``, never resending a non-idempotent call blindly), so they are mapped onto that
  deadline: the official policy's total wait becomes the deadline when it is *longer* than the
  connection's; it never shortens it (set ``retry_deadline_seconds`` in ``hook_params`` or the
  connection for that). Which errors are retried stays ours to decide.
"""

from __future__ import annotations

import ast
import json as jsonlib
import logging
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from airflow_dbx_provider.exceptions import DatabricksConfigError, DatabricksJobSpecError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.runs.hook_mixin import DatabricksHookMixin

log = logging.getLogger(__name__)

#: tenacity arguments we read from ``databricks_retry_args``; the rest are ours to decide.
_READ_RETRY_ARGS = frozenset({"stop", "wait"})


def coerce_json(value: Any, what: str = "json") -> dict[str, Any]:
    """A rendered ``json`` argument as a dict: ``None``, a mapping, a JSON text or a dict literal."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            parsed = jsonlib.loads(value)
        except ValueError:
            try:
                parsed = ast.literal_eval(value)
            except (SyntaxError, ValueError, TypeError, MemoryError):
                raise DatabricksJobSpecError(
                    f"{what} must be a JSON object or a Python dict literal, got {value[:80]!r}", field=what
                ) from None
        if isinstance(parsed, Mapping):
            return dict(parsed)
        value = parsed
    raise DatabricksJobSpecError(f"{what} must be an object, got {type(value).__name__}", field=what)


def merge_named(json: Any, named: Mapping[str, Any]) -> dict[str, Any]:
    """``json`` with every named argument that is not ``None`` put over its top-level key."""
    merged = coerce_json(json)
    merged.update((key, value) for key, value in named.items() if value is not None)
    return merged


def official_retry_budget(
    limit: int | None, delay: float | None, args: Mapping[str, Any] | None
) -> float | None:
    """Seconds the official provider's retry policy could keep trying a call; None when not given.

    Its default policy: ``limit`` attempts, waits doubling from ``delay`` and capped at
    ``2 ** limit``. With ``databricks_retry_args``, a ``stop_after_delay``/``stop_before_delay``
    gives the budget directly and a ``stop_after_attempt(n)`` stands in for ``limit``.
    """
    if limit is None and delay is None and not args:
        return None
    attempts = 3 if limit is None else int(limit)
    if attempts < 1:
        raise DatabricksConfigError(f"databricks_retry_limit must be at least 1, got {limit!r}")
    first_wait = 1.0 if delay is None else float(delay)
    if first_wait < 0:
        raise DatabricksConfigError(f"databricks_retry_delay must not be negative, got {delay!r}")
    if args:
        stop = args.get("stop")
        max_delay = getattr(stop, "max_delay", None)
        if max_delay is not None:
            return float(max_delay)
        max_attempts = getattr(stop, "max_attempt_number", None)
        if max_attempts is not None:
            attempts = int(max_attempts)
    cap = float(2**attempts)
    return sum(min(first_wait * 2**k, cap) for k in range(attempts - 1))


class OfficialRetryArgsMixin(DatabricksHookMixin):
    """``databricks_retry_limit`` / ``_delay`` / ``_args`` on top of :class:`DatabricksHookMixin`.

    The class names the three arguments in its own ``__init__`` (so ``default_args`` reach them)
    and calls :meth:`_use_official_retry_args`.
    """

    databricks_retry_limit: int | None
    databricks_retry_delay: float | None
    databricks_retry_args: dict[Any, Any] | None

    def _use_official_retry_args(
        self, limit: int | None, delay: float | None, args: dict[Any, Any] | None
    ) -> None:
        official_retry_budget(limit, delay, args)  # bad values fail when the DAG is parsed
        self.databricks_retry_limit = limit
        self.databricks_retry_delay = delay
        self.databricks_retry_args = args

    @cached_property
    def hook(self) -> DatabricksHook:
        """The sync hook; an official retry budget longer than the connection's deadline extends it."""
        hook = DatabricksHook(self.databricks_conn_id, **self.hook_params)
        budget = official_retry_budget(
            self.databricks_retry_limit, self.databricks_retry_delay, self.databricks_retry_args
        )
        ignored = sorted(str(k) for k in (self.databricks_retry_args or {}) if k not in _READ_RETRY_ARGS)
        if ignored:
            log.info(
                "databricks_retry_args %s not used: which calls are retried is decided by error code and"
                " status (Retry-After honoured, non-idempotent calls never resent blindly)",
                ", ".join(ignored),
            )
        if budget is None or "retry_deadline_seconds" in self.hook_params:
            return hook
        if budget > hook.settings.retry_deadline_seconds:
            log.info("databricks_retry_* allow %.0fs of retries: using that as the retry deadline", budget)
            hook = DatabricksHook(
                self.databricks_conn_id, **{**self.hook_params, "retry_deadline_seconds": budget}
            )
        return hook
