"""OAuth discovery cannot downgrade the hook: every URL it contacts is https, except on localhost.

The workspace's discovery document names the token endpoint, and the hook posts the client secret
there. A document naming a plain-http endpoint on another host (here 127.0.0.2: loopback, so the
test can listen on it, but not one of the localhost names) must stop the hook with one line naming
that host, before any byte of the secret is sent.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.hooks.rate_limit import reset_rate_limiters
from tests.hooks.hook_test_server import ScriptedServer, ok

SECRET = "dose-DISCOVERY-client-secret-31337"
DISCOVERY = "/oidc/.well-known/oauth-authorization-server"


class Eavesdropper:
    """An http listener on 127.0.0.2 that records every request it receives."""

    def __init__(self) -> None:
        seen = self.seen = []  # type: list[tuple[str, str, bytes]]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen.append((self.path, self.headers.get("Authorization", ""), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"access_token": "stolen", "expires_in": 3600}')

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.2:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers() -> Iterator[tuple[ScriptedServer, Eavesdropper]]:
    reset_rate_limiters()
    workspace, eve = ScriptedServer(), Eavesdropper()
    try:
        yield workspace, eve
    finally:
        workspace.stop()
        eve.stop()
        reset_rate_limiters()


def _get_run(kind: str, host: str) -> Any:
    values = {
        "host": host,
        "auth_type": "oauth-m2m",
        "client_id": "sp-1",
        "client_secret": SECRET,
        "requests_per_second": 1000,
    }
    if kind == "sync":
        with DatabricksHook.from_settings(sleep=lambda s: None, **values) as hook:
            return hook.get_run(1)

    async def run() -> Any:
        async def nap(seconds: float) -> None:
            return None

        async with DatabricksAsyncHook.from_settings(sleep=nap, **values) as hook:
            return await hook.get_run(1)

    return asyncio.run(run())


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(
    "endpoint",
    ["{eve}/oidc/v1/token", "ftp://127.0.0.2/token", "{eve_https_typo}"],
    ids=["plain-http-remote", "not-http", "no-scheme"],
)
def test_discovered_plain_http_token_endpoint_is_refused(servers: Any, kind: str, endpoint: str) -> None:
    workspace, eve = servers
    named = endpoint.format(eve=eve.url, eve_https_typo=eve.url.removeprefix("http://") + "/token")
    workspace.script(DISCOVERY, ok({"token_endpoint": named}))
    with pytest.raises(DatabricksConfigError) as info:
        _get_run(kind, workspace.url)
    text = str(info.value)
    assert "127.0.0.2" in text and "token endpoint" in text, text
    assert "\n" not in text and SECRET not in text
    assert eve.seen == []  # the secret never left for the downgraded endpoint
    assert workspace.hits("/oidc/v1/token") == [] and workspace.hits("/api/2.2/jobs/runs/get") == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_discovered_localhost_http_token_endpoint_is_used(servers: Any, kind: str) -> None:
    workspace, _ = servers
    workspace.script(
        DISCOVERY, ok({"token_endpoint": workspace.url.replace("127.0.0.1", "localhost") + "/oidc/v1/token"})
    )
    _get_run(kind, workspace.url)
    assert len(workspace.hits("/oidc/v1/token")) == 1
