"""Retries, deadlines and error mapping, run identically on the sync and the async hook."""

from __future__ import annotations

import email.utils
import logging
import socket
import threading
import time

import pytest
from hook_test_server import RESET, Reply, ScriptedServer, err, ok

from airflow_dbx_provider.exceptions import (
    DatabricksConnectionError,
    DatabricksInvalidParameterError,
    DatabricksNotFoundError,
    DatabricksPermissionDeniedError,
    DatabricksRateLimitedError,
    DatabricksResourceConflictError,
    DatabricksServerError,
    DatabricksUnauthenticatedError,
)
from airflow_dbx_provider.hooks.api import EP
from tests.hooks.conftest import TOKEN

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])
RUNS_GET = "/api/2.2/jobs/runs/get"
SUBMIT = "/api/2.2/jobs/runs/submit"
RUN = {"run_id": 7, "state": {"life_cycle_state": "RUNNING", "state_message": ""}}


def submit(client, spec) -> int:
    """``runs/submit`` on either hook (the async hook has no ``submit_run``: no trigger submits)."""
    return int(client.call(EP.RUNS_SUBMIT, **spec)["run_id"])


@KINDS
def test_429_then_success_honours_retry_after(kind, server, make_client, sleeps):
    server.script(RUNS_GET, err(429, "REQUEST_LIMIT_EXCEEDED", "slow down", Retry_After="2"), ok(RUN))
    client = make_client(kind, host=server.url)
    assert client.get_run(7)["run_id"] == 7
    assert sleeps == [2.0]
    assert len(server.hits(RUNS_GET)) == 2


@KINDS
def test_retry_after_as_http_date(kind, server, make_client, sleeps):
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.script(RUNS_GET, err(429, "REQUEST_LIMIT_EXCEEDED", "later", Retry_After=when), ok(RUN))
    make_client(kind, host=server.url).get_run(7)
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 31


@KINDS
def test_retry_after_is_capped(kind, server, make_client, sleeps):
    server.script(RUNS_GET, err(429, "REQUEST_LIMIT_EXCEEDED", "later", Retry_After="3600"), ok(RUN))
    make_client(kind, host=server.url, max_retry_after_seconds=5).get_run(7)
    assert sleeps == [5.0]


@KINDS
def test_503_without_retry_after_backs_off_with_jitter(kind, server, make_client, sleeps):
    server.script(RUNS_GET, err(503, "TEMPORARILY_UNAVAILABLE", "busy"), ok(RUN))
    make_client(kind, host=server.url).get_run(7)
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 2.0


@KINDS
def test_500_retried_on_get(kind, server, make_client, sleeps):
    server.script(RUNS_GET, err(500, "INTERNAL_ERROR", "boom"), err(502, None, "bad gateway"), ok(RUN))
    assert make_client(kind, host=server.url).get_run(7)["run_id"] == 7
    assert len(sleeps) == 2


@KINDS
def test_500_not_retried_on_submit_without_idempotency_token(kind, server, make_client, sleeps):
    server.script(SUBMIT, err(500, "INTERNAL_ERROR", "boom"), ok({"run_id": 1}))
    with pytest.raises(DatabricksServerError) as info:
        submit(make_client(kind, host=server.url), {"run_name": "x", "tasks": []})
    assert info.value.status_code == 500 and sleeps == []
    assert len(server.hits(SUBMIT)) == 1


def test_500_not_retried_on_jobs_create(server, make_client, sleeps):
    server.script("/api/2.2/jobs/create", err(500, "INTERNAL_ERROR", "boom"), ok({"job_id": 1}))
    with pytest.raises(DatabricksServerError):
        make_client("sync", host=server.url).create_job({"name": "j"})
    assert len(server.hits("/api/2.2/jobs/create")) == 1


@KINDS
def test_submit_with_idempotency_token_retried_on_500(kind, server, make_client, sleeps):
    server.script(SUBMIT, err(500, "INTERNAL_ERROR", "boom"), ok({"run_id": 9}))
    run_id = submit(make_client(kind, host=server.url), {"run_name": "x", "idempotency_token": "tok-1"})
    assert run_id == 9 and len(sleeps) == 1
    assert server.hits(SUBMIT)[1].json()["idempotency_token"] == "tok-1"


@KINDS
def test_429_retried_even_on_jobs_create_like_calls(kind, server, make_client, sleeps):
    server.script(SUBMIT, err(429, "REQUEST_LIMIT_EXCEEDED", "x", Retry_After="1"), ok({"run_id": 3}))
    assert submit(make_client(kind, host=server.url), {"run_name": "x"}) == 3


