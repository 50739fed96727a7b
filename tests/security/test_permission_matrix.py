"""The emulator enforces job permissions and secret ACLs for every principal, endpoint by endpoint.

The expected outcomes are written once, as the docs state them (shared/databricks-api.md §7 for
jobs, §6 for secrets), and every (principal, level, endpoint) case is derived from them. A denied
call answers 403 PERMISSION_DENIED and changes nothing; an allowed one answers 200.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

import pytest

from tests.security.conftest import ADMIN_PAT, SP, SP_PAT, USER, USER_PAT, api

# (name, token, ACL field) of the principals under test: a user and a service principal.
PRINCIPALS = {
    "user": (USER, USER_PAT, "user_name"),
    "service_principal": (SP, SP_PAT, "service_principal_name"),
}

# ---- jobs: §7 "Ability" table --------------------------------------------------------------------
JOB_LEVELS = ("CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER", None)
JOB_ABILITIES = {
    "view": {"CAN_VIEW", "CAN_MANAGE_RUN", "IS_OWNER", "CAN_MANAGE"},  # details, settings, results
    "run": {"CAN_MANAGE_RUN", "IS_OWNER", "CAN_MANAGE"},  # run now, cancel run
    "manage": {"IS_OWNER", "CAN_MANAGE"},  # edit settings, delete job, modify permissions
}
JOB_ENDPOINTS = {
    "jobs/get": "view",
    "jobs/list": "view",  # 200 for everyone; the job is listed only to those who may view it
    "runs/get": "view",
    "permissions/get": "view",  # reading the ACL is a view of the job's settings
    "run-now": "run",
    "runs/cancel": "run",
    "jobs/update": "manage",
    "jobs/reset": "manage",
    "jobs/delete": "manage",
    "permissions/set": "manage",
}

# ---- secrets: §6 "Needs READ/WRITE/MANAGE", MANAGE > WRITE > READ ---------------------------------
SECRET_LEVELS = ("READ", "WRITE", "MANAGE", None)
SECRET_RANK = {None: 0, "READ": 1, "WRITE": 2, "MANAGE": 3}
SECRET_ENDPOINTS = {
    "get": "READ",
    "list": "READ",
    "put": "WRITE",
    "delete": "WRITE",
    "acls/list": "MANAGE",
    "acls/put": "MANAGE",
}

SETTINGS = {
    "name": "acl-matrix",
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


def _ok(resp: Any) -> Any:
    assert resp.status_code == 200, resp.text
    return resp.json()


# ---- jobs ----------------------------------------------------------------------------------------
def _job_call(server: Any, token: str, endpoint: str, job_id: int, run_id: int) -> Any:
    calls = {
        "jobs/get": ("GET", "2.2/jobs/get", {"job_id": job_id}),
        "jobs/list": ("GET", "2.2/jobs/list", {"limit": 100}),
        "runs/get": ("GET", "2.2/jobs/runs/get", {"run_id": run_id}),
        "permissions/get": ("GET", f"2.0/permissions/jobs/{job_id}", None),
        "run-now": ("POST", "2.2/jobs/run-now", {"job_id": job_id}),
        "runs/cancel": ("POST", "2.2/jobs/runs/cancel", {"run_id": run_id}),
        "jobs/update": ("POST", "2.2/jobs/update", {"job_id": job_id, "new_settings": {"name": "renamed"}}),
        "jobs/reset": (
            "POST",
            "2.2/jobs/reset",
            {"job_id": job_id, "new_settings": {**SETTINGS, "name": "reset"}},
        ),
        "jobs/delete": ("POST", "2.2/jobs/delete", {"job_id": job_id}),
        "permissions/set": (
            "PATCH",
            f"2.0/permissions/jobs/{job_id}",
            {"access_control_list": [{"group_name": "users", "permission_level": "CAN_VIEW"}]},
        ),
    }
    method, path, body = calls[endpoint]
    return api(server, token, method, path, body)


def _job_snapshot(server: Any, job_id: int) -> Any:
    """Everything a denied call could have changed, as the admin sees it."""
    runs = _ok(api(server, ADMIN_PAT, "GET", "2.2/jobs/runs/list", {"job_id": job_id, "limit": 25}))
    return (
        _ok(api(server, ADMIN_PAT, "GET", "2.2/jobs/get", {"job_id": job_id}))["settings"],
        _ok(api(server, ADMIN_PAT, "GET", f"2.0/permissions/jobs/{job_id}")),
        sorted((r["run_id"], r["state"]["life_cycle_state"]) for r in runs.get("runs", [])),
    )


JOB_CASES = [
    pytest.param(who, level, endpoint, id=f"{who}-{level or 'none'}-{endpoint}")
    for who, level, endpoint in itertools.product(PRINCIPALS, JOB_LEVELS, JOB_ENDPOINTS)
]


@pytest.mark.parametrize(("who", "level", "endpoint"), JOB_CASES)
def test_job_permissions(secure_emulator: Any, who: str, level: str | None, endpoint: str) -> None:
    server = secure_emulator
    name, token, field = PRINCIPALS[who]
    job_id = _ok(api(server, ADMIN_PAT, "POST", "2.2/jobs/create", SETTINGS))["job_id"]
    run_id = _ok(api(server, ADMIN_PAT, "POST", "2.2/jobs/run-now", {"job_id": job_id}))["run_id"]
    if level is not None:
        acl = [{field: name, "permission_level": level}]
        _ok(api(server, ADMIN_PAT, "PATCH", f"2.0/permissions/jobs/{job_id}", {"access_control_list": acl}))
    allowed = level in JOB_ABILITIES[JOB_ENDPOINTS[endpoint]]
    # The snapshots hold the run's life cycle state: it must not move on between them (PENDING ends
    # 1 s after run-now at this time scale, which a loaded machine can reach mid-test).
    with server.state.clock.held():
        before = _job_snapshot(server, job_id)
        resp = _job_call(server, token, endpoint, job_id, run_id)
        after = _job_snapshot(server, job_id) if resp.status_code == 403 else None  # a denied call

    if endpoint == "jobs/list":
        listed = {job["job_id"] for job in _ok(resp).get("jobs", [])}
        assert (job_id in listed) is allowed
    elif allowed:
        _ok(resp)
    else:
        assert resp.status_code == 403, resp.text
        assert resp.json()["error_code"] == "PERMISSION_DENIED"
        assert after == before


# ---- secrets -------------------------------------------------------------------------------------
SCOPE = "acl-matrix"


def _secret_call(server: Any, token: str, endpoint: str) -> Any:
    calls = {
        "get": ("GET", "2.0/secrets/get", {"scope": SCOPE, "key": "k"}),
        "list": ("GET", "2.0/secrets/list", {"scope": SCOPE}),
        "put": ("POST", "2.0/secrets/put", {"scope": SCOPE, "key": "k", "string_value": "overwritten"}),
        "delete": ("POST", "2.0/secrets/delete", {"scope": SCOPE, "key": "k"}),
        "acls/list": ("GET", "2.0/secrets/acls/list", {"scope": SCOPE}),
        "acls/put": (
            "POST",
            "2.0/secrets/acls/put",
            {"scope": SCOPE, "principal": "users", "permission": "READ"},
        ),
    }
    method, path, body = calls[endpoint]
    return api(server, token, method, path, body)


def _secret_snapshot(server: Any) -> Any:
    value = _ok(api(server, ADMIN_PAT, "GET", "2.0/secrets/get", {"scope": SCOPE, "key": "k"}))["value"]
    acls = _ok(api(server, ADMIN_PAT, "GET", "2.0/secrets/acls/list", {"scope": SCOPE}))
    return base64.b64decode(value), acls


SECRET_CASES = [
    pytest.param(who, level, endpoint, id=f"{who}-{level or 'none'}-{endpoint}")
    for who, level, endpoint in itertools.product(PRINCIPALS, SECRET_LEVELS, SECRET_ENDPOINTS)
]


@pytest.mark.parametrize(("who", "level", "endpoint"), SECRET_CASES)
def test_secret_acls(secure_emulator: Any, who: str, level: str | None, endpoint: str) -> None:
    server = secure_emulator
    name, token, _ = PRINCIPALS[who]
    _ok(api(server, ADMIN_PAT, "POST", "2.0/secrets/scopes/create", {"scope": SCOPE}))
    _ok(api(server, ADMIN_PAT, "POST", "2.0/secrets/put", {"scope": SCOPE, "key": "k", "string_value": "v"}))
    if level is not None:
        acl = {"scope": SCOPE, "principal": name, "permission": level}
        _ok(api(server, ADMIN_PAT, "POST", "2.0/secrets/acls/put", acl))
    allowed = SECRET_RANK[level] >= SECRET_RANK[SECRET_ENDPOINTS[endpoint]]
    before = _secret_snapshot(server)

    resp = _secret_call(server, token, endpoint)

    if allowed:
        body = _ok(resp)
        if endpoint == "get":
            assert base64.b64decode(body["value"]) == b"v"
        if endpoint == "list":
            assert [s["key"] for s in body["secrets"]] == ["k"] and "value" not in body["secrets"][0]
    else:
        assert resp.status_code == 403, resp.text
        assert resp.json()["error_code"] == "PERMISSION_DENIED"
        assert _secret_snapshot(server) == before
