"""The official databricks-sdk, unchanged, against the emulator's Jobs API."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Callable

import pytest
from _runs_helpers import Api
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound
from databricks.sdk.service import jobs, workspace

NOTEBOOK = """# Databricks notebook source
name = dbutils.widgets.get("name")
print("hello", name)
dbutils.notebook.exit(f"hi {name}")
"""


def test_create_run_now_result_and_output(sdk: WorkspaceClient, notebook: Callable[[str, str], str]) -> None:
    path = notebook("greet", NOTEBOOK)
    created = sdk.jobs.create(
        name="greeter",
        tasks=[
            jobs.Task(
                task_key="greet",
                notebook_task=jobs.NotebookTask(notebook_path=path, base_parameters={"name": "base"}),
            )
        ],
    )
    run = sdk.jobs.run_now(job_id=created.job_id, notebook_params={"name": "ada"}).result(
        timeout=datetime.timedelta(seconds=30)
    )
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    assert run.status.termination_details.code == jobs.TerminationCodeCode.SUCCESS
    output = sdk.jobs.get_run_output(run.tasks[0].run_id)
    assert output.notebook_output.result == "hi ada"
    assert "hello ada" in output.logs


def test_uploaded_notebook_runs(sdk: WorkspaceClient) -> None:
    sdk.workspace.mkdirs("/Users/admin")
    source = NOTEBOOK.encode()
    sdk.workspace.import_(
        path="/Users/admin/up",
        format=workspace.ImportFormat.SOURCE,
        language=workspace.Language.PYTHON,
        content=base64.b64encode(source).decode(),
        overwrite=True,
    )
    run = sdk.jobs.submit(
        run_name="uploaded",
        tasks=[
            jobs.SubmitTask(
                task_key="t",
                existing_cluster_id=_cluster(sdk),
                notebook_task=jobs.NotebookTask(
                    notebook_path="/Users/admin/up", base_parameters={"name": "up"}
                ),
            )
        ],
    ).result(timeout=datetime.timedelta(seconds=30))
    assert sdk.jobs.get_run_output(run.tasks[0].run_id).notebook_output.result == "hi up"


def _cluster(sdk: WorkspaceClient) -> str:
    return sdk.clusters.create(
        spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=1
    ).cluster_id


def test_submit_and_cancel(sdk: WorkspaceClient, api: Api) -> None:
    with api.held():  # the simulated run ends within ~200 ms here: it must still be active when canceled
        waiter = sdk.jobs.submit(
            run_name="long",
            tasks=[
                jobs.SubmitTask(
                    task_key="t", existing_cluster_id=_cluster(sdk), spark_jar_task=jobs.SparkJarTask("Main")
                )
            ],
        )
        canceling = sdk.jobs.cancel_run(waiter.run_id)
    canceling.result(timeout=datetime.timedelta(seconds=30))
    run = sdk.jobs.get_run(waiter.run_id)
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == jobs.RunResultState.CANCELED
    assert run.status.termination_details.code == jobs.TerminationCodeCode.USER_CANCELED


def test_list_iterators_follow_tokens(sdk: WorkspaceClient) -> None:
    ids = [sdk.jobs.create(name=f"job-{i}").job_id for i in range(45)]
    assert [j.job_id for j in sdk.jobs.list(limit=10)] == ids
    assert [j.job_id for j in sdk.jobs.list(name="JOB-7")] == [ids[7]]
    for job_id in ids[:3]:
        for _ in range(12):
            sdk.jobs.run_now(job_id=job_id)
    runs = list(sdk.jobs.list_runs(limit=5))
    assert len(runs) == 36
    assert [r.run_id for r in runs] == sorted((r.run_id for r in runs), reverse=True)


def test_missing_job_and_run_map_to_sdk_errors(sdk: WorkspaceClient) -> None:
    with pytest.raises(NotFound, match="Job 5 does not exist."):
        sdk.jobs.get(5)
    with pytest.raises(NotFound, match="Run 5 does not exist."):
        sdk.jobs.get_run(5)
    with pytest.raises(InvalidParameterValue, match="Run 5 does not exist."):
        sdk.jobs.cancel_run(5)


def test_workspace_id_from_scim_me(sdk: WorkspaceClient) -> None:
    me = sdk.current_user.me()
    assert me.user_name == "admin@example.com"
    assert sdk.get_workspace_id() == 1234567890123456
