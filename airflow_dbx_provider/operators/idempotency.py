"""Idempotency tokens that make a task instance start at most one live Databricks run.

Databricks answers a submit/run-now that repeats an ``idempotency_token`` with the run it already
started, so a retried try, a crashed worker or a restarted scheduler re-attaches instead of
launching a duplicate. Generation ``n > 0`` tokens are for relaunching after a failed run.
"""

from __future__ import annotations

import hashlib

from airflow_dbx_provider.operators.job_spec import MAX_IDEMPOTENCY_TOKEN_LENGTH

_PREFIX = "airflow-"


def _digest(*parts: object) -> str:
    raw = "\x1f".join(str(p) for p in parts).encode()
    return hashlib.sha256(raw).hexdigest()


def base_token(dag_id: str, task_id: str, run_id: str, map_index: int | None) -> str:
    """The token of a task instance's first run (same for every try of that task instance)."""
    token = _PREFIX + _digest("dbx-run", dag_id, task_id, run_id, -1 if map_index is None else map_index)
    return token[:MAX_IDEMPOTENCY_TOKEN_LENGTH]


def generation_token(base: str, generation: int) -> str:
    """Token of the ``generation``-th run of a task instance (0 = ``base`` itself)."""
    if generation <= 0:
        return base
    return (_PREFIX + _digest("dbx-relaunch", base, generation))[:MAX_IDEMPOTENCY_TOKEN_LENGTH]
