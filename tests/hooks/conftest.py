"""Fixtures for hook tests: a live scripted server, fake sleeps, and sync/async clients side by side."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

if "AIRFLOW_HOME" not in os.environ:  # the suite-wide conftest normally sets these
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="dbx-hook-tests-")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from hook_test_server import TOKEN, ScriptedServer

from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.hooks.rate_limit import reset_rate_limiters


@pytest.fixture(scope="session")
def _session_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.stop()


@pytest.fixture
def server(_session_server: ScriptedServer) -> Iterator[ScriptedServer]:
    _session_server.reset()
    yield _session_server
    errors = list(_session_server.errors)
    _session_server.reset()
    if errors:
        raise errors[0]


@pytest.fixture(autouse=True)
def _fresh_limiters(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    reset_rate_limiters()
    yield
    reset_rate_limiters()


class Sleeps(list):
    """Records every wait; ``sync``/``asleep`` are the two flavours hooks accept."""

    def sync(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


class Client:
    """Drive a sync or an async hook through one interface so scenarios run on both."""

    def __init__(self, kind: str, hook: Any) -> None:
        self.kind = kind
        self.hook = hook
        self._loop = asyncio.new_event_loop() if kind == "async" else None

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.hook, name)
        if self._loop is None:
            return method
        loop = self._loop

        def run(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if hasattr(result, "__anext__"):

                async def collect() -> list[Any]:
                    return [item async for item in result]

                return loop.run_until_complete(collect())
            return loop.run_until_complete(result)

        return run

    def close(self) -> None:
        if self._loop is not None:
            self._loop.run_until_complete(self.hook.aclose())
            self._loop.close()
        else:
            self.hook.close()


@pytest.fixture
def make_client(sleeps: Sleeps) -> Iterator[Any]:
    """``make_client(kind, **settings)`` → a :class:`Client` over a hook built from explicit settings."""
    made: list[Client] = []

    def factory(kind: str, **values: Any) -> Client:
        values.setdefault("token", TOKEN)
        values.setdefault("requests_per_second", 1000)
        if kind == "sync":
            hook: Any = DatabricksHook.from_settings(sleep=sleeps.sync, **values)
        else:
            hook = DatabricksAsyncHook.from_settings(sleep=sleeps.asleep, **values)
        client = Client(kind, hook)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()
