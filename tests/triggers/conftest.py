"""Trigger tests: besides the shared ``workspace`` fixtures, a slower emulator for latency tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def slow_workspace(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A second emulator where simulated task kinds take ~2 s (several polling intervals)."""
    from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer

    root = tmp_path_factory.mktemp("slow-emulator")
    server = EmulatorServer(EmulatorConfig(port=0, data_dir=root, time_scale=0.4, rate_limit_enabled=False))
    server.start()
    try:
        yield server
    finally:
        server.stop()
