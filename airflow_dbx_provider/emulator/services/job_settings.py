"""JobSettings validation: the checks and defaults Databricks applies to jobs/create, reset,
update and runs/submit (task keys, kinds, compute, the dependency graph, field types).

Pure functions over Python values; shared by the jobs and runs services.
"""

from __future__ import annotations

import copy
from typing import Any

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.wire import INT32_MAX, to_int
from airflow_dbx_provider.job_schema import COMPUTE_FIELDS, TASK_KINDS

# Kinds that run on a warehouse, a pipeline or nothing at all: no cluster to name.
NO_COMPUTE_KINDS = (
    "sql_task",
    "pipeline_task",
    "run_job_task",
    "condition_task",
    "for_each_task",
    "dashboard_task",
)
# Databricks' limits: "A job can contain up to 1000 tasks"; the name is at most 4096 bytes and
# the description 27700 characters; a task key matches ^[\w\-]+$ and is at most 100 long.
MAX_TASKS = 1000
MAX_NAME_BYTES = 4096
MAX_DESCRIPTION_CHARS = 27700
MAX_TASK_DESCRIPTION_CHARS = 1000
MAX_JOB_CLUSTERS = 100
# int32 fields, with their lowest value (max_retries -1: retry forever).
INT_TASK_FIELDS = {"timeout_seconds": 0, "max_retries": -1, "min_retry_interval_millis": 0}
RUN_IF_VALUES = (
    "ALL_SUCCESS",
    "AT_LEAST_ONE_SUCCESS",
    "NONE_FAILED",
    "ALL_DONE",
    "AT_LEAST_ONE_FAILED",
    "ALL_FAILED",
)
# JSON types of the JobSettings / task fields that are read structurally (a wrong type is a 400,
# as Databricks' request parser answers, never a crash).
SETTINGS_FIELD_TYPES: dict[str, type] = {
    "name": str,
    "tasks": list,
    "job_clusters": list,
    "tags": dict,
    "parameters": list,
    "email_notifications": dict,
    "access_control_list": list,
    "git_source": dict,
    "queue": dict,
    "schedule": dict,
}
TASK_FIELD_TYPES: dict[str, type] = {
    "task_key": str,
    "depends_on": list,
    "existing_cluster_id": str,
    "new_cluster": dict,
    "job_cluster_key": str,
    "environment_key": str,
    "libraries": list,
    "run_if": str,
    "description": str,
    **{kind: dict for kind in TASK_KINDS},
}
_JSON_TYPE_NAMES: dict[type, str] = {str: "a string", list: "an array", dict: "an object"}


def check_field_types(obj: dict[str, Any], types: dict[str, type], where: str = "") -> None:
    for name, expected in types.items():
        value = obj.get(name)
        if value is not None and not isinstance(value, expected):
            raise invalid_parameter(
                f"Invalid value for field {where}{name}: expected {_JSON_TYPE_NAMES[expected]}."
            )


