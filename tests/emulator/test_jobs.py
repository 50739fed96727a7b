"""Jobs CRUD, validation messages and the 2.1/2.2 list and get shapes."""

from __future__ import annotations

from typing import Any

import pytest
from _runs_helpers import Api, sim_task


def _create(api: Api, version: str = "2.2", **settings: Any) -> int:
    return int(api.post(f"/api/{version}/jobs/create", {"name": "j", **settings})["job_id"])


def test_create_get_defaults(api: Api) -> None:
    job_id = _create(api, tasks=[sim_task("t")], max_concurrent_runs="3", timeout_seconds="60")
    job = api.get("/api/2.2/jobs/get", job_id=str(job_id))
    assert job["creator_user_name"] == "admin@example.com"
    settings = job["settings"]
    assert settings["max_concurrent_runs"] == 3 and settings["timeout_seconds"] == 60
    assert settings["queue"] == {"enabled": True} and settings["format"] == "MULTI_TASK"
    assert settings["tasks"][0]["run_if"] == "ALL_SUCCESS"
    assert "queue" not in api.get("/api/2.1/jobs/get", job_id=_create(api, "2.1"))["settings"]


def test_airflow_quirks_nulls_strings_and_get_body(api: Api) -> None:
    job_id = _create(api, tasks=[sim_task("t", max_retries="2", timeout_seconds=None)], description=None)
    response = api.call("GET", "/api/2.2/jobs/get", json={"job_id": str(job_id)})  # aiohttp: args in the body
    assert response.status_code == 200
    assert response.json()["settings"]["tasks"][0]["max_retries"] == 2
    assert "description" not in response.json()["settings"]


def test_update_reset_delete(api: Api) -> None:
    job_id = _create(api, tasks=[sim_task("a"), sim_task("b")], tags={"x": "1"})
    api.post(
        "/api/2.2/jobs/update",
        {
            "job_id": job_id,
            "new_settings": {"name": "renamed", "tasks": [sim_task("b", max_retries=1)]},
            "fields_to_remove": ["tags"],
        },
    )
    settings = api.get("/api/2.2/jobs/get", job_id=job_id)["settings"]
    assert settings["name"] == "renamed" and "tags" not in settings
    assert [(t["task_key"], t.get("max_retries")) for t in settings["tasks"]] == [("a", None), ("b", 1)]
    api.post("/api/2.2/jobs/reset", {"job_id": job_id, "new_settings": {"name": "fresh"}})
    assert api.get("/api/2.2/jobs/get", job_id=job_id)["settings"]["name"] == "fresh"
    api.post("/api/2.2/jobs/delete", {"job_id": job_id})
    missing = api.call("GET", "/api/2.2/jobs/get", params={"job_id": job_id})
    assert missing.status_code == 400
    assert missing.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": f"Job {job_id} does not exist.",
    }


def test_list_pages_with_tokens(api: Api) -> None:
    ids = [_create(api, name=f"job {i}", tasks=[sim_task("t")]) for i in range(25)]
    page = api.get("/api/2.2/jobs/list", limit=10, page_token="")
    assert [j["job_id"] for j in page["jobs"]] == ids[:10]
    assert (
        "tasks" not in page["jobs"][0]["settings"]
        and "has_more" not in page
        and "prev_page_token" not in page
    )
    seen = [j["job_id"] for j in page["jobs"]]
    while "next_page_token" in page:
        page = api.get("/api/2.2/jobs/list", limit=10, page_token=page["next_page_token"])
        seen += [j["job_id"] for j in page["jobs"]]
    assert seen == ids
    back = api.get("/api/2.2/jobs/list", limit=10, page_token=page["prev_page_token"])
    assert [j["job_id"] for j in back["jobs"]] == ids[10:20]
    assert api.get("/api/2.1/jobs/list", limit=10)["has_more"] is True
    expanded = api.get("/api/2.2/jobs/list", limit=1, expand_tasks="true")
    assert expanded["jobs"][0]["settings"]["tasks"][0]["task_key"] == "t"
    assert [j["job_id"] for j in api.get("/api/2.2/jobs/list", name="JOB 3")["jobs"]] == [ids[3]]
    assert api.get("/api/2.2/jobs/list", name="nothing") == {}


def test_get_22_pages_tasks_and_repeats_settings(api: Api) -> None:
    job_id = _create(api, tasks=[sim_task(f"t{i:03d}") for i in range(120)])
    first = api.get("/api/2.2/jobs/get", job_id=job_id)
    assert len(first["settings"]["tasks"]) == 100
    second = api.get("/api/2.2/jobs/get", job_id=job_id, page_token=first["next_page_token"])
    assert second["settings"]["name"] == "j" and len(second["settings"]["tasks"]) == 20
    assert "next_page_token" not in second


CYCLE = [sim_task("a", depends_on=[{"task_key": "b"}]), sim_task("b", depends_on=[{"task_key": "a"}])]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/2.2/jobs/create", {"tasks": [sim_task("a"), sim_task("a")]}, "Duplicate task key 'a'"),
        ("/api/2.2/jobs/create", {"tasks": [sim_task("a", depends_on=[{"task_key": "zz"}])]}, "non-existent task 'zz'"),
        ("/api/2.2/jobs/create", {"tasks": CYCLE}, "cyclic dependency"),
        ("/api/2.2/jobs/create", {"tasks": [{"task_key": "a"}]}, "must specify exactly one task type"),
        ("/api/2.2/jobs/create", {"tasks": [sim_task("a", job_cluster_key="nope")]}, "job cluster 'nope'"),
        ("/api/2.2/jobs/create", {"max_concurrent_runs": "many"}, "expected an integer"),
        ("/api/2.2/jobs/list", {"offset": 1001}, "The supplied offset 1001 has exceeded"),
        ("/api/2.2/jobs/list", {"limit": 101}, "out of range"),
        ("/api/2.2/jobs/run-now", {"job_id": 5}, "Job 5 does not exist."),
        ("/api/2.2/jobs/run-now", {}, "Missing required field: job_id"),
        ("/api/2.2/jobs/runs/cancel", {"run_id": 5}, "Run 5 does not exist."),
        ("/api/2.2/jobs/runs/submit", {"run_name": "x", "idempotency_token": "t" * 65, "tasks": []}, "at most 64"),
    ],
    ids=[
        "duplicate-key", "unknown-dependency", "cycle", "no-task-kind", "unknown-job-cluster",
        "bad-int", "offset-over-1000", "limit-over-100", "run-now-missing-job", "run-now-no-job-id",
        "cancel-missing-run", "long-idempotency-token",
    ],
)  # fmt: skip
def test_validation_errors(api: Api, path: str, body: dict[str, Any], message: str) -> None:
    method = "GET" if path.endswith("/list") else "POST"
    kwargs = {"params": body} if method == "GET" else {"json": body}
    response = api.call(method, path, **kwargs)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in response.json()["message"]
