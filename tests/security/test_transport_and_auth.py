"""Credentials that fail, plain http, and TLS: fail at once, say what to fix, never retry forever.

Sync (``DatabricksHook``, requests) and async (``DatabricksAsyncHook``, httpx) hooks alike, against
the emulator over real HTTP(S). Connections come from ``AIRFLOW_CONN_*`` as in a deployment.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest

from airflow_dbx_provider.emulator import EmulatorServer
from airflow_dbx_provider.exceptions import (
    DatabricksConfigError,
    DatabricksPermissionDeniedError,
    DatabricksUnauthenticatedError,
)
from airflow_dbx_provider.hooks.api import EP
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.hooks.rate_limit import reset_rate_limiters
from tests.security.conftest import ADMIN_PAT, OAUTH_SECRET, OAUTH_SP, USER_PAT, api, make_config

SETTINGS = {
    "name": "private",
    "tasks": [
        {
            "task_key": "jar",
            "new_cluster": {
                "spark_version": "15.4.x-scala2.12",
                "node_type_id": "i3.xlarge",
                "num_workers": 1,
            },
            "spark_jar_task": {"main_class_name": "Main"},
        }
    ],
}


def set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, host: str, **fields: Any) -> None:
    conn = {"conn_type": "dbx", "host": host, **fields}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


class Sleeps(list):
    """A fake sleep for both hooks: records every retry wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)


def call(
    mode: str, conn_id: str, method: str, *args: Any, sleeps: Sleeps | None = None, **kwargs: Any
) -> Any:
    """``hook.<method>(*args, **kwargs)`` on the sync or the async hook of ``conn_id``."""
    sleeps = Sleeps() if sleeps is None else sleeps
    if mode == "sync":
        with DatabricksHook(conn_id, sleep=sleeps) as hook:
            return getattr(hook, method)(*args, **kwargs)

    async def run() -> Any:
        async with DatabricksAsyncHook(conn_id, sleep=sleeps.asleep) as hook:
            return await getattr(hook, method)(*args, **kwargs)

    return asyncio.run(run())


MODES = ["sync", "async"]


# ---- 401 and 403: one request, a message naming the connection and what to check ------------------
@pytest.mark.parametrize("mode", MODES)
def test_401_fails_at_once_naming_the_connection(
    mode: str, secure_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, "dbx_wrong_pat", secure_emulator.url, password="dapi-revoked-or-mistyped")
    sleeps = Sleeps()
    with pytest.raises(DatabricksUnauthenticatedError) as info:
        call(mode, "dbx_wrong_pat", "get_run", 1, sleeps=sleeps)
    message = str(info.value)
    assert info.value.status_code in (401, 403)
    assert "connection 'dbx_wrong_pat'" in message and "check the token" in message
    assert "dapi-revoked-or-mistyped" not in message
    assert "\n" not in message
    assert secure_emulator.counters()["total_requests"] == 1
    assert sleeps == []


