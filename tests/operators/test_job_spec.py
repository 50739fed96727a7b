"""Every job/run JSON check fails before any API call, with a one-line message naming the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from airflow_dbx_provider.exceptions import DatabricksJobSpecError
from airflow_dbx_provider.operators.job_spec import MAX_SPEC_BYTES, validate_job_spec

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}


def _job() -> dict[str, Any]:
    return {
        "name": "etl",
        "job_clusters": [{"job_cluster_key": "shared", "new_cluster": CLUSTER}],
        "tasks": [
            {"task_key": "ingest", "job_cluster_key": "shared", "notebook_task": {"notebook_path": "/a"}},
            {
                "task_key": "transform",
                "depends_on": [{"task_key": "ingest"}],
                "existing_cluster_id": "c-1",
                "notebook_task": {"notebook_path": "/b"},
            },
            {
                "task_key": "publish",
                "depends_on": [{"task_key": "transform"}],
                "environment_key": "default",
                "spark_python_task": {"python_file": "/p.py"},
            },
        ],
    }


def _with(path: str, value: Any) -> dict[str, Any]:
    """A copy of the valid job with ``value`` set at dotted ``path`` (list indexes as numbers)."""
    spec = copy.deepcopy(_job())
    parts = path.split(".")
    node: Any = spec
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return spec


def test_valid_job_passes() -> None:
    validate_job_spec(_job())


def test_legacy_single_task_submit_passes() -> None:
    validate_job_spec({"run_name": "x", "notebook_task": {"notebook_path": "/a"}}, kind="submit")


INVALID = [
    ("not-an-object", ["tasks"], "json must be an object, got list"),
    ("name-type", _with("name", 5), "name must be a string, got int"),
    ("tasks-type", _with("tasks", {"a": 1}), "tasks must be a list, got dict"),
    ("task-not-object", _with("tasks.1", "transform"), "tasks[1] must be an object, got str"),
    ("task-key-missing", _with("tasks.0.task_key", ""), "tasks[0].task_key is missing"),
    ("task-key-type", _with("tasks.0.task_key", 3), "tasks[0].task_key must be a string, got int"),
    ("task-key-too-long", _with("tasks.0.task_key", "k" * 101), "tasks[0].task_key is 101 characters"),
    (
        "duplicate-task-key",
        _with("tasks.2.task_key", "ingest"),
        "tasks[2].task_key 'ingest' is already used by tasks[0]",
    ),
    (
        "unknown-dependency",
        _with("tasks.2.depends_on", [{"task_key": "transfrom"}]),
        "tasks[2].depends_on[0].task_key 'transfrom' is not a task of this job",
    ),
    (
        "dependency-not-object",
        _with("tasks.1.depends_on", ["ingest"]),
        "tasks[1].depends_on[0] must be an object",
    ),
    ("depends-on-type", _with("tasks.1.depends_on", "ingest"), "tasks[1].depends_on must be a list, got str"),
    ("self-dependency", _with("tasks.0.depends_on", [{"task_key": "ingest"}]), "'ingest' is the task itself"),
    (
        "cycle",
        _with("tasks.0.depends_on", [{"task_key": "publish"}]),
        "tasks depends_on has a cycle: ingest -> publish -> transform -> ingest",
    ),
    (
        "two-compute-specs",
        _with("tasks.1.new_cluster", CLUSTER),
        "tasks[1] has 2 compute specs (existing_cluster_id, new_cluster)",
    ),
    (
        "unknown-job-cluster",
        _with("tasks.0.job_cluster_key", "big"),
        "tasks[0].job_cluster_key 'big' is not in job_clusters",
    ),
    (
        "new-cluster-type",
        _with("tasks.1.new_cluster", "i3"),
        "tasks[1].new_cluster must be an object, got str",
    ),
    (
        "two-task-types",
        _with("tasks.0.spark_jar_task", {"main_class_name": "M"}),
        "tasks[0] has 2 task types",
    ),
    (
        "notebook-path-type",
        _with("tasks.0.notebook_task", {"notebook_path": 1}),
        "tasks[0].notebook_task.notebook_path must be a string",
    ),
    ("timeout-type", _with("timeout_seconds", "soon"), "timeout_seconds must be an integer, got 'soon'"),
    ("task-retries-type", _with("tasks.0.max_retries", 1.5), "tasks[0].max_retries must be an integer"),
    (
        "job-cluster-key-duplicate",
        _with("job_clusters", [{"job_cluster_key": "shared", "new_cluster": CLUSTER}] * 2),
        "job_clusters[1].job_cluster_key 'shared' is used by another job cluster",
    ),
    (
        "job-cluster-no-new-cluster",
        _with("job_clusters", [{"job_cluster_key": "shared"}]),
        "job_clusters[0].new_cluster must be an object",
    ),
    ("token-too-long", _with("idempotency_token", "t" * 65), "idempotency_token is 65 characters, over 64"),
    ("not-serialisable", _with("tags", {"when": object()}), "json is not JSON-serialisable"),
    (
        "too-big",
        _with("description", "x" * (MAX_SPEC_BYTES + 1)),
        "bytes, over the 10485760-byte request limit",
    ),
]


@pytest.mark.parametrize(("spec", "message"), [(s, m) for _, s, m in INVALID], ids=[i for i, _, _ in INVALID])
def test_invalid_spec_is_rejected_with_field_named(spec: Any, message: str) -> None:
    with pytest.raises(DatabricksJobSpecError) as info:
        validate_job_spec(spec)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"run_name": "x"}, "tasks is missing"),
        ({"run_name": "x", "tasks": []}, "tasks is empty"),
    ],
    ids=["no-tasks", "empty-tasks"],
)
def test_submit_needs_a_task(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(DatabricksJobSpecError, match=message):
        validate_job_spec(spec, kind="submit")
