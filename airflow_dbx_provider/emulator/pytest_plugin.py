"""pytest fixtures for a live emulator (registered through the `pytest11` entry point).

- `dbx_emulator_config` (session): the `EmulatorConfig`; override it in a conftest.py.
- `dbx_emulator_session`: the running `EmulatorServer` for that config, started on first use and
  kept for the whole session. One server per config: a folder that overrides the config gets its
  own server, whichever folder's tests happen to run first.
- `dbx_emulator` (function): the same server, reset before the test; server-side exceptions
  (handler or engine bugs) are re-raised when the test ends.

Rate limits are off by default here (tests turn them on with `/_emulator/rate-limits` or
`server.state.rate_limiter.configure(enabled=True)`), and time runs 20x faster.

pytest loads this module for every user of the provider who runs pytest, so it only registers
fixtures: the emulator (uvicorn, starlette, the services) is imported inside them, on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.config import EmulatorConfig
    from airflow_dbx_provider.emulator.server import EmulatorServer


@pytest.fixture(scope="session")
def dbx_emulator_config(tmp_path_factory: pytest.TempPathFactory) -> EmulatorConfig:
    from airflow_dbx_provider.emulator.config import EmulatorConfig

    root = tmp_path_factory.mktemp("dbx-emulator")
    workspace = root / "workspace"
    workspace.mkdir()
    return EmulatorConfig(
        port=0, data_dir=root / "data", workspace_dir=workspace, time_scale=0.05, rate_limit_enabled=False
    )


@pytest.fixture(scope="session")
def _dbx_emulator_servers() -> Iterator[dict[int, EmulatorServer]]:
    servers: dict[int, EmulatorServer] = {}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture
def dbx_emulator_session(
    dbx_emulator_config: EmulatorConfig, _dbx_emulator_servers: dict[int, EmulatorServer]
) -> EmulatorServer:
    # Keyed by the config object: a session-scoped fixture would be cached with whichever
    # config override was in force for the first test that asked for it.
    server = _dbx_emulator_servers.get(id(dbx_emulator_config))
    if server is None:
        from airflow_dbx_provider.emulator.server import EmulatorServer

        server = _dbx_emulator_servers[id(dbx_emulator_config)] = EmulatorServer(dbx_emulator_config)
        server.start()
    return server


@pytest.fixture
def dbx_emulator(dbx_emulator_session: EmulatorServer) -> Iterator[EmulatorServer]:
    server = dbx_emulator_session
    server.reset()
    server.check_errors()
    yield server
    server.check_errors()
