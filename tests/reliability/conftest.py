"""Fault campaign fixtures: the live emulator as ``databricks_default`` with short retry waits.

Retries really happen (real HTTP, real faults); only their *waits* are shortened: the connection
caps Retry-After at ``max_retry_after_seconds`` (a documented extra) and the jittered backoff of the
one shared tenacity policy is capped at 50 ms, so a campaign of thousands of requests stays fast.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_dbx_provider.hooks import core
from airflow_dbx_provider.hooks.rate_limit import reset_rate_limiters
from airflow_dbx_provider.hooks.retry import retry_policy
from tests.operators.support import install_notebooks, reset_db_once

FAST_EXTRAS = {"max_retry_after_seconds": 0.05, "retry_deadline_seconds": 60}


def connection_json(server: Any, **extra: Any) -> str:
    return json.dumps(
        {
            "conn_type": "dbx",
            "host": server.url,
            "password": server.admin_token,
            "extra": {**FAST_EXTRAS, **extra},
        }
    )


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "retry_policy", functools.partial(retry_policy, backoff_max=0.05))


@pytest.fixture
def workspace(dbx_emulator: Any, monkeypatch: pytest.MonkeyPatch, fast_retries: None) -> Iterator[Any]:
    """The session emulator (reset), as ``databricks_default``, with fresh client-side limiters."""
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", connection_json(dbx_emulator))
    install_notebooks(dbx_emulator.config.workspace_dir)
    reset_rate_limiters()
    yield dbx_emulator
    dbx_emulator.state.faults.reset()
    dbx_emulator.state.rate_limiter.reset()
    reset_rate_limiters()


@pytest.fixture
def airflow_workspace(workspace: Any) -> Any:
    reset_db_once()
    return workspace
