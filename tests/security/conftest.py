"""An emulator of the security tests' own: extra principals, distinctive secrets, TLS on demand.

Every secret here is distinctive, so a leak scan can search any text for it (and its base64 form).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer
from airflow_dbx_provider.emulator.config import PrincipalSpec
from airflow_dbx_provider.hooks.rate_limit import reset_rate_limiters

ADMIN_PAT = "dapi-LEAKCANARY-admin-pat-7f3a9c"
USER = "alice@example.com"
USER_PAT = "dapi-LEAKCANARY-alice-pat-51d0e2"
SP = "etl-service-principal"
SP_PAT = "dapi-LEAKCANARY-sp-pat-a81c44"
OAUTH_SP = "oauth-service-principal"
OAUTH_SECRET = "dose-LEAKCANARY-oauth-client-secret-9b2e"
SECRET_VALUE = "LEAKCANARY-secret-value-c0ffee-42"

PRINCIPALS = [
    PrincipalSpec(USER, token=USER_PAT),
    PrincipalSpec(SP, token=SP_PAT, kind="service_principal"),
    PrincipalSpec(OAUTH_SP, token=None, kind="service_principal", client_secret=OAUTH_SECRET),
]


def make_config(tmp: Any, **overrides: Any) -> EmulatorConfig:
    (tmp / "workspace").mkdir(exist_ok=True)
    values: dict[str, Any] = {
        "port": 0,
        "data_dir": tmp / "data",
        "workspace_dir": tmp / "workspace",
        "admin_token": ADMIN_PAT,
        "principals": list(PRINCIPALS),
        "time_scale": 0.05,
        "rate_limit_enabled": False,
    }
    values.update(overrides)
    return EmulatorConfig(**values)


@pytest.fixture(scope="module")
def secure_emulator_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    server = EmulatorServer(make_config(tmp_path_factory.mktemp("security"), time_scale=1.0)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def secure_emulator(secure_emulator_session: EmulatorServer) -> Iterator[EmulatorServer]:
    """Reset per test; server-side exceptions are re-raised at teardown."""
    server = secure_emulator_session
    server.reset()
    server.check_errors()
    reset_rate_limiters()
    yield server
    server.check_errors()
    reset_rate_limiters()


def api(
    server: EmulatorServer, token: str, method: str, path: str, body: dict[str, Any] | None = None
) -> requests.Response:
    """One raw REST call as ``token``: GET bodies go in the query string, others as JSON."""
    url = f"{server.url}/api/{path}"
    headers = {"Authorization": f"Bearer {token}"}
    if method == "GET":
        return requests.get(url, params=body, headers=headers, timeout=10)
    return requests.request(method, url, data=json.dumps(body or {}), headers=headers, timeout=10)