@pytest.mark.parametrize("mode", MODES)
def test_oauth_wrong_client_secret_fails_at_once(
    mode: str, secure_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(
        monkeypatch,
        "dbx_wrong_secret",
        secure_emulator.url,
        login=OAUTH_SP,
        password="not-the-client-secret",
        extra={"auth_type": "oauth-m2m"},
    )
    sleeps = Sleeps()
    with pytest.raises(DatabricksUnauthenticatedError) as info:
        call(mode, "dbx_wrong_secret", "get_run", 1, sleeps=sleeps)
    message = str(info.value)
    assert "connection 'dbx_wrong_secret'" in message and "OAuth client id/secret" in message
    assert "not-the-client-secret" not in message
    # One token request, refused; no API call was attempted without a token.
    assert secure_emulator.counters()["requests"] == {"POST /oidc/v1/token": {"401": 1}}
    assert sleeps == []


@pytest.mark.parametrize("mode", MODES)
def test_oauth_token_refused_as_invalid_is_refreshed_once(
    mode: str, secure_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Databricks refuses an expired or revoked token with 403 "Invalid access token." (not 401):
    the hook fetches a new OAuth token once and resends, as it does on a 401."""
    set_connection(
        monkeypatch,
        "dbx_oauth",
        secure_emulator.url,
        login=OAUTH_SP,
        password=OAUTH_SECRET,
        extra={"auth_type": "oauth-m2m"},
    )

    async def twice_async() -> list[Any]:
        async with DatabricksAsyncHook("dbx_oauth") as hook:
            first = await hook.test_connection()
            api(secure_emulator, ADMIN_PAT, "POST", "../_emulator/oauth/expire-tokens")
            return [first, await hook.test_connection()]

    def twice_sync() -> list[Any]:
        with DatabricksHook("dbx_oauth") as hook:
            first = hook.test_connection()
            api(secure_emulator, ADMIN_PAT, "POST", "../_emulator/oauth/expire-tokens")
            return [first, hook.test_connection()]

    results = twice_sync() if mode == "sync" else asyncio.run(twice_async())
    assert [ok for ok, _ in results] == [True, True], results
    requests_seen = secure_emulator.counters()["requests"]
    assert requests_seen["POST /oidc/v1/token"] == {"200": 2}
    assert requests_seen["GET /preview/scim/v2/Me"] == {"200": 2, "403": 1}


@pytest.mark.parametrize("mode", MODES)
def test_403_fails_at_once_naming_the_connection(
    mode: str, secure_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = api(secure_emulator, ADMIN_PAT, "POST", "2.2/jobs/create", SETTINGS).json()["job_id"]
    set_connection(monkeypatch, "dbx_alice", secure_emulator.url, password=USER_PAT)
    secure_emulator.state.counters.reset()
    sleeps = Sleeps()
    with pytest.raises(DatabricksPermissionDeniedError) as info:
        call(mode, "dbx_alice", "call", EP.JOBS_GET, job_id=job_id, sleeps=sleeps)
    message = str(info.value)
    assert info.value.status_code == 403 and info.value.error_code == "PERMISSION_DENIED"
    assert "connection 'dbx_alice'" in message and "lacks permission" in message
    assert secure_emulator.counters()["total_requests"] == 1
    assert sleeps == []


# ---- plain http only for loopback --------------------------------------------------------------
@pytest.mark.parametrize(
    "host",
    [
        "http://example.cloud.databricks.com",
        "http://10.0.0.5:8080",
        "http://localhost.evil.com",
        "http://0.0.0.0",
    ],
    ids=["public-name", "private-ip", "localhost-lookalike", "wildcard"],
)
def test_plain_http_is_refused(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "dbx_http", host, password="dapi-x")
    with pytest.raises(DatabricksConfigError, match="uses plain http, allowed only for localhost"):
        DatabricksHook("dbx_http").get_run(1)  # refused before any request


def test_plain_http_via_official_schema_field_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "dbx_http", "example.cloud.databricks.com", schema="http", password="dapi-x")
    with pytest.raises(DatabricksConfigError, match="plain http"):
        DatabricksHook("dbx_http").get_run(1)  # refused before any request


@pytest.mark.parametrize(
    "host",
    ["http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"],
    ids=["localhost", "ipv4", "ipv6"],
)
def test_plain_http_is_allowed_for_loopback(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "dbx_local", host, password="dapi-x")
    assert DatabricksHook("dbx_local").settings.host == host


# ---- TLS ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    server = EmulatorServer(make_config(tmp_path_factory.mktemp("tls"), tls=True)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tls(tls_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    tls_emulator.reset()
    reset_rate_limiters()
    # The environment points at the system bundle, which does not hold the emulator's certificate.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    yield tls_emulator
    reset_rate_limiters()


@pytest.mark.parametrize("mode", MODES)
def test_ca_bundle_wins_over_env_bundles(
    mode: str, tls: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tls.url.startswith("https://")
    set_connection(
        monkeypatch, "dbx_tls", tls.url, password=ADMIN_PAT, extra={"ca_bundle": str(tls.config.cert_file)}
    )
    # Both hooks say the same (they had drifted: the async one left out the host).
    assert call(mode, "dbx_tls", "test_connection") == (True, f"Connected to {tls.url} as admin@example.com")


# Extras a user might guess to switch verification off: none of them is a setting we read.
ACCIDENTAL = {"verify": False, "ssl_verify": "false", "insecure": True, "verify_ssl": False}


@pytest.mark.parametrize("extra", [{}, ACCIDENTAL], ids=["no-ca-bundle", "guessed-verify-off-extras"])
@pytest.mark.parametrize("mode", MODES)
def test_untrusted_certificate_fails_once_naming_ca_bundle(
    mode: str, extra: dict[str, Any], tls: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, "dbx_tls", tls.url, password=ADMIN_PAT, extra=extra)
    sleeps = Sleeps()
    with pytest.raises(DatabricksConfigError) as info:
        call(mode, "dbx_tls", "get_run", 1, sleeps=sleeps)
    message = str(info.value)
    assert "TLS error" in message and "ca_bundle" in message and "\n" not in message
    assert ADMIN_PAT not in message
    assert sleeps == []  # not retried
    assert tls.counters()["total_requests"] == 0  # the handshake failed: nothing reached the API


@pytest.mark.parametrize("mode", MODES)
def test_insecure_skip_verify_is_explicit_and_warns(
    mode: str, tls: EmulatorServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    set_connection(
        monkeypatch, "dbx_insecure", tls.url, password=ADMIN_PAT, extra={"insecure_skip_verify": True}
    )
    with caplog.at_level(logging.WARNING, logger="airflow_dbx_provider"):
        assert call(mode, "dbx_insecure", "test_connection")[0] is True
    warnings = [r for r in caplog.records if "insecure_skip_verify" in r.getMessage()]
    assert warnings and warnings[0].levelno == logging.WARNING
    assert "connection 'dbx_insecure'" in warnings[0].getMessage()


def test_ca_bundle_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    set_connection(
        monkeypatch,
        "dbx_tls",
        "https://x.cloud.databricks.com",
        password="p",
        extra={"ca_bundle": str(tmp_path / "no.pem")},
    )
    with pytest.raises(DatabricksConfigError, match="ca_bundle .* is not a readable file"):
        DatabricksHook("dbx_tls").get_run(1)
