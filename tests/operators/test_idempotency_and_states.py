"""Token derivation and run-state mapping (pure)."""

from __future__ import annotations

import pytest

from airflow_dbx_provider.operators.idempotency import base_token as keyed_base_token
from airflow_dbx_provider.operators.idempotency import generation_token
from airflow_dbx_provider.runs.state import RunState
from airflow_dbx_provider.runs.summary import latest_task_attempts, run_summary

KEY = b"k" * 32


def base_token(dag_id: str, task_id: str, run_id: str, map_index: int | None) -> str:
    return keyed_base_token(dag_id, task_id, run_id, map_index, key=KEY)


def test_token_is_stable_short_and_distinct() -> None:
    token = base_token("dag", "task", "manual__2026-01-01", -1)
    assert token == base_token("dag", "task", "manual__2026-01-01", -1)
    assert len(token) <= 64
    others = {
        base_token("dag2", "task", "manual__2026-01-01", -1),
        base_token("dag", "task2", "manual__2026-01-01", -1),
        base_token("dag", "task", "manual__2026-01-02", -1),
        base_token("dag", "task", "manual__2026-01-01", 3),
        # separator-aware: ("da", "gtask") must not collide with ("dag", "task")
        base_token("da", "gtask", "manual__2026-01-01", -1),
    }
    assert token not in others and len(others) == 5


def test_generation_tokens() -> None:
    base = base_token("d", "t", "r", None)
    assert generation_token(base, 0) == base
    assert len({generation_token(base, g) for g in range(5)}) == 5
    assert all(len(generation_token(base, g)) <= 64 for g in range(5))


@pytest.mark.parametrize(
    ("state", "terminal", "success", "outcome", "phrase"),
    [
        ({"life_cycle_state": "PENDING"}, False, False, "PENDING", "pending"),
        ({"life_cycle_state": "RUNNING"}, False, False, "RUNNING", "running"),
        ({"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}, True, True, "SUCCESS", "succeeded"),
        ({"life_cycle_state": "TERMINATED", "result_state": "FAILED"}, True, False, "FAILED", "failed"),
        (
            {"life_cycle_state": "TERMINATED", "result_state": "TIMEDOUT"},
            True,
            False,
            "TIMEDOUT",
            "timed out",
        ),
        (
            {"life_cycle_state": "TERMINATED", "result_state": "CANCELED"},
            True,
            False,
            "CANCELED",
            "was canceled",
        ),
        (
            {"life_cycle_state": "SKIPPED", "state_message": "limit"},
            True,
            False,
            "SKIPPED",
            "was skipped: limit",
        ),
        (
            {"life_cycle_state": "INTERNAL_ERROR", "result_state": "FAILED"},
            True,
            False,
            "INTERNAL_ERROR",
            "internal error",
        ),
    ],
    ids=["pending", "running", "success", "failed", "timedout", "canceled", "skipped", "internal-error"],
)
def test_state_mapping(state: dict, terminal: bool, success: bool, outcome: str, phrase: str) -> None:
    rs = RunState.from_api(state)
    assert (rs.is_terminal, rs.is_successful, rs.outcome) == (terminal, success, outcome)
    assert phrase in rs.describe()
    assert RunState.from_dict(rs.to_dict()) == rs


def test_latest_attempt_per_task_key() -> None:
    tasks = [
        {"task_key": "a", "run_id": 1, "attempt_number": 0, "start_time": 10},
        {"task_key": "b", "run_id": 2, "attempt_number": 0, "start_time": 11},
        {"task_key": "a", "run_id": 3, "attempt_number": 1, "start_time": 20},
    ]
    assert [t["run_id"] for t in latest_task_attempts(tasks)] == [3, 2]


def test_run_summary_is_plain() -> None:
    run = {
        "run_id": 7,
        "job_id": 3,
        "run_page_url": "http://x/#job/3/run/7",
        "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS", "state_message": ""},
        "tasks": [
            {"task_key": "a", "run_id": 8, "notebook_task": {}, "state": {"life_cycle_state": "TERMINATED"}}
        ],
    }
    summary = run_summary(run)
    assert summary["tasks"][0] == {
        "task_key": "a",
        "run_id": 8,
        "attempt_number": 0,
        "notebook": True,
        "life_cycle_state": "TERMINATED",
        "result_state": None,
        "state_message": "",
    }
    assert summary["run_state"]["result_state"] == "SUCCESS"
