"""Fault injection, rate limits, counters and the other `/_emulator/*` controls."""

from __future__ import annotations

import time

import pytest
import requests
from _runs_helpers import Api
from databricks.sdk import WorkspaceClient

from airflow_dbx_provider.emulator import EmulatorServer


def test_scripted_503s_then_success(api: Api) -> None:
    api.post("/_emulator/faults", {"target": "jobs/list", "kind": "503", "count": 2})
    statuses = [api.call("GET", "/api/2.2/jobs/list").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert api.get("/_emulator/faults")["injected"] == 2


def test_sdk_retries_through_a_503(sdk: WorkspaceClient, api: Api, dbx_emulator: EmulatorServer) -> None:
    api.post("/_emulator/faults", {"target": "GET jobs/list", "sequence": ["503"]})
    assert list(sdk.jobs.list()) == []
    assert dbx_emulator.counters()["requests"]["GET /jobs/list"] == {"200": 1, "503": 1}


def test_reset_drops_the_connection(api: Api) -> None:
    api.post("/_emulator/faults", {"target": "runs_read", "kind": "reset"})
    with pytest.raises(requests.ConnectionError):
        requests.get(
            api.server.url + "/api/2.2/jobs/runs/list",
            headers={"Authorization": f"Bearer {api.server.admin_token}"},
            timeout=10,
        )
    assert api.call("GET", "/api/2.2/jobs/runs/list").status_code == 200


def test_slow_response(api: Api) -> None:
    api.post("/_emulator/faults", {"target": "jobs", "kind": "slow", "slow_seconds": 0.3})
    started = time.monotonic()
    assert api.call("GET", "/api/2.2/jobs/list").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_probabilistic_faults_and_clear(api: Api) -> None:
    api.post("/_emulator/faults", {"target": "*", "kind": "500", "probability": 1.0})
    response = api.call("GET", "/api/2.2/jobs/list")
    assert response.status_code == 500 and response.json()["error_code"] == "INTERNAL_ERROR"
    assert api.call("DELETE", "/_emulator/faults").status_code == 200
    assert api.call("GET", "/api/2.2/jobs/list").status_code == 200


def test_rate_limit_429_with_retry_after(api: Api) -> None:
    api.post("/_emulator/rate-limits", {"enabled": True, "rate_limits": {"runs_read": 2}})
    statuses = [api.call("GET", "/api/2.2/jobs/runs/list") for _ in range(4)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert limited[0].headers["Retry-After"].isdigit() and int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    # runs reads and job writes are separate buckets
    assert api.call("POST", "/api/2.2/jobs/create", json={"name": "x"}).status_code == 200


def test_counters_and_reset(api: Api, dbx_emulator: EmulatorServer) -> None:
    api.post("/api/2.2/jobs/create", {"name": "x"})
    counters = api.get("/_emulator/counters")
    assert counters["requests"]["POST /jobs/create"] == {"200": 1}
    assert counters["active_runs"] == 0 and counters["runs_created"] == 0
    api.post("/_emulator/reset", {})
    assert api.get("/api/2.2/jobs/list") == {}


def test_health_time_scale_and_oauth_expiry(api: Api) -> None:
    assert requests.get(api.server.url + "/_emulator/health", timeout=5).json()["status"] == "ok"
    assert api.post("/_emulator/time-scale", {"time_scale": 0.02}) == {"time_scale": 0.02}
    assert api.post("/_emulator/oauth/expire-tokens", {}) == {}


def test_run_page_url_opens_the_ui_and_shows_nobody_else_the_run(api: Api) -> None:
    """`run_page_url` opens the workspace UI; without a session the page holds no run data
    (issue 11: the old page listed every principal's runs and errors to anyone). What a signed-in
    principal sees is tests/emulator/test_ui.py's subject."""
    job_id = api.post(
        "/api/2.2/jobs/create", {"name": "<visible>", "tasks": [{"task_key": "t", "spark_jar_task": {}}]}
    )["job_id"]
    run_id = api.post("/api/2.2/jobs/run-now", {"job_id": job_id})["run_id"]
    url = api.run(run_id)["run_page_url"]
    anonymous = requests.get(url, timeout=5)
    assert anonymous.status_code == 200 and "text/html" in anonymous.headers["content-type"]
    assert "visible" not in anonymous.text and f"run-{run_id}" not in anonymous.text
