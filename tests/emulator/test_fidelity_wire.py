"""Request bodies read as Databricks reads them: JSON whatever the content type says.

Databricks' own examples post JSON with `curl --data @body.json`, which sends
`application/x-www-form-urlencoded`; the service parses the body as JSON regardless. Reading it
as a form would store the whole JSON text as one junk key.
"""

from __future__ import annotations

import json

import pytest
from _runs_helpers import Api

BODY = {"name": "curl-job", "tasks": [{"task_key": "t", "spark_jar_task": {"main_class_name": "Main"}}]}


@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "text/plain", "application/json; charset=utf-8"],
    ids=["none", "form-urlencoded", "text-plain", "json"],
)
def test_json_body_is_json_whatever_the_content_type(api: Api, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.call("POST", "/api/2.2/jobs/create", data=json.dumps(BODY).encode(), headers=headers)
    assert response.status_code == 200, response.text
    settings = api.get("/api/2.2/jobs/get", job_id=response.json()["job_id"])["settings"]
    assert settings["name"] == "curl-job"
    assert [t["task_key"] for t in settings["tasks"]] == ["t"]
    assert not any(key.startswith("{") for key in settings)  # no junk key


def test_a_form_body_is_not_json(api: Api) -> None:
    response = api.call(
        "POST",
        "/api/2.2/jobs/create",
        data="name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "MALFORMED_REQUEST"
