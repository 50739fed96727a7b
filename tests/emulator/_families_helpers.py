"""A live emulator for the clusters/DBFS/secrets/workspace/permissions tests.

An `EmulatorServer` on 127.0.0.1:0. Principals: the admin, plus `bob` (a plain user in
group `analysts`) and `carol` (a plain user).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient

from airflow_dbx_provider.emulator.composition import Workspace
from airflow_dbx_provider.emulator.config import EmulatorConfig, PrincipalSpec
from airflow_dbx_provider.emulator.server import EmulatorServer

BOB = PrincipalSpec("bob@example.com", token="bob-token", groups=["analysts"])
CAROL = PrincipalSpec("carol@example.com", token="carol-token")


@dataclass
class LiveEmulator:
    url: str
    admin_token: str
    state: Workspace
    _stop: Any

    def stop(self) -> None:
        self._stop()

    def held(self) -> AbstractContextManager[None]:
        """Simulated time stands still inside: transient states stay put while the test reads them."""
        return self.state.clock.held()

    def call(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> requests.Response:
        """One raw HTTP call (`path` like `/api/2.0/dbfs/list`), as the admin unless `token` is given."""
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def client(self, token: str | None = None) -> WorkspaceClient:
        return WorkspaceClient(host=self.url, token=token or self.admin_token)

    def reset(self) -> None:
        with self.state.store.lock:
            self.state.reset()


def make_config(**overrides: Any) -> EmulatorConfig:
    settings: dict[str, Any] = {"principals": [BOB, CAROL], "rate_limit_enabled": False, "time_scale": 0.01}
    settings.update(overrides)
    return EmulatorConfig(**settings)


def start_emulator(config: EmulatorConfig) -> LiveEmulator:
    server = EmulatorServer(config)
    server.start()
    assert server.state is not None

    def stop() -> None:
        server.stop()
        server.check_errors()  # re-raise handler or engine bugs

    return LiveEmulator(server.url, server.admin_token, server.state, stop)


def emulator_fixture(**overrides: Any) -> Any:
    """A module-scoped live emulator, reset before every test that uses `emu`."""

    @pytest.fixture(scope="module")
    def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
        config = make_config(data_dir=tmp_path_factory.mktemp("emulator"), **overrides)
        emulator = start_emulator(config)
        yield emulator
        emulator.stop()

    return live


def error_of(response: requests.Response) -> tuple[int, Any]:
    return response.status_code, response.json().get("error_code")
