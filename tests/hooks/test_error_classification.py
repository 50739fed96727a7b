"""Error classification: error_code, then status; message text only for the named endpoint overrides."""

from __future__ import annotations

import pytest

from airflow_dbx_provider.exceptions import (
    DatabricksApiError,
    DatabricksInvalidParameterError,
    DatabricksNotFoundError,
    DatabricksPermissionDeniedError,
    DatabricksResourceConflictError,
    DatabricksServerError,
    DatabricksUnauthenticatedError,
)
from airflow_dbx_provider.hooks.errors import classify

IPV = "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(
    ("status", "code", "message", "method", "endpoint", "expected"),
    [
        (400, IPV, "Run 5 does not exist.", "GET", "/api/2.2/jobs/runs/get", DatabricksNotFoundError),
        (
            400,
            IPV,
            "Run: 5 in job: 3 doesn't exist",
            "GET",
            "/api/2.1/jobs/runs/get",
            DatabricksNotFoundError,
        ),
        (400, IPV, "Job 5 does not exist.", "GET", "/api/2.2/jobs/get", DatabricksNotFoundError),
        (400, IPV, "Cluster 0-1-x does not exist", "GET", "/api/2.1/clusters/get", DatabricksNotFoundError),
        # the same words elsewhere keep their code's class (as the SDK does)
        (
            400,
            IPV,
            "Run 5 does not exist.",
            "GET",
            "/api/2.2/jobs/runs/get-output",
            DatabricksInvalidParameterError,
        ),
        (
            400,
            IPV,
            "Run 5 does not exist.",
            "POST",
            "/api/2.2/jobs/runs/cancel",
            DatabricksInvalidParameterError,
        ),
        (400, IPV, "Job 5 does not exist.", "POST", "/api/2.2/jobs/run-now", DatabricksInvalidParameterError),
        (400, IPV, "Run 5 does not exist.", "", "", DatabricksInvalidParameterError),
        # error_code wins over the status
        (
            400,
            "RESOURCE_ALREADY_EXISTS",
            "exists",
            "POST",
            "/api/2.0/dbfs/create",
            DatabricksResourceConflictError,
        ),
        (404, "RESOURCE_DOES_NOT_EXIST", "gone", "GET", "/api/2.0/dbfs/read", DatabricksNotFoundError),
        (403, "PERMISSION_DENIED", "no", "GET", "/api/2.2/jobs/get", DatabricksPermissionDeniedError),
        # the gateway's token refusal: numeric code 403 and these words, on any endpoint
        (403, 403, "Invalid access token.", "GET", "/api/2.2/jobs/runs/get", DatabricksUnauthenticatedError),
        (403, "403", "Invalid access token.", "POST", "/api/2.0/dbfs/put", DatabricksUnauthenticatedError),
        (
            403,
            403,
            "Source IP address: 1.2.3.4 is blocked",
            "GET",
            "/api/2.2/jobs/get",
            DatabricksPermissionDeniedError,
        ),
        (401, 401, "Credential was not sent", "GET", "/api/2.2/jobs/get", DatabricksUnauthenticatedError),
        # status alone
        (502, None, "Bad Gateway", "GET", "/api/2.2/jobs/get", DatabricksServerError),
        (418, None, "I'm a teapot", "GET", "/api/2.2/jobs/get", DatabricksApiError),
    ],
    ids=[
        "runs-get-missing",
        "runs-get-missing-legacy-words",
        "jobs-get-missing",
        "clusters-get-missing",
        "get-output-words-not-read",
        "runs-cancel-words-not-read",
        "run-now-words-not-read",
        "no-endpoint-no-override",
        "code-beats-400",
        "code-not-found",
        "code-permission",
        "invalid-token-numeric",
        "invalid-token-string-code",
        "numeric-403-other-words",
        "401",
        "502",
        "unknown-4xx",
    ],
)
def test_classify(status, code, message, method, endpoint, expected):
    assert classify(status, code, message, method, endpoint) is expected
