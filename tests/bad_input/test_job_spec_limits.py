"""The validator's graph checks stay iterative: long chains never recurse, whatever their order."""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest

from airflow_dbx_provider.exceptions import DatabricksJobSpecError
from airflow_dbx_provider.operators import job_spec

NB = {"notebook_path": "/Shared/x"}


def _chain(n: int, *, reverse: bool, cycle: bool = False) -> list[dict[str, Any]]:
    """t0 <- t1 <- ... (each depends on the previous); ``reverse`` declares the last task first."""
    tasks = [{"task_key": f"t{i}", "notebook_task": NB} for i in range(n)]
    for i in range(1, n):
        tasks[i]["depends_on"] = [{"task_key": f"t{i - 1}"}]
    if cycle:
        tasks[0]["depends_on"] = [{"task_key": f"t{n - 1}"}]
    return list(reversed(tasks)) if reverse else tasks


@pytest.fixture
def shallow_stack() -> Any:
    """A recursion limit far below the chain lengths: any recursive walk would blow it."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    yield
    sys.setrecursionlimit(old)


@pytest.mark.parametrize("reverse", [True, False], ids=["reverse-order", "in-order"])
def test_dependency_check_of_a_1500_task_chain_is_iterative(reverse: bool, shallow_stack: Any) -> None:
    tasks = _chain(1500, reverse=reverse)
    started = time.monotonic()
    job_spec._check_dependencies(tasks, [t["task_key"] for t in tasks])
    assert time.monotonic() - started < 5.0  # a quadratic walk of 1,500 tasks would take far longer


def test_a_cycle_through_a_long_chain_is_named_without_recursion(shallow_stack: Any) -> None:
    tasks = _chain(1500, reverse=True, cycle=True)
    with pytest.raises(DatabricksJobSpecError, match=r"^tasks depends_on has a cycle: t\d+ -> "):
        job_spec._check_dependencies(tasks, [t["task_key"] for t in tasks])


def test_the_task_count_limit_comes_before_the_graph() -> None:
    spec = {"name": "long", "tasks": _chain(1500, reverse=True)}
    with pytest.raises(DatabricksJobSpecError, match="tasks has 1500 entries, over the limit of 1000"):
        job_spec.validate_job_spec(spec)


def test_a_1000_task_reverse_chain_is_accepted(shallow_stack: Any) -> None:
    job_spec.validate_job_spec({"name": "long", "tasks": _chain(1000, reverse=True)})
