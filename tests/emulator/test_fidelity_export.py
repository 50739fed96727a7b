"""jobs/runs/export: a notebook task run's views, as `WorkspaceClient.jobs.export_run` reads them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _runs_helpers import Api, sim_task, task
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service.jobs import ViewsToExport, ViewType


def test_export_run_of_a_notebook_task(
    api: Api, sdk: WorkspaceClient, notebook: Callable[[str, str], str]
) -> None:
    path = notebook("export_me", "x = 1 < 2\ndbutils.notebook.exit('<done>')\n")
    run_id = api.post(
        "/api/2.2/jobs/runs/submit", {"run_name": "r", "tasks": [task("nb", path), sim_task("jar")]}
    )["run_id"]
    run = api.wait(run_id)
    by_key = {t["task_key"]: t["run_id"] for t in run["tasks"]}
    exported = sdk.jobs.export_run(by_key["nb"], views_to_export=ViewsToExport.CODE)
    assert exported.views is not None and len(exported.views) == 1
    view = exported.views[0]
    assert view.type == ViewType.NOTEBOOK and view.name == "export_me"
    assert "x = 1 &lt; 2" in (view.content or "") and "&lt;done&gt;" in (view.content or "")  # escaped
    assert sdk.jobs.export_run(by_key["nb"]).views  # CODE is the default
    assert sdk.jobs.export_run(by_key["nb"], views_to_export=ViewsToExport.DASHBOARDS).views in (None, [])
    for bad in (run_id, by_key["jar"]):  # a parent run, a task run that is not a notebook
        with pytest.raises(InvalidParameterValue):
            sdk.jobs.export_run(bad)
    response = api.call("GET", "/api/2.2/jobs/runs/export", params={"run_id": 999999})
    assert response.status_code == 400 and "does not exist" in response.json()["message"]
