"""A TLS emulator that is also an Entra ID authority, a managed-identity endpoint and an OIDC
token-exchange endpoint, with two service principals; and a helper that drives sync and async hooks.

Shared by test_azure_auth.py and test_federated_auth.py (module-scoped server, reset per test).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_dbx_provider.emulator import EmulatorServer
from airflow_dbx_provider.emulator.config import EmulatorConfig, PrincipalSpec
from airflow_dbx_provider.hooks.api import EP
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.hooks.rate_limit import reset_rate_limiters

SP = "7d1c5a2e-0f3b-4c6d-9e8f-a1b2c3d4e5f6"  # the service principal's application (client) id
SP_SECRET = "entra-client-secret-value-0123"
MI = "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"  # a second one, the machine's managed identity
TENANT = "72f988bf-0000-4000-8000-00000000dbe1"
KINDS = ["sync", "async"]


def identity_config(root: Path) -> EmulatorConfig:
    return EmulatorConfig(
        port=0,
        data_dir=root / "data",
        tls=True,
        rate_limit_enabled=False,
        azure_tenant_id=TENANT,
        managed_identity=MI,
        principals=[
            PrincipalSpec(SP, kind="service_principal", client_secret=SP_SECRET),
            PrincipalSpec(MI, kind="service_principal"),
        ],
    )


@pytest.fixture(scope="module")
def identity_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    with EmulatorServer(identity_config(tmp_path_factory.mktemp("entra"))) as server:
        yield server


@pytest.fixture
def emulator(identity_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """The server, reset; Azure and Databricks env vars cleared so only the test's settings count."""
    import os

    for name in list(os.environ):
        if name.startswith(("AZURE_", "DATABRICKS_", "IDENTITY_", "MSI_", "IMDS_")):
            monkeypatch.delenv(name)
    identity_server.reset()
    assert identity_server.state is not None
    identity_server.state.auth.token_lifetime = 3600
    reset_rate_limiters()
    yield identity_server
    identity_server.check_errors()


def ca_bundle(server: EmulatorServer) -> str:
    return str(server.config.cert_file)


def set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: Any) -> None:
    """An Airflow connection made for the official provider (conn type databricks)."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "databricks", **fields}))


class Caller:
    """One hook, sync or async, behind the same two calls."""

    def __init__(self, kind: str, conn_id: str | None = None, **settings: Any) -> None:
        self.kind = kind
        settings.setdefault("requests_per_second", 1000)
        if kind == "sync":
            self.hook: Any = (
                DatabricksHook(conn_id, **settings) if conn_id else DatabricksHook.from_settings(**settings)
            )
        else:
            self.loop = asyncio.new_event_loop()
            self.hook = (
                DatabricksAsyncHook(conn_id, **settings)
                if conn_id
                else DatabricksAsyncHook.from_settings(**settings)
            )

    def me(self) -> str:
        """SCIM Me: who the workspace says the caller is."""
        if self.kind == "sync":
            return str(self.hook.call(EP.SCIM_ME)["userName"])
        return str(self.loop.run_until_complete(self.hook.call(EP.SCIM_ME))["userName"])

    def test_connection(self) -> tuple[bool, str]:
        if self.kind == "sync":
            return self.hook.test_connection()  # type: ignore[no-any-return]
        return self.loop.run_until_complete(self.hook.test_connection())  # type: ignore[no-any-return]

    @property
    def auth(self) -> Any:
        return self.hook._auth

    def close(self) -> None:
        if self.kind == "sync":
            self.hook.close()
        else:
            self.loop.run_until_complete(self.hook.aclose())
            self.loop.close()


@pytest.fixture
def callers() -> Iterator[Any]:
    made: list[Caller] = []

    def make(kind: str, conn_id: str | None = None, **settings: Any) -> Caller:
        caller = Caller(kind, conn_id, **settings)
        made.append(caller)
        return caller

    yield make
    for caller in made:
        caller.close()