@KINDS
@pytest.mark.parametrize(
    ("reply", "expected", "code"),
    [
        (
            err(400, "INVALID_PARAMETER_VALUE", "bad limit"),
            DatabricksInvalidParameterError,
            "INVALID_PARAMETER_VALUE",
        ),
        (err(400, "MALFORMED_REQUEST", "bad json"), DatabricksInvalidParameterError, "MALFORMED_REQUEST"),
        (err(400, "INVALID_PARAMETER_VALUE", "Run 5 does not exist."), DatabricksNotFoundError, None),
        (err(400, "RESOURCE_ALREADY_EXISTS", "exists"), DatabricksResourceConflictError, None),
        (err(401, 401, "Credential was not sent"), DatabricksUnauthenticatedError, 401),
        (err(403, 403, "Invalid access token."), DatabricksUnauthenticatedError, 403),
        (err(403, "PERMISSION_DENIED", "no"), DatabricksPermissionDeniedError, "PERMISSION_DENIED"),
        (err(404, "RESOURCE_DOES_NOT_EXIST", "gone"), DatabricksNotFoundError, "RESOURCE_DOES_NOT_EXIST"),
        (Reply(404, {"error": "Bad Target: /api/2.2/x"}), DatabricksNotFoundError, None),
        (Reply(400, b""), DatabricksInvalidParameterError, None),
        (Reply(404, "<html><title>Not here</title></html>"), DatabricksNotFoundError, None),
    ],
    ids=[
        "400-invalid",
        "400-malformed",
        "400-does-not-exist",
        "400-already-exists",
        "401",
        "403-invalid-token",
        "403-permission",
        "404-code",
        "404-legacy-error",
        "400-empty-body",
        "404-html",
    ],
)
def test_client_errors_not_retried_and_typed(kind, reply, expected, code, server, make_client, sleeps):
    server.script(RUNS_GET, reply)
    with pytest.raises(expected) as info:
        make_client(kind, host=server.url).get_run(5)
    assert sleeps == [] and len(server.hits(RUNS_GET)) == 1
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"GET {RUNS_GET} -> {reply.status}")
    assert TOKEN not in text
    if code is not None:
        assert info.value.error_code == code


def test_not_found_message_shape(server, make_client):
    server.script(RUNS_GET, err(400, "INVALID_PARAMETER_VALUE", "Run 42 does not exist."))
    with pytest.raises(DatabricksNotFoundError) as info:
        make_client("sync", host=server.url).get_run(42)
    assert str(info.value) == f"GET {RUNS_GET} -> 400 INVALID_PARAMETER_VALUE: Run 42 does not exist."


@KINDS
def test_auth_errors_name_the_connection_source(kind, server, make_client):
    server.script(RUNS_GET, err(403, 403, "Invalid access token."))
    with pytest.raises(DatabricksUnauthenticatedError, match="explicit settings: check the token"):
        make_client(kind, host=server.url).get_run(1)


@KINDS
def test_read_timeout_on_get_is_retried(kind, server, make_client, sleeps):
    server.script(RUNS_GET, Reply(200, RUN, delay=1.0), ok(RUN))
    assert make_client(kind, host=server.url, read_timeout=0.3).get_run(7)["run_id"] == 7
    assert len(sleeps) == 1


@KINDS
def test_connection_reset_on_get_is_retried(kind, server, make_client, sleeps):
    server.script(RUNS_GET, RESET, ok(RUN))
    assert make_client(kind, host=server.url).get_run(7)["run_id"] == 7
    assert len(sleeps) == 1


@KINDS
def test_connection_reset_on_non_idempotent_call_is_not_retried(kind, server, make_client, sleeps):
    server.script(SUBMIT, RESET, ok({"run_id": 1}))
    with pytest.raises(DatabricksConnectionError) as info:
        submit(make_client(kind, host=server.url), {"run_name": "x"})
    assert info.value.request_sent and info.value.status_code is None
    assert sleeps == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@KINDS
def test_connect_refused_on_non_idempotent_call_is_retried(kind, make_client, sleeps):
    """Nothing listens at first; the server comes up during the first backoff, so the retry lands."""
    port = _free_port()
    started: list[ScriptedServer] = []
    lock = threading.Lock()

    def bring_up() -> None:
        with lock:
            if not started:
                started.append(ScriptedServer(port))
                started[0].script(SUBMIT, ok({"run_id": 11}))

    client = make_client(kind, host=f"http://127.0.0.1:{port}")
    if kind == "sync":
        client.hook._sleep = lambda s: (sleeps.append(s), bring_up())
    else:

        async def fake(s: float) -> None:
            sleeps.append(s)
            bring_up()

        client.hook._sleep = fake
    try:
        assert submit(client, {"run_name": "x"}) == 11
        assert len(sleeps) >= 1
    finally:
        for srv in started:
            srv.stop()


@KINDS
def test_deadline_stops_before_a_wait_that_would_overrun(kind, server, make_client, sleeps):
    server.script(RUNS_GET, *[err(429, "REQUEST_LIMIT_EXCEEDED", "x", Retry_After="10")] * 3)
    with pytest.raises(DatabricksRateLimitedError) as info:
        make_client(kind, host=server.url).get_run(7, retry_deadline_seconds=5)
    assert info.value.retry_after == 10 and sleeps == []


@KINDS
def test_deadline_bounds_real_time(kind, server, make_client):
    server.script(RUNS_GET, *[err(503, "TEMPORARILY_UNAVAILABLE", "x", Retry_After="0.3")] * 20)
    client = make_client(kind, host=server.url, retry_deadline_seconds=1)
    client.hook._sleep = time.sleep if kind == "sync" else __import__("asyncio").sleep
    began = time.monotonic()
    with pytest.raises(DatabricksServerError):
        client.get_run(7)
    assert time.monotonic() - began < 3.0  # 20 answers x 0.3 s would take 6 s without the deadline
    assert 2 <= len(server.hits(RUNS_GET)) <= 5


@KINDS
def test_each_retry_logged_with_reason_attempt_and_wait(kind, server, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    server.script(RUNS_GET, err(429, "REQUEST_LIMIT_EXCEEDED", f"slow {TOKEN}", Retry_After="2"), ok(RUN))
    make_client(kind, host=server.url).get_run(7)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("HTTP 429 REQUEST_LIMIT_EXCEEDED" in m and "attempt 1" in m and "2.00s" in m for m in warnings)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


@KINDS
def test_generic_call_matches_named_method(kind, server, make_client):
    server.script(RUNS_GET, ok(RUN))
    assert make_client(kind, host=server.url).call(EP.RUNS_GET, run_id=7) == RUN
    assert server.hits(RUNS_GET)[0].query == {"run_id": "7"}
