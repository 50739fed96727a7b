"""Fixtures for the jobs/runs/server tests: the plugin's live emulator plus small helpers.

`dbx_emulator` (from airflow_dbx_provider.emulator.pytest_plugin) is reset per test. Here the
session config adds a plain user, `dave`, for permission checks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from _runs_helpers import DAVE, Api
from databricks.sdk import WorkspaceClient

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer


@pytest.fixture(scope="session")
def dbx_emulator_config(tmp_path_factory: pytest.TempPathFactory) -> EmulatorConfig:
    root = tmp_path_factory.mktemp("dbx-emulator")
    (root / "workspace").mkdir()
    return EmulatorConfig(
        data_dir=root / "data",
        workspace_dir=root / "workspace",
        time_scale=0.02,
        rate_limit_enabled=False,
        principals=[DAVE],
    )


@pytest.fixture
def api(dbx_emulator: EmulatorServer) -> Api:
    return Api(dbx_emulator)


@pytest.fixture
def sdk(dbx_emulator: EmulatorServer) -> WorkspaceClient:
    return WorkspaceClient(host=dbx_emulator.url, token=dbx_emulator.admin_token)


@pytest.fixture
def notebook(dbx_emulator: EmulatorServer) -> Callable[[str, str], str]:
    """Write `<workspace_dir>/<name>.py`; returns its notebook path (`/name`)."""
    root = Path(str(dbx_emulator.config.workspace_dir))

    def write(name: str, source: str) -> str:
        path = root / f"{name}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        return "/" + name

    return write
