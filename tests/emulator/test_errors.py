"""Every gateway-level error body and status, as Databricks sends them."""

from __future__ import annotations

from typing import Any

import pytest
from _runs_helpers import Api

ADMIN = object()


@pytest.mark.parametrize(
    ("method", "path", "token", "kwargs", "status", "body"),
    [
        ("GET", "/api/2.2/jobs/nothing", ADMIN, {}, 404,
         {"error_code": "ENDPOINT_NOT_FOUND", "message": "No API found for 'GET /api/2.2/jobs/nothing'"}),
        ("GET", "/api/2.0/jobs/list", ADMIN, {}, 404, {"error": "Bad Target: /api/2.0/jobs/list"}),
        ("POST", "/api/2.2/jobs/create", ADMIN, {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
         400, {"error_code": "MALFORMED_REQUEST", "message": "Invalid JSON given in the body of the request - expected a map"}),
        ("GET", "/api/2.2/jobs/list", None, {}, 401,
         {"error_code": 401, "message": "Credential was not sent or was of an unsupported type for this API."}),
        ("GET", "/api/2.2/jobs/list", "wrong", {}, 403, {"error_code": 403, "message": "Invalid access token."}),
        ("GET", "/api/2.2/jobs/runs/get", ADMIN, {"params": {"run_id": 5}}, 400,
         {"error_code": "INVALID_PARAMETER_VALUE", "message": "Run 5 does not exist."}),
        ("GET", "/api/2.2/jobs/get", ADMIN, {"params": {"job_id": 5}}, 400,
         {"error_code": "INVALID_PARAMETER_VALUE", "message": "Job 5 does not exist."}),
        ("GET", "/api/2.2/jobs/runs/get-output", ADMIN, {"params": {"run_id": 5}}, 400,
         {"error_code": "INVALID_PARAMETER_VALUE", "message": "Run 5 does not exist."}),
        ("GET", "/api/2.2/jobs/runs/get", ADMIN, {"params": {"run_id": "abc"}}, 400,
         {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid value for field run_id: expected an integer, got 'abc'"}),
        ("POST", "/_emulator/reset", "dave-token", {}, 403,
         {"error_code": "PERMISSION_DENIED", "message": "The emulator's control API needs the admin token."}),
    ],
    ids=["unknown-route", "wrong-version", "malformed-json", "no-token", "bad-token", "missing-run",
         "missing-job", "output-missing-run", "non-integer-id", "admin-needs-admin"],
)  # fmt: skip
def test_error_bodies(
    api: Api, method: str, path: str, token: Any, kwargs: dict[str, Any], status: int, body: dict[str, Any]
) -> None:
    headers = dict(kwargs.pop("headers", {}))
    if token is None:
        headers["Authorization"] = ""
    response = api.call(
        method, path, token=None if token in (ADMIN, None) else token, headers=headers, **kwargs
    )
    assert response.status_code == status, response.text
    assert response.json() == body


def test_bad_token_carries_reason_phrase(api: Api) -> None:
    response = api.call("GET", "/api/2.2/jobs/list", token="wrong")
    assert response.headers["X-Databricks-Reason-Phrase"] == "Invalid access token."


def test_missing_run_status_is_configurable(api: Api) -> None:
    state = api.server.state
    assert state is not None
    state.config.missing_run_status = 404
    try:
        response = api.call("GET", "/api/2.2/jobs/runs/get", params={"run_id": 5})
        assert response.status_code == 404
        assert response.json() == {
            "error_code": "RESOURCE_DOES_NOT_EXIST",
            "message": "Run 5 does not exist.",
        }
    finally:
        state.config.missing_run_status = 400
