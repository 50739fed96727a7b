"""The sync hook reads environment proxies once per session, and sends what requests would send."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airflow_dbx_provider.hooks.databricks import DatabricksHook

TOKEN = "dapi-test-token-0123456789abcdef"


class _Proxy(BaseHTTPRequestHandler):
    """Answers every request itself, as an HTTP proxy would relay it; records request lines."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.requestline, dict(self.headers), body))  # type: ignore[attr-defined]
        payload = json.dumps({"run_id": 1, "state": {"life_cycle_state": "RUNNING"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxies() -> Iterator[list[ThreadingHTTPServer]]:
    servers = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
        server.seen = []  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_env_proxies_are_read_once_per_session(
    proxies: list[ThreadingHTTPServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = proxies
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", _url(first))
    monkeypatch.setenv("http_proxy", _url(first))
    hook = DatabricksHook.from_settings(host="http://localhost:1", token=TOKEN)  # nothing listens there
    assert hook.get_run(7)["run_id"] == 1
    line, headers, _ = first.seen[0]  # type: ignore[attr-defined]
    assert line.startswith("GET http://localhost:1/api/2.2/jobs/runs/get?")
    assert "run_id=7" in line and "include_history=false" in line
    assert headers["Authorization"] == f"Bearer {TOKEN}"

    monkeypatch.setenv("HTTP_PROXY", _url(second))
    monkeypatch.setenv("http_proxy", _url(second))
    hook.cancel_run(7)  # same session: the proxy resolved when it was built
    assert len(first.seen) == 2 and not second.seen  # type: ignore[attr-defined]
    line, headers, body = first.seen[1]  # type: ignore[attr-defined]
    assert line.startswith("POST http://localhost:1/api/2.2/jobs/runs/cancel ")
    assert json.loads(body) == {"run_id": 7} and headers["Content-Length"] == str(len(body))
    assert headers["Content-Type"] == "application/json"

    hook.close()  # a new session (as when the connection changes) reads the environment again
    hook.get_run(7)
    assert len(second.seen) == 1  # type: ignore[attr-defined]


def test_no_proxy_is_honoured(proxies: list[ThreadingHTTPServer], monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, workspace = proxies
    monkeypatch.setenv("HTTP_PROXY", _url(proxy))
    monkeypatch.setenv("http_proxy", _url(proxy))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    hook = DatabricksHook.from_settings(host=_url(workspace), token=TOKEN)
    hook.get_run(7)
    assert not proxy.seen  # type: ignore[attr-defined]
    assert workspace.seen[0][0].startswith("GET /api/2.2/jobs/runs/get?")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "query",
    [
        {"run_id": 7, "include_history": "false"},
        {"path": "/Users/a b/nb & more", "page_token": "CAE=:+/x%41", "n": -3, "x": 1.5},
        {"name": "café", "empty": "", "weird key=": "v"},
    ],
    ids=["plain", "reserved-characters", "unicode"],
)
def test_the_query_string_is_what_requests_would_send(query: dict) -> None:
    """Plain values skip the quoting pass; anything else is quoted exactly as requests quotes it."""
    import requests

    from airflow_dbx_provider.hooks.api import ApiRequest
    from airflow_dbx_provider.hooks.databricks import _prepare

    url = "https://ws.example.com/api/2.0/workspace/get-status"
    ours = _prepare(ApiRequest("GET", url, "/api/2.0/workspace/get-status", query=query), {})
    theirs = requests.Request("GET", url, params=query).prepare()
    assert ours.url == theirs.url


def test_proxies_are_per_origin_even_for_a_host_that_extends_the_workspace_host(
    proxies: list[ThreadingHTTPServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-session proxy lookup is keyed by origin: ``host.evil`` is not ``host``."""
    proxy, _ = proxies
    monkeypatch.setenv("HTTP_PROXY", _url(proxy))
    monkeypatch.setenv("http_proxy", _url(proxy))
    monkeypatch.setenv("NO_PROXY", "ws.internal")
    monkeypatch.setenv("no_proxy", "ws.internal")
    hook = DatabricksHook.from_settings(host="http://localhost:1", token=TOKEN)
    hook.session  # noqa: B018
    assert hook._proxies_for("http://ws.internal/api/2.2/jobs/runs/get") == {}
    assert hook._proxies_for("http://ws.internal/api/2.2/jobs/runs/list") == {}
    assert hook._proxies_for("http://ws.internal.example.com/x")["http"] == _url(proxy)
    assert hook._proxies_for("http://ws.internal/api/2.2/jobs/runs/get") == {}


def test_headers_follow_a_changed_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    """Headers are reused while the Authorization value is the same, rebuilt when it changes."""
    from airflow_dbx_provider.hooks.api import ApiRequest

    hook = DatabricksHook.from_settings(host="http://localhost:1", token=TOKEN)
    get = ApiRequest("GET", "http://localhost:1/x", "/x")
    post = ApiRequest("POST", "http://localhost:1/x", "/x", json_body={"a": 1})
    first = hook._headers(get, "Bearer one")
    assert hook._headers(get, "Bearer one") is first
    assert "Content-Type" not in first and hook._headers(post, "Bearer one")["Content-Type"]
    assert hook._headers(get, "Bearer two")["Authorization"] == "Bearer two"
    assert "Authorization" not in hook._headers(get, None)
    with pytest.raises(TypeError):
        first["Authorization"] = "Bearer tampered"  # type: ignore[index]
