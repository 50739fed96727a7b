"""pytest fixtures for a live emulator (registered through the `pytest11` entry point).

- `dbx_emulator_config` (session): the `EmulatorConfig`; override it in a conftest.py.
- `dbx_emulator_session` (session): one running `EmulatorServer` for the whole session.
- `dbx_emulator` (function): the same server, reset before the test; server-side exceptions
  (handler or engine bugs) are re-raised when the test ends.

Rate limits are off by default here (tests turn them on with `/_emulator/rate-limits` or
`server.state.rate_limiter.configure(enabled=True)`), and time runs 20x faster.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_dbx_provider.emulator.config import EmulatorConfig
from airflow_dbx_provider.emulator.server import EmulatorServer


@pytest.fixture(scope="session")
def dbx_emulator_config(tmp_path_factory: pytest.TempPathFactory) -> EmulatorConfig:
    root = tmp_path_factory.mktemp("dbx-emulator")
    workspace = root / "workspace"
    workspace.mkdir()
    return EmulatorConfig(
        port=0, data_dir=root / "data", workspace_dir=workspace, time_scale=0.05, rate_limit_enabled=False
    )


@pytest.fixture(scope="session")
def dbx_emulator_session(dbx_emulator_config: EmulatorConfig) -> Iterator[EmulatorServer]:
    server = EmulatorServer(dbx_emulator_config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dbx_emulator(dbx_emulator_session: EmulatorServer) -> Iterator[EmulatorServer]:
    server = dbx_emulator_session
    server.reset()
    server.check_errors()
    yield server
    server.check_errors()
