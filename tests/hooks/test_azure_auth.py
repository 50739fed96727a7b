"""Azure auth against the emulator over real HTTPS, sync and async: an Entra ID service principal
(client secret), a managed identity (App Service endpoint) and DefaultAzureCredential; expiry and
refresh; a refused secret is one line naming the connection and the auth type."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

pytest.importorskip("azure.identity")

from identity_support import (
    KINDS,
    MI,
    SP,
    SP_SECRET,
    TENANT,
    ca_bundle,
    callers,
    emulator,
    identity_server,
    set_connection,
)

from airflow_dbx_provider.emulator import EmulatorServer
from airflow_dbx_provider.exceptions import DatabricksConfigError

__all__ = ["callers", "emulator", "identity_server"]  # fixtures


def sp_connection(
    monkeypatch: pytest.MonkeyPatch, server: EmulatorServer, conn_id: str, **extra: Any
) -> None:
    """Exactly as made for the official provider: client id/secret in Login/Password."""
    set_connection(
        monkeypatch,
        conn_id,
        host=server.url,
        login=SP,
        password=extra.pop("password", SP_SECRET),
        extra={
            "azure_tenant_id": TENANT,
            "azure_ad_endpoint": server.url,
            "ca_bundle": ca_bundle(server),
            **extra,
        },
    )


@pytest.mark.parametrize("kind", KINDS)
def test_service_principal_connection_authenticates(
    kind: str, emulator: EmulatorServer, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sp_connection(monkeypatch, emulator, "azure_sp")
    caller = callers(kind, "azure_sp")
    assert caller.me() == SP
    assert caller.me() == SP  # the cached token: one fetch for both calls
    assert caller.auth.fetch_count == 1
    assert caller.hook._settings.auth_type == "azure-client-secret"
    counts = emulator.counters()["requests"]
    assert any("/{tenant}/oauth2/v2.0/token" in key for key in counts), counts


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_secret_is_one_line_naming_connection_and_auth_type(
    kind: str,
    emulator: EmulatorServer,
    callers: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sp_connection(monkeypatch, emulator, "azure_bad", password="not-the-secret")
    caller = callers(kind, "azure_bad")
    caplog.set_level(logging.INFO)
    with pytest.raises(DatabricksConfigError) as raised:
        caller.me()
    azure_lines = [r.getMessage() for r in caplog.records if r.name.startswith("azure")]
    assert azure_lines == []  # not azure-identity's multi-line warning as well
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        "connection 'azure_bad': azure-client-secret authentication failed: AADSTS7000215"
    )
    assert "not-the-secret" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__  # no azure traceback
    ok, text = caller.test_connection()  # the form's Test button says the same
    assert not ok and text.startswith("connection 'azure_bad': azure-client-secret")


@pytest.mark.parametrize("kind", KINDS)
def test_expired_token_is_refreshed(kind: str, emulator: EmulatorServer, callers: Any) -> None:
    """A short-lived token: the hook asks again shortly before expiry (the injected clock moves),
    azure-identity fetches a new one, and the workspace accepts it."""
    assert emulator.state is not None
    emulator.state.auth.token_lifetime = 2
    caller = callers(
        kind,
        host=emulator.url,
        auth_type="azure-client-secret",
        azure_tenant_id=TENANT,
        client_id=SP,
        client_secret=SP_SECRET,
        azure_ad_endpoint=emulator.url,
        ca_bundle=ca_bundle(emulator),
    )
    assert caller.me() == SP
    first = caller.auth._cache.token
    time.sleep(2.1)  # past the token's life, on the emulator's clock and on azure-identity's
    assert caller.me() == SP
    assert caller.auth.fetch_count == 2 and caller.auth._cache.token != first


@pytest.mark.parametrize("kind", KINDS)
def test_token_the_workspace_refuses_is_fetched_again_once(
    kind: str, emulator: EmulatorServer, callers: Any
) -> None:
    caller = callers(
        kind,
        host=emulator.url,
        auth_type="azure-client-secret",
        azure_tenant_id=TENANT,
        client_id=SP,
        client_secret=SP_SECRET,
        azure_ad_endpoint=emulator.url,
        ca_bundle=ca_bundle(emulator),
    )
    assert caller.me() == SP
    assert emulator.state is not None
    emulator.state.auth.expire_oauth_tokens()  # the workspace stops accepting it before we expect
    assert caller.me() == SP
    assert caller.auth.fetch_count == 2


@pytest.mark.parametrize("kind", KINDS)
def test_managed_identity_through_the_app_service_endpoint(
    kind: str, emulator: EmulatorServer, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{emulator.url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", emulator.config.identity_header)
    set_connection(
        monkeypatch,
        "azure_mi",
        host=emulator.url,
        extra={"use_azure_managed_identity": True, "ca_bundle": ca_bundle(emulator)},
    )
    caller = callers(kind, "azure_mi")
    assert caller.me() == MI
    assert caller.hook._settings.auth_type == "azure-msi"


@pytest.mark.parametrize("kind", KINDS)
def test_user_assigned_managed_identity_by_client_id(
    kind: str, emulator: EmulatorServer, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{emulator.url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", emulator.config.identity_header)
    caller = callers(
        kind,
        host=emulator.url,
        auth_type="azure-msi",
        azure_managed_identity_client_id=SP,
        ca_bundle=ca_bundle(emulator),
    )
    assert caller.me() == SP


def test_managed_identity_endpoint_over_plain_http_elsewhere_is_refused(
    emulator: EmulatorServer, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://identity.example.com/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "x")
    caller = callers("sync", host=emulator.url, auth_type="azure-msi", ca_bundle=ca_bundle(emulator))
    with pytest.raises(DatabricksConfigError, match=r"IDENTITY_ENDPOINT.*identity.example.com.*plain http"):
        caller.me()


@pytest.mark.parametrize("kind", KINDS)
def test_default_azure_credential_from_the_environment(
    kind: str, emulator: EmulatorServer, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": SP,
        "AZURE_CLIENT_SECRET": SP_SECRET,
        "AZURE_AUTHORITY_HOST": emulator.url,
    }.items():
        monkeypatch.setenv(name, value)
    set_connection(
        monkeypatch,
        "azure_default",
        host=emulator.url,
        extra={"use_default_azure_credential": True, "ca_bundle": ca_bundle(emulator)},
    )
    caller = callers(kind, "azure_default")
    assert caller.me() == SP


@pytest.mark.parametrize("kind", KINDS)
def test_resource_id_adds_the_management_token_headers(
    kind: str, emulator: EmulatorServer, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Databricks/workspaces/w"
    sp_connection(monkeypatch, emulator, "azure_rid", azure_resource_id=resource_id)
    caller = callers(kind, "azure_rid")
    assert caller.me() == SP
    headers = caller.hook._headers(caller.hook._settings and _req(), "Bearer x")
    assert headers["X-Databricks-Azure-Workspace-Resource-Id"] == resource_id
    assert headers["X-Databricks-Azure-SP-Management-Token"].startswith("dbxemu-arm-")
    assert headers["X-Databricks-Azure-SP-Management-Token"] in caller.hook._secrets()


def _req() -> Any:
    from airflow_dbx_provider.hooks.api import ApiRequest

    return ApiRequest("GET", "https://x/api/2.0/preview/scim/v2/Me", "/api/2.0/preview/scim/v2/Me")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"azure_tenant_id": TENANT}, "azure-client-secret needs a client secret"),
        ({"azure_tenant_id": TENANT, "azure_ad_endpoint": "http://login.example.com"}, "plain http"),
        ({"federated_aws": True}, r"federated_aws\) is not offered"),
    ],
    ids=["no-secret", "http-authority", "aws-federation"],
)
def test_bad_azure_settings_fail_before_any_request(
    extra: dict[str, Any], expected: str, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_dbx_provider.hooks.settings import resolve_settings

    class Conn:
        host, login, password, schema, port = emulator.url, SP, None, None, None
        extra_dejson = extra

    with pytest.raises(DatabricksConfigError, match=expected) as raised:
        resolve_settings(conn_id="azure_cfg", conn=Conn(), env={})
    assert str(raised.value).startswith("connection 'azure_cfg': ")


def test_form_test_button_authenticates_an_azure_connection(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the UI's Test button runs ([core] test_connection = Enabled): the dbx conn type's hook."""
    from airflow.models.connection import Connection

    monkeypatch.setenv(
        "AIRFLOW_CONN_AZURE_FORM",
        json.dumps(
            {
                "conn_type": "dbx",
                "host": emulator.url,
                "login": SP,
                "password": SP_SECRET,
                "extra": {
                    "auth_type": "azure-client-secret",
                    "azure_tenant_id": TENANT,
                    "azure_ad_endpoint": emulator.url,
                    "ca_bundle": ca_bundle(emulator),
                },
            }
        ),
    )
    ok, message = Connection.get_connection_from_secrets("azure_form").test_connection()
    assert ok, message
    assert message.endswith(f"as {SP}")
