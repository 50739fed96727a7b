"""Who a run runs as (issue 11): run-now and repair run as the job's `run_as` (its owner by
default), need CAN_MANAGE_RUN, and `run_as` names another principal only for an admin.

The notebook reports the principal its notebook-scoped token belongs to (SCIM Me).
"""

from __future__ import annotations

import json
from typing import Any

from _runs_helpers import DAVE, Api, task

from airflow_dbx_provider.emulator import EmulatorServer

WHOAMI = """import json, os, urllib.request
req = urllib.request.Request(os.environ["DATABRICKS_HOST"] + "/api/2.0/preview/scim/v2/Me",
                             headers={"Authorization": "Bearer " + os.environ["DATABRICKS_TOKEN"]})
dbutils.notebook.exit(json.load(urllib.request.urlopen(req))["userName"])
"""


def _job(api: Api, path: str, token: str | None = None, **settings: Any) -> int:
    body = {"name": "who", "tasks": [task("t", path)], **settings}
    return int(api.post("/api/2.2/jobs/create", body, token=token)["job_id"])


def _ran_as(api: Api, run_id: int) -> str:
    run = api.wait(run_id)
    assert run["state"]["result_state"] == "SUCCESS", run["state"]
    return str(api.output(run["tasks"][-1]["run_id"])["notebook_output"]["result"])


def test_run_now_runs_as_the_jobs_owner_not_the_caller(api: Api, notebook: Any) -> None:
    path = notebook("whoami", WHOAMI)
    job_id = _job(api, path)
    acl = [{"user_name": DAVE.name, "permission_level": "CAN_MANAGE_RUN"}]
    api.call("PATCH", f"/api/2.0/permissions/jobs/{job_id}", json={"access_control_list": acl})
    run_id = api.post("/api/2.2/jobs/run-now", {"job_id": job_id}, token=DAVE.token)["run_id"]
    assert _ran_as(api, run_id) == "admin@example.com"


def test_run_now_and_repair_need_can_manage_run(api: Api, notebook: Any) -> None:
    path = notebook("whoami", WHOAMI)
    job_id = _job(api, path)
    acl = [{"user_name": DAVE.name, "permission_level": "CAN_VIEW"}]
    api.call("PATCH", f"/api/2.0/permissions/jobs/{job_id}", json={"access_control_list": acl})
    response = api.call("POST", "/api/2.2/jobs/run-now", token=DAVE.token, json={"job_id": job_id})
    assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")
    run_id = api.post("/api/2.2/jobs/run-now", {"job_id": job_id})["run_id"]
    api.wait(run_id)
    response = api.call("POST", "/api/2.2/jobs/runs/repair", token=DAVE.token,
                        json={"run_id": run_id, "rerun_tasks": ["t"]})  # fmt: skip
    assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")


def test_a_user_cannot_make_a_job_run_as_someone_else(api: Api, notebook: Any) -> None:
    path = notebook("whoami", WHOAMI)
    for run_as in ({"user_name": "admin@example.com"}, {"service_principal_name": "etl-sp"}):
        body = {"name": "x", "tasks": [task("t", path)], "run_as": run_as}
        response = api.call("POST", "/api/2.2/jobs/create", token=DAVE.token, json=body)
        assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")
        submit = {"run_name": "x", "tasks": [task("t", path)], "run_as": run_as}
        response = api.call("POST", "/api/2.2/jobs/runs/submit", token=DAVE.token, json=submit)
        assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")
    job_id = _job(api, path, token=DAVE.token, run_as={"user_name": DAVE.name})  # oneself: fine
    for path_, body in (("update", {"new_settings": {"run_as": {"user_name": "admin@example.com"}}}),
                        ("reset", {"new_settings": {"name": "x", "run_as": {"user_name": "admin@example.com"}}})):  # fmt: skip
        response = api.call(
            "POST", f"/api/2.2/jobs/{path_}", token=DAVE.token, json={"job_id": job_id, **body}
        )
        assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")
    for bad in ("admin@example.com", {"user_name": 7}, {"user_name": "a", "service_principal_name": "b"}):
        body = {"name": "x", "tasks": [task("t", path)], "run_as": bad}
        response = api.call("POST", "/api/2.2/jobs/create", json=body)
        assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_an_admin_may_set_run_as(api: Api, notebook: Any, dbx_emulator: EmulatorServer) -> None:
    path = notebook("whoami", WHOAMI)
    job_id = _job(api, path, run_as={"user_name": DAVE.name})
    job = api.get("/api/2.2/jobs/get", job_id=job_id)
    assert job["run_as_user_name"] == DAVE.name
    run_id = api.post("/api/2.2/jobs/run-now", {"job_id": job_id})["run_id"]
    assert _ran_as(api, run_id) == DAVE.name
    assert json.dumps(job)  # plain JSON
