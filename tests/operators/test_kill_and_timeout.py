"""on_kill (sync path) and trigger timeout (deferred path) cancel the remote run."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from airflow_dbx_provider.exceptions import DatabricksConfigError, DatabricksRunFailedError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.operators import DatabricksRunNowOperator, DatabricksSubmitRunOperator
from airflow_dbx_provider.runs.state import RunState
from tests.operators.support import notebook_task
from tests.support.task_instance import FakeTaskInstance


def _wait_terminal(hook: DatabricksHook, run_id: int) -> RunState:
    deadline = time.monotonic() + 15
    state = RunState.of_run(hook.get_run(run_id))
    while not state.is_terminal and time.monotonic() < deadline:
        time.sleep(0.1)
        state = RunState.of_run(hook.get_run(run_id))
    return state


def test_on_kill_cancels_the_remote_run(workspace: Any) -> None:
    op = DatabricksSubmitRunOperator(
        task_id="t", tasks=[notebook_task("nap", "sleep", seconds="30")], polling_period_seconds=0.1
    )
    ti = FakeTaskInstance()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            op.execute({"ti": ti})  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 10
    while op.run_id is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert op.run_id is not None
    op.on_kill()
    worker.join(15)
    assert not worker.is_alive()
    assert isinstance(errors[0], DatabricksRunFailedError)
    assert errors[0].result_state == "CANCELED"
    assert "was canceled" in str(errors[0])
    assert _wait_terminal(DatabricksHook(), op.run_id).outcome == "CANCELED"


def test_trigger_timeout_cancels_the_run_on_resume(workspace: Any) -> None:
    hook = DatabricksHook()
    run_id = hook.submit_run({"run_name": "long", "tasks": [notebook_task("nap", "sleep", seconds="30")]})
    op = DatabricksSubmitRunOperator(task_id="t", tasks=[notebook_task("nap", "sleep")], deferrable=True)
    ti = FakeTaskInstance()
    ti.xcoms["run_id"] = run_id
    from tests.airflow_compat import TaskDeferralTimeout

    with pytest.raises(TaskDeferralTimeout):
        op.resume_execution("__fail__", {"error": "Trigger timeout"}, {"ti": ti})  # type: ignore[arg-type]
    assert _wait_terminal(hook, run_id).outcome == "CANCELED"


def test_deferrable_execute_defers_with_a_plain_trigger(workspace: Any) -> None:
    from tests.airflow_compat import TaskDeferred

    op = DatabricksSubmitRunOperator(
        task_id="t",
        tasks=[notebook_task("nap", "sleep", seconds="5")],
        deferrable=True,
        polling_period_seconds=1,
    )
    ti = FakeTaskInstance()
    with pytest.raises(TaskDeferred) as info:
        op.execute({"ti": ti})  # type: ignore[arg-type]
    classpath, kwargs = info.value.trigger.serialize()
    assert classpath.endswith("DatabricksRunTrigger")
    assert kwargs["run_id"] == ti.xcoms["run_id"] and kwargs["polling_period_seconds"] == 1
    assert ti.xcoms["run_page_url"] == kwargs["run_page_url"]
    DatabricksHook().cancel_run(kwargs["run_id"])


@pytest.mark.parametrize(
    "kwargs", [{}, {"job_id": 1, "job_name": "x"}], ids=["neither-job-id-nor-name", "both-job-id-and-name"]
)
def test_run_now_needs_exactly_one_job_reference(kwargs: dict[str, Any]) -> None:
    with pytest.raises(DatabricksConfigError, match="give exactly one of job_id and job_name"):
        DatabricksRunNowOperator(task_id="t", **kwargs)


def test_invalid_json_fails_before_any_api_call(workspace: Any) -> None:
    from airflow_dbx_provider.exceptions import DatabricksJobSpecError

    before = workspace.counters()["total_requests"]
    op = DatabricksSubmitRunOperator(
        task_id="t",
        tasks=[notebook_task("a", "ok"), {**notebook_task("b", "ok"), "depends_on": [{"task_key": "c"}]}],
    )
    with pytest.raises(
        DatabricksJobSpecError, match=r"tasks\[1\].depends_on\[0\].task_key 'c' is not a task"
    ):
        op.execute({"ti": FakeTaskInstance()})  # type: ignore[arg-type]
    assert workspace.counters()["total_requests"] == before