def drop_nulls(value: Any) -> Any:
    """Airflow sends explicit nulls (`"jar_params": null`); Databricks treats them as absent."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value if v is not None]
    return value


def check_name(value: Any, field: str = "name") -> str:
    name = str(value)
    if len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
        raise invalid_parameter(f"The {field} is longer than {MAX_NAME_BYTES} bytes.")
    return name


def check_job_clusters(job_clusters: Any) -> list[dict[str, Any]]:
    """`job_clusters`: a list of `{job_cluster_key, new_cluster: {...}}` objects with unique keys."""
    if not isinstance(job_clusters, list):
        raise invalid_parameter("Invalid value for field job_clusters: expected a list")
    if len(job_clusters) > MAX_JOB_CLUSTERS:
        raise invalid_parameter(f"A job can define at most {MAX_JOB_CLUSTERS} job clusters.")
    keys: set[str] = set()
    for cluster in job_clusters:
        if not isinstance(cluster, dict) or not isinstance(cluster.get("new_cluster"), dict):
            raise invalid_parameter(
                "Invalid value for field job_clusters: expected objects with a new_cluster."
            )
        key = cluster.get("job_cluster_key")
        if not isinstance(key, str) or not key or len(key) > 100 or key in keys:
            raise invalid_parameter(
                "Each job cluster needs a unique job_cluster_key of at most 100 characters."
            )
        keys.add(key)
        workers = cluster["new_cluster"].get("num_workers")
        if workers is not None:
            to_int(workers, "job_clusters.new_cluster.num_workers", 0, MAX_WORKERS)
    return job_clusters


MAX_WORKERS = 100_000


def cluster_specs(tasks: list[Any], job_clusters: list[Any]) -> list[dict[str, Any]]:
    """Every cluster spec a job or submitted run names (`job_clusters` and tasks' `new_cluster`)."""
    specs = [c["new_cluster"] for c in job_clusters if isinstance(c, dict)]
    specs += [t["new_cluster"] for t in tasks if isinstance(t, dict) and t.get("new_cluster")]
    return [spec for spec in specs if isinstance(spec, dict)]


def normalize_tasks(tasks: Any, *, serverless: bool, job_cluster_keys: set[str]) -> list[dict[str, Any]]:
    """Check task keys, kinds, compute and the dependency graph as Databricks does.

    A task naming no compute runs on serverless compute where the workspace has it
    (`serverless`); otherwise jobs/create and runs/submit alike refuse it.
    """
    if not isinstance(tasks, list):
        raise invalid_parameter("Invalid value for field tasks: expected a list")
    if len(tasks) > MAX_TASKS:
        raise invalid_parameter(f"A job can contain at most {MAX_TASKS} tasks; this one has {len(tasks)}.")
    result: list[dict[str, Any]] = []
    keys: set[str] = set()
    for raw in tasks:
        if not isinstance(raw, dict):
            raise invalid_parameter("Invalid value for field tasks: expected a list of objects")
        task = drop_nulls(raw)
        check_field_types(task, TASK_FIELD_TYPES, "tasks.")
        key = task.get("task_key")
        if not key:
            raise invalid_parameter("Missing required field: task_key")
        key = str(key)
        if len(key) > 100:
            raise invalid_parameter(f"The task key '{key[:20]}...' is longer than 100 characters.")
        if not key.isprintable():
            raise invalid_parameter(f"The task key {key!r} holds a control character.")
        if len(str(task.get("description", ""))) > MAX_TASK_DESCRIPTION_CHARS:
            raise invalid_parameter(f"A task description is at most {MAX_TASK_DESCRIPTION_CHARS} characters.")
        new_cluster = task.get("new_cluster")
        if isinstance(new_cluster, dict) and new_cluster.get("num_workers") is not None:
            to_int(new_cluster["num_workers"], "new_cluster.num_workers", 0, MAX_WORKERS)
        if key in keys:
            raise invalid_parameter(f"Duplicate task key '{key}'. Task keys must be unique within a job.")
        keys.add(key)
        task["task_key"] = key
        kinds = [kind for kind in TASK_KINDS if kind in task]
        if not kinds:
            raise invalid_parameter(f"Task {key} must specify exactly one task type, e.g. notebook_task.")
        if len(kinds) > 1:
            raise invalid_parameter(f"Task {key} specifies more than one task type: {', '.join(kinds)}.")
        for name, lowest in INT_TASK_FIELDS.items():
            if name in task:
                task[name] = to_int(task[name], name, lowest, INT32_MAX)
        if not serverless and kinds[0] not in NO_COMPUTE_KINDS and not any(k in task for k in COMPUTE_FIELDS):
            raise invalid_parameter(
                "One of job_cluster_key, new_cluster, or existing_cluster_id must be specified."
            )
        cluster_key = task.get("job_cluster_key")
        if cluster_key is not None and cluster_key not in job_cluster_keys:
            raise invalid_parameter(
                f"Task {key} references the job cluster '{cluster_key}' which is not defined."
            )
        run_if = str(task.get("run_if", "ALL_SUCCESS")).upper()
        if run_if not in RUN_IF_VALUES:
            raise invalid_parameter(f"Invalid run_if value '{run_if}' for task {key}.")
        task["run_if"] = run_if
        depends = task.get("depends_on", [])
        if not isinstance(depends, list) or not all(
            isinstance(d, dict) and d.get("task_key") for d in depends
        ):
            raise invalid_parameter(
                f"Invalid depends_on for task {key}: expected a list of {{task_key}} objects."
            )
        if len(depends) > MAX_TASKS:
            raise invalid_parameter(f"Task {key} depends on more than {MAX_TASKS} tasks.")
        task["depends_on"] = [dict(d, task_key=str(d["task_key"])) for d in depends]
        result.append(task)
    for task in result:
        for dep in task["depends_on"]:
            if dep["task_key"] not in keys:
                raise invalid_parameter(
                    f"Invalid dependency graph, task '{task['task_key']}' can not reference "
                    f"non-existent task '{dep['task_key']}'."
                )
    _check_acyclic(result)
    return result


def _check_acyclic(tasks: list[dict[str, Any]]) -> None:
    """Kahn's algorithm, iteratively: a 1,000-task chain in any order costs no recursion."""
    graph = {t["task_key"]: {d["task_key"] for d in t["depends_on"]} for t in tasks}
    waiting = {key: len(upstream) for key, upstream in graph.items()}
    downstream: dict[str, list[str]] = {key: [] for key in graph}
    for key, upstream in graph.items():
        for parent in upstream:
            downstream[parent].append(key)
    ready = [key for key, count in waiting.items() if count == 0]
    while ready:
        for child in downstream[ready.pop()]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    stuck = [key for key, count in waiting.items() if count > 0]
    if stuck:
        cycle = _a_cycle(graph, stuck)
        raise invalid_parameter(
            f"Invalid dependency graph, cyclic dependency detected: {' -> '.join(cycle)}."
        )


def _a_cycle(graph: dict[str, set[str]], stuck: list[str]) -> list[str]:
    """One cycle among the tasks Kahn's algorithm could not order (each has a stuck upstream)."""
    remaining = set(stuck)
    seen: dict[str, int] = {}
    path: list[str] = []
    key = stuck[0]
    while key not in seen:
        seen[key] = len(path)
        path.append(key)
        key = sorted(u for u in graph[key] if u in remaining)[0]
    return [*path[seen[key] :], key][:20]


def normalize_settings(raw: dict[str, Any], version: str, *, serverless: bool = True) -> dict[str, Any]:
    """Defaults and coercions for JobSettings. 2.2 jobs queue by default, 2.1 jobs do not."""
    settings = drop_nulls(copy.deepcopy(raw))
    check_field_types(settings, SETTINGS_FIELD_TYPES)
    check_job_clusters(settings.get("job_clusters", []))
    settings.pop("access_control_list", None)
    settings.setdefault("name", "Untitled")
    check_name(settings["name"])
    if len(str(settings.get("description", ""))) > MAX_DESCRIPTION_CHARS:
        raise invalid_parameter(f"The job description is longer than {MAX_DESCRIPTION_CHARS} characters.")
    settings["format"] = "MULTI_TASK"
    settings["max_concurrent_runs"] = to_int(settings.get("max_concurrent_runs", 1), "max_concurrent_runs")
    if not 0 <= settings["max_concurrent_runs"] <= 1000:
        raise invalid_parameter("max_concurrent_runs must be between 0 and 1000.")
    settings["timeout_seconds"] = to_int(settings.get("timeout_seconds", 0), "timeout_seconds", 0, INT32_MAX)
    settings.setdefault("email_notifications", {})
    if "queue" not in settings and version == "2.2":
        settings["queue"] = {"enabled": True}
    job_clusters = settings.get("job_clusters", [])
    cluster_keys = {str(c.get("job_cluster_key")) for c in job_clusters if isinstance(c, dict)}
    settings["tasks"] = normalize_tasks(
        settings.get("tasks", []), serverless=serverless, job_cluster_keys=cluster_keys
    )
    if not settings["tasks"]:
        settings.pop("tasks")
    return settings
