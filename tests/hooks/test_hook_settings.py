"""Connection → settings resolution: our conn type, the official provider's, env vars, and config errors."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.hooks.settings import resolve_settings
from tests.hooks.conftest import TOKEN


def _conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("adb-1.2.azuredatabricks.net", "https://adb-1.2.azuredatabricks.net"),
        ("https://adb-1.2.azuredatabricks.net/", "https://adb-1.2.azuredatabricks.net"),
        ("https://x.cloud.databricks.com/some/path?o=1#frag", "https://x.cloud.databricks.com"),
        ("HTTPS://X.cloud.databricks.com:8443", "https://x.cloud.databricks.com:8443"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("http://[::1]:5000", "http://[::1]:5000"),
    ],
    ids=["bare", "trailing-slash", "path-query", "port-upper", "http-localhost", "http-127", "http-ipv6"],
)
def test_host_normalisation(raw, expected):
    assert DatabricksHook.from_settings(host=raw, token=TOKEN).settings.host == expected


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        (
            {"host": "ht!tp:/x", "token": TOKEN},
            "host 'ht!tp:/x' is not a valid URL (set the connection's Host",
        ),
        ({"host": "ftp://x.com", "token": TOKEN}, "is not a valid URL"),
        ({"host": "https://x.com:99999", "token": TOKEN}, "is not a valid URL"),
        ({"host": "http://example.com", "token": TOKEN}, "plain http, allowed only for localhost"),
        ({"token": TOKEN}, "no workspace host is set"),
        ({"host": "x.com"}, "no personal access token is set"),
        ({"host": "x.com", "auth_type": "oauth-m2m", "client_secret": "s"}, "oauth-m2m needs a client_id"),
        ({"host": "x.com", "auth_type": "oauth-m2m", "client_id": "c"}, "oauth-m2m needs a client_secret"),
        ({"host": "x.com", "token": TOKEN, "auth_type": "kerberos"}, "auth_type 'kerberos' is unknown"),
        ({"host": "x.com", "token": TOKEN, "api_version": "2.0"}, "api_version '2.0' is not supported"),
        ({"host": "x.com", "token": TOKEN, "read_timeout": "soon"}, "read_timeout 'soon' is not a number"),
        (
            {"host": "x.com", "token": TOKEN, "requests_per_second": 0},
            "requests_per_second 0 must be positive",
        ),
        (
            {"host": "x.com", "token": TOKEN, "ca_bundle": "/nope.pem"},
            "ca_bundle '/nope.pem' is not a readable",
        ),
        ({"host": "x.com", "token": TOKEN, "insecure_skip_verify": "maybe"}, "is not a boolean"),
    ],
    ids=[
        "bad-url",
        "bad-scheme",
        "bad-port",
        "remote-http",
        "no-host",
        "no-token",
        "oauth-no-id",
        "oauth-no-secret",
        "unknown-auth",
        "bad-api-version",
        "bad-number",
        "zero-rate",
        "missing-ca",
        "bad-bool",
    ],
)
def test_config_errors_fail_fast_on_one_line(values, fragment):
    with pytest.raises(DatabricksConfigError) as info:
        DatabricksHook.from_settings(**values)
    text = str(info.value)
    assert fragment in text and "\n" not in text and TOKEN not in text
    assert info.value.status_code is None


def test_config_error_names_the_connection(monkeypatch):
    _conn(monkeypatch, "dbx_bad", conn_type="dbx", host="ht!tp:/x", password=TOKEN)
    with pytest.raises(DatabricksConfigError) as info:
        _ = DatabricksHook("dbx_bad").settings
    assert str(info.value) == (
        "connection 'dbx_bad': host 'ht!tp:/x' is not a valid URL (set the connection's Host or DATABRICKS_HOST)"
    )


def test_unknown_hook_kwarg_is_a_type_error():
    with pytest.raises(TypeError, match="read_timeot"):
        DatabricksHook("x", read_timeot=3)


def test_our_connection_with_extras_and_kwarg_overrides(monkeypatch):
    _conn(
        monkeypatch,
        "dbx_ours",
        conn_type="dbx",
        host="https://ws.example.com/",
        password=TOKEN,
        extra={"read_timeout": "5", "api_version": "2.1", "requests_per_second": 7},
    )
    settings = DatabricksHook("dbx_ours", read_timeout=9).settings
    assert (settings.host, settings.token, settings.auth_type) == ("https://ws.example.com", TOKEN, "pat")
    assert (settings.read_timeout, settings.api_version, settings.requests_per_second) == (9.0, "2.1", 7.0)
    assert settings.connect_timeout == 10 and settings.retry_deadline_seconds == 600
    assert TOKEN not in repr(settings)


def test_official_provider_connection_http_schema_and_port(monkeypatch):
    _conn(
        monkeypatch,
        "official",
        conn_type="databricks",
        host="localhost",
        schema="http",
        port=8123,
        extra={"token": TOKEN},
    )
    settings = DatabricksHook("official").settings
    assert settings.host == "http://localhost:8123" and settings.token == TOKEN


def test_official_service_principal_oauth(monkeypatch):
    _conn(
        monkeypatch,
        "official_sp",
        conn_type="databricks",
        host="adb-1.azuredatabricks.net",
        login="app-id",
        password="sp-secret-value",
        extra={"service_principal_oauth": True},
    )
    settings = DatabricksHook("official_sp").settings
    assert (settings.auth_type, settings.client_id, settings.client_secret) == (
        "oauth-m2m",
        "app-id",
        "sp-secret-value",
    )
    assert settings.token is None


def test_our_oauth_extras(monkeypatch):
    _conn(
        monkeypatch,
        "ours_sp",
        conn_type="dbx",
        host="ws.example.com",
        extra={"auth_type": "oauth-m2m", "client_id": "cid", "client_secret": "csecret"},
    )
    settings = DatabricksHook("ours_sp").settings
    assert (settings.auth_type, settings.client_id) == ("oauth-m2m", "cid")


def test_host_in_extra(monkeypatch):
    _conn(monkeypatch, "extra_host", conn_type="dbx", extra={"host": "ws.example.com", "token": TOKEN})
    assert DatabricksHook("extra_host").settings.host == "https://ws.example.com"


def test_env_fallback_when_connection_missing(monkeypatch):
    monkeypatch.setenv("DATABRICKS_HOST", "https://env.example.com/")
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    settings = DatabricksHook("does_not_exist").settings
    assert (settings.host, settings.token) == ("https://env.example.com", TOKEN)
    assert settings.source == "connection 'does_not_exist'"


def test_env_fallback_oauth(monkeypatch):
    monkeypatch.setenv("DATABRICKS_HOST", "env.example.com")
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "cid")
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", "csecret")
    assert DatabricksHook("does_not_exist").settings.auth_type == "oauth-m2m"


def test_env_fills_only_what_the_connection_leaves_out(monkeypatch):
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    _conn(monkeypatch, "host_only", conn_type="dbx", host="ws.example.com")
    assert DatabricksHook("host_only").settings.token == TOKEN


def test_async_hook_reads_connection_with_aget_connection(monkeypatch):
    import asyncio

    _conn(monkeypatch, "async_conn", conn_type="dbx", host="ws.example.com", password=TOKEN)
    settings = asyncio.run(DatabricksAsyncHook("async_conn").aget_settings())
    assert settings.host == "https://ws.example.com"


def test_insecure_skip_verify_warns(caplog):
    caplog.set_level(logging.WARNING)
    settings = DatabricksHook.from_settings(host="x.com", token=TOKEN, insecure_skip_verify=True).settings
    assert settings.verify is False
    assert any("verification is DISABLED" in r.getMessage() for r in caplog.records)


def test_resolution_is_pure():
    settings = resolve_settings(conn_id=None, conn=None, overrides={"host": "x.com", "token": TOKEN}, env={})
    assert settings.verify is True and settings.secrets == (TOKEN,)
