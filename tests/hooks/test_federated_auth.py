"""Databricks workload identity federation against the emulator over real HTTPS, sync and async:
an OIDC token (from a callable, a file or the environment) exchanged at /oidc/v1/token, refreshed
when it expires, and a refused token reported in one line naming the connection and the auth type."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from identity_support import KINDS, MI, SP, ca_bundle, callers, emulator, identity_server, set_connection

from airflow_dbx_provider.emulator import EmulatorServer
from airflow_dbx_provider.exceptions import DatabricksConfigError

__all__ = ["callers", "emulator", "identity_server"]  # fixtures

#: What a federated_token_provider callable returns (set per test).
PROVIDED: dict[str, str] = {}


def provide_token() -> str:
    return PROVIDED["token"]


def mint(server: EmulatorServer, subject: str = SP, **kwargs: Any) -> str:
    assert server.state is not None
    return server.state.entra.mint_subject_token(subject, **kwargs)


@pytest.mark.parametrize("kind", KINDS)
def test_token_provider_connection_authenticates(
    kind: str, emulator: EmulatorServer, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As made for the official provider: federated_token_provider and client_id in the extra."""
    PROVIDED["token"] = mint(emulator)
    set_connection(
        monkeypatch,
        "fed_provider",
        host=emulator.url,
        extra={
            "federated_token_provider": f"{__name__}.provide_token",
            "client_id": SP,
            "ca_bundle": ca_bundle(emulator),
        },
    )
    caller = callers(kind, "fed_provider")
    assert caller.me() == SP
    assert caller.me() == SP
    assert caller.auth.fetch_count == 1
    assert caller.hook._settings.auth_type == "oidc-federation"


@pytest.mark.parametrize("kind", KINDS)
def test_environment_token_without_client_id_uses_the_account_policy(
    kind: str, emulator: EmulatorServer, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_OIDC_TOKEN", mint(emulator, MI))
    caller = callers(kind, host=emulator.url, auth_type="oidc-federation", ca_bundle=ca_bundle(emulator))
    assert caller.me() == MI


@pytest.mark.parametrize("kind", KINDS)
def test_projected_kubernetes_token_file_is_reread_on_refresh(
    kind: str, emulator: EmulatorServer, callers: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """federated_k8s with a projected volume: the file rotates, each exchange reads it again."""
    assert emulator.state is not None
    emulator.state.auth.token_lifetime = 1
    token_file = tmp_path / "token"
    token_file.write_text(mint(emulator) + "\n")
    set_connection(
        monkeypatch,
        "fed_k8s",
        host=emulator.url,
        login="federated_k8s",
        extra={
            "k8s_projected_volume_token_path": str(token_file),
            "client_id": SP,
            "ca_bundle": ca_bundle(emulator),
        },
    )
    caller = callers(kind, "fed_k8s")
    assert caller.me() == SP
    token_file.write_text(mint(emulator))
    time.sleep(1.1)  # the Databricks token expired on the emulator, and for the hook
    assert caller.me() == SP
    assert caller.auth.fetch_count == 2


@pytest.mark.parametrize("kind", KINDS)
def test_token_refused_by_the_workspace_is_exchanged_again(
    kind: str, emulator: EmulatorServer, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_OIDC_TOKEN", mint(emulator))
    caller = callers(
        kind, host=emulator.url, auth_type="oidc-federation", client_id=SP, ca_bundle=ca_bundle(emulator)
    )
    assert caller.me() == SP
    assert emulator.state is not None
    emulator.state.auth.expire_oauth_tokens()
    assert caller.me() == SP
    assert caller.auth.fetch_count == 2


@pytest.mark.parametrize(
    ("subject_token", "expected"),
    [
        (lambda server: mint(server, MI), "answered 400: No federation policy of service principal"),
        (lambda server: mint(server, audience="someone-else"), "its audience is not this workspace"),
        (lambda server: mint(server, lifetime_seconds=-5), "it has expired"),
        (lambda server: "not-a-jwt", "not a JWT"),
    ],
    ids=["other-subject", "wrong-audience", "expired", "garbage"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_refused_subject_token_is_one_line(
    kind: str,
    subject_token: Any,
    expected: str,
    emulator: EmulatorServer,
    callers: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = subject_token(emulator)
    monkeypatch.setenv("DATABRICKS_OIDC_TOKEN", token)
    set_connection(
        monkeypatch,
        "fed_bad",
        host=emulator.url,
        extra={"auth_type": "oidc-federation", "client_id": SP, "ca_bundle": ca_bundle(emulator)},
    )
    caller = callers(kind, "fed_bad")
    with pytest.raises(DatabricksConfigError) as raised:
        caller.me()
    message = str(raised.value)
    assert message.startswith("connection 'fed_bad': oidc-federation authentication failed: ")
    assert expected in message and "\n" not in message and token not in message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"auth_type": "oidc-federation"}, "DATABRICKS_OIDC_TOKEN is empty or unset"),
        ({"auth_type": "oidc-federation", "oidc_token_filepath": "/nonexistent/t"}, "cannot read the OIDC"),
        ({"federated_token_provider": "no.such.module.fn"}, "cannot import federated_token_provider"),
    ],
    ids=["no-env-token", "missing-file", "bad-provider"],
)
def test_missing_subject_token_is_one_line(
    extra: dict[str, Any],
    expected: str,
    emulator: EmulatorServer,
    callers: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_connection(
        monkeypatch, "fed_none", host=emulator.url, extra={**extra, "ca_bundle": ca_bundle(emulator)}
    )
    caller = callers("sync", "fed_none")
    with pytest.raises(DatabricksConfigError, match=expected) as raised:
        caller.me()
    assert str(raised.value).startswith("connection 'fed_none': oidc-federation authentication failed: ")


def test_kubernetes_token_request_api_is_named_as_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_dbx_provider.hooks.settings import resolve_settings

    class Conn:
        host, login, password, schema, port = (
            "https://adb-1.azuredatabricks.net",
            "federated_k8s",
            None,
            None,
            None,
        )
        extra_dejson = {"client_id": SP}

    with pytest.raises(DatabricksConfigError, match="k8s_projected_volume_token_path"):
        resolve_settings(conn_id="fed_k8s_api", conn=Conn(), env={})
