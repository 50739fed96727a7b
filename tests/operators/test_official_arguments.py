"""The official provider's arguments, with their meaning, on our operators (against the live emulator)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from tenacity import stop_after_attempt, stop_after_delay, wait_fixed

from airflow_dbx_provider.exceptions import DatabricksConfigError, DbxError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.operators import (
    DatabricksCreateJobOperator,
    DatabricksCreateJobsOperator,
    DatabricksRunNowOperator,
    DatabricksSubmitRunOperator,
)
from airflow_dbx_provider.operators.official_args import official_retry_budget
from airflow_dbx_provider.runs.state import RunState
from airflow_dbx_provider.runs.summary import run_summary
from tests.operators.support import CLUSTER, notebook_path, notebook_task, runs_created
from tests.support.task_instance import FakeTaskInstance

FAST = {"polling_period_seconds": 0.1}


def _job(hook: DatabricksHook, name: str, notebook: str, **params: str) -> int:
    return hook.create_job(
        {"name": name, "max_concurrent_runs": 5, "tasks": [notebook_task("t", notebook, **params)]}
    )


def _wait_terminal(hook: DatabricksHook, run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    run = hook.get_run(run_id)
    while not RunState.of_run(run).is_terminal and time.monotonic() < deadline:
        time.sleep(0.1)
        run = hook.get_run(run_id)
    return run


# ---- json merged with named arguments ----------------------------------------------------------
@pytest.mark.parametrize(
    "json",
    [
        {"run_name": "from-json", "timeout_seconds": 5, "notebook_task": {"notebook_path": "/x"}},
        '{"run_name": "from-json", "timeout_seconds": 5, "notebook_task": {"notebook_path": "/x"}}',
        "{'run_name': 'from-json', 'timeout_seconds': 5, 'notebook_task': {'notebook_path': '/x'}}",
    ],
    ids=["mapping", "json-text", "dict-literal"],
)
def test_named_arguments_override_the_keys_of_json(json: Any) -> None:
    op = DatabricksSubmitRunOperator(
        task_id="t",
        json=json,
        run_name="named",
        existing_cluster_id="c-1",
        notebook_task={"notebook_path": "/y"},
    )
    assert op.build_spec() == {
        "run_name": "named",
        "timeout_seconds": 5,
        "existing_cluster_id": "c-1",
        "notebook_task": {"notebook_path": "/y"},
    }


def test_dbt_task_needs_git_source() -> None:
    op = DatabricksSubmitRunOperator(task_id="t", dbt_task={"commands": ["dbt run"]}, existing_cluster_id="c")
    with pytest.raises(DatabricksConfigError, match="dbt_task needs git_source"):
        op.build_spec()


def test_legacy_single_task_submit_runs_and_pushes_official_xcoms(workspace: Any) -> None:
    op = DatabricksSubmitRunOperator(
        task_id="legacy",
        notebook_task={"notebook_path": notebook_path("ok"), "base_parameters": {"greeting": "legacy"}},
        new_cluster=CLUSTER,
        libraries=[{"pypi": {"package": "simplejson"}}],
        **FAST,
    )
    ti = FakeTaskInstance()
    result = op.execute({"ti": ti})  # type: ignore[arg-type]
    assert result["result_state"] == "SUCCESS"
    assert list(result["task_outputs"].values()) == ["echo:legacy"]
    assert {"run_id", "run_page_url", "job_id"} <= set(ti.xcoms)


# ---- run-now ---------------------------------------------------------------------------------
def test_run_now_json_with_named_parameters_over_it(workspace: Any) -> None:
    hook = DatabricksHook()
    job_id = _job(hook, "echo", "ok")
    op = DatabricksRunNowOperator(
        task_id="t",
        json={"job_id": job_id, "notebook_params": {"greeting": "json"}},
        notebook_params={"greeting": "named"},
        **FAST,
    )
    result = op.execute({"ti": FakeTaskInstance(), "params": {"ignored": "x"}})  # type: ignore[arg-type]
    assert result["task_outputs"] == {"t": "echo:named"}


def test_job_name_must_match_exactly_one_job(workspace: Any) -> None:
    hook = DatabricksHook()
    with pytest.raises(DatabricksConfigError, match="job_name 'nope': no job of that name exists"):
        DatabricksRunNowOperator(task_id="t", job_name="nope").execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    _job(hook, "twice", "ok")
    _job(hook, "twice", "ok")
    with pytest.raises(DbxError, match="2 jobs are named 'twice'"):
        DatabricksRunNowOperator(task_id="t", job_name="twice").execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    assert runs_created(workspace) == 0


def test_job_id_and_job_name_in_json_and_named_clash_at_parse_time() -> None:
    with pytest.raises(DatabricksConfigError, match="give exactly one of job_id and job_name"):
        DatabricksRunNowOperator(task_id="t", json={"job_name": "a"}, job_id=3)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, {"day": "2024-01-01", "n": "3"}),
        ({"notebook_params": {"a": "b"}}, None),
        ({"job_parameters": {"x": "y"}}, {"x": "y"}),
        ({"forward_dag_params": False}, None),
    ],
    ids=["forwarded", "legacy-slot-set", "explicit-job-parameters", "turned-off"],
)
def test_dag_params_are_forwarded_as_the_official_operator_does(
    kwargs: dict[str, Any], expected: dict[str, str] | None
) -> None:
    op = DatabricksRunNowOperator(task_id="t", job_id=1, **kwargs)
    payload = op._payload({"params": {"day": "2024-01-01", "n": 3, "none": None}})  # type: ignore[typeddict-item]
    assert payload.get("job_parameters") == expected


def test_repair_run_repairs_the_same_run_once(workspace: Any) -> None:
    hook = DatabricksHook()
    job_id = _job(hook, "flaky", "flaky", marker=uuid.uuid4().hex)
    op = DatabricksRunNowOperator(task_id="t", job_id=job_id, repair_run=True, **FAST)
    result = op.execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    assert result["result_state"] == "SUCCESS" and result["task_outputs"] == {"t": "second attempt"}
    assert runs_created(workspace) == 1
    history = hook.get_run(result["run_id"], include_history=True)["repair_history"]
    assert [item["type"] for item in history] == ["ORIGINAL", "REPAIR"]


def test_repair_run_only_for_a_matching_reason(workspace: Any) -> None:
    hook = DatabricksHook()
    job_id = _job(hook, "fails", "fail")
    op = DatabricksRunNowOperator(
        task_id="t",
        job_id=job_id,
        repair_run=True,
        databricks_repair_reason_new_settings={"no such message": {"max_concurrent_runs": 2}},
        **FAST,
    )
    with pytest.raises(DbxError, match="failed"):
        op.execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    assert op.run_id is not None
    assert len(hook.get_run(op.run_id, include_history=True)["repair_history"]) == 1


def test_repair_run_after_a_deferred_wait_defers_again(workspace: Any) -> None:
    from tests.airflow_compat import TaskDeferred

    hook = DatabricksHook()
    job_id = _job(hook, "flaky", "flaky", marker=uuid.uuid4().hex)
    run_id = int(hook.run_now(job_id)["run_id"])
    failed = _wait_terminal(hook, run_id)
    assert RunState.of_run(failed).outcome == "FAILED"
    op = DatabricksRunNowOperator(task_id="t", job_id=job_id, repair_run=True, deferrable=True, **FAST)
    with pytest.raises(TaskDeferred):
        op.execute_complete({"ti": FakeTaskInstance()}, {"status": "failed", **run_summary(failed)})  # type: ignore[arg-type]
    assert RunState.of_run(_wait_terminal(hook, run_id)).is_successful


def test_cancel_previous_runs_cancels_the_jobs_active_runs(workspace: Any) -> None:
    hook = DatabricksHook()
    job_id = _job(hook, "nap", "sleep", seconds="30")
    earlier = int(hook.run_now(job_id)["run_id"])
    op = DatabricksRunNowOperator(
        task_id="t", job_id=job_id, cancel_previous_runs=True, wait_for_termination=False
    )
    ours = op.execute({"ti": FakeTaskInstance()})["run_id"]  # type: ignore[arg-type]
    assert RunState.of_run(_wait_terminal(hook, earlier)).outcome == "CANCELED"
    assert not RunState.of_run(hook.get_run(ours)).is_terminal
    hook.cancel_run(ours)


# ---- create job -------------------------------------------------------------------------------
def test_create_jobs_operator_is_an_alias_taking_named_job_settings(workspace: Any) -> None:
    assert DatabricksCreateJobsOperator is DatabricksCreateJobOperator
    op = DatabricksCreateJobsOperator(
        task_id="t",
        json={"name": "from-json", "max_concurrent_runs": 3},
        name="named",
        tasks=[
            {"task_key": "t", "job_cluster_key": "c", "notebook_task": {"notebook_path": notebook_path("ok")}}
        ],
        job_clusters=[{"job_cluster_key": "c", "new_cluster": CLUSTER}],
        tags={"team": "data"},
    )
    job_id = op.execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    settings = DatabricksHook().get_job(job_id)["settings"]
    assert (settings["name"], settings["max_concurrent_runs"], settings["tags"]) == (
        "named",
        3,
        {"team": "data"},
    )


# ---- retry arguments and durable ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("limit", "delay", "args", "budget"),
    [
        (None, None, None, None),
        (3, 1, None, 3.0),  # waits 1 + 2
        (10, 5, None, 5 + 10 + 20 + 40 + 80 + 160 + 320 + 640 + 1024),
        (None, None, {"stop": stop_after_delay(900), "wait": wait_fixed(1)}, 900.0),
        (None, 2, {"stop": stop_after_attempt(4)}, 2 + 4 + 8),
    ],
    ids=["none", "official-defaults", "long", "stop-after-delay", "stop-after-attempt"],
)
def test_official_retry_budget(limit: Any, delay: Any, args: Any, budget: float | None) -> None:
    assert official_retry_budget(limit, delay, args) == budget


def test_retry_arguments_extend_the_deadline_never_shorten_it(workspace: Any) -> None:
    short = DatabricksSubmitRunOperator(task_id="a", tasks=[], databricks_retry_limit=3)
    long = DatabricksSubmitRunOperator(
        task_id="b", tasks=[], databricks_retry_limit=12, databricks_retry_delay=10
    )
    assert short.hook.settings.retry_deadline_seconds == 600
    assert long.hook.settings.retry_deadline_seconds > 600


def test_retry_limit_below_one_fails_at_parse_time() -> None:
    with pytest.raises(DatabricksConfigError, match="databricks_retry_limit must be at least 1"):
        DatabricksRunNowOperator(task_id="t", job_id=1, databricks_retry_limit=0)


def test_user_token_is_used_as_given_and_durable_false_gives_each_try_its_own(workspace: Any) -> None:
    given = DatabricksSubmitRunOperator(task_id="t", tasks=[], idempotency_token="mine")
    assert given._base_token({"ti": FakeTaskInstance()}) == "mine"  # type: ignore[arg-type]
    op = DatabricksSubmitRunOperator(task_id="t", tasks=[], durable=False)
    first, second = FakeTaskInstance(), FakeTaskInstance()
    second.try_number = 2
    assert op._base_token({"ti": first}) != op._base_token({"ti": second})  # type: ignore[arg-type]
    durable = DatabricksSubmitRunOperator(task_id="t", tasks=[])
    assert durable._base_token({"ti": first}) == durable._base_token({"ti": second})  # type: ignore[arg-type]
