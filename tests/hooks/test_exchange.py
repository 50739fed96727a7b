"""The exchange is data: a flow yields steps and takes answers, with no transport at all."""

from __future__ import annotations

import json

import pytest

from airflow_dbx_provider.exceptions import DatabricksConnectionError, DatabricksPermissionDeniedError
from airflow_dbx_provider.hooks.api import EP
from airflow_dbx_provider.hooks.auth import DISCOVERY_PATH
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.exchange import Exclusive, Response, Send, Sleep

HOST = "https://adb-1.example.com"


def _json(status: int, body: object, **headers: str) -> Response:
    return Response(status, {k.replace("_", "-"): v for k, v in headers.items()}, json.dumps(body).encode())


def _finish(flow, answer):
    with pytest.raises(StopIteration) as done:
        flow.send(answer)
    return done.value.value


def test_oauth_call_with_one_retry_step_by_step():
    hook = DatabricksHook.from_settings(
        host=HOST, auth_type="oauth-m2m", client_id="cid", client_secret="sec", requests_per_second=1000
    )
    flow = hook._call_flow(EP.RUNS_GET, {"run_id": 1})

    token = next(flow)  # no cached token: fetch one under the hook's lock
    assert isinstance(token, Exclusive)
    discovery = next(token.flow)
    assert isinstance(discovery, Send) and discovery.request.endpoint == DISCOVERY_PATH
    assert "Authorization" not in discovery.headers
    fetch = token.flow.send(_json(200, {"token_endpoint": HOST + "/oidc/v1/token"}))
    assert fetch.request.form == {"grant_type": "client_credentials", "scope": "all-apis"}
    header = _finish(token.flow, _json(200, {"access_token": "t1", "expires_in": 3600}))

    send = flow.send(header)
    assert send.request.url == HOST + "/api/2.2/jobs/runs/get" and send.request.query == {"run_id": "1"}
    assert send.headers["Authorization"] == "Bearer t1"
    assert "t1" not in repr(send)  # headers are kept out of reprs (and so out of logs)
    wait = flow.send(
        _json(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}, Retry_After="2")
    )
    assert wait == Sleep(2.0)
    resend = flow.send(None)
    assert isinstance(resend, Send) and resend.headers["Authorization"] == "Bearer t1"
    assert _finish(flow, _json(200, {"run_id": 1})) == {"run_id": 1}


def test_paging_and_a_transport_failure_thrown_into_the_flow():
    hook = DatabricksHook.from_settings(host=HOST, token="dapi-x", requests_per_second=1000)
    flow = hook._paged_flow(EP.RUNS_GET, ("tasks",), {"run_id": 1})
    first = next(flow)
    assert first.request.query == {"run_id": "1"}
    page2 = flow.send(_json(200, {"run_id": 1, "tasks": [{"task_key": "a"}], "next_page_token": "p2"}))
    assert page2.request.query == {"run_id": "1", "page_token": "p2"}
    # the driver throws what the transport raised; the retry policy answers with a backoff
    wait = flow.throw(DatabricksConnectionError("reset", request_sent=True))
    assert isinstance(wait, Sleep) and 0 < wait.seconds <= 2
    assert flow.send(None).request.query == {"run_id": "1", "page_token": "p2"}
    run = _finish(flow, _json(200, {"run_id": 1, "tasks": [{"task_key": "b"}]}))
    assert run == {"run_id": 1, "tasks": [{"task_key": "a"}, {"task_key": "b"}]}


def test_error_answer_is_raised_typed_from_the_flow():
    hook = DatabricksHook.from_settings(host=HOST, token="dapi-x", requests_per_second=1000)
    flow = hook._call_flow(EP.JOBS_GET, {"job_id": 1})
    next(flow)
    with pytest.raises(DatabricksPermissionDeniedError, match="-> 403 PERMISSION_DENIED: no"):
        flow.send(_json(403, {"error_code": "PERMISSION_DENIED", "message": "no"}))
