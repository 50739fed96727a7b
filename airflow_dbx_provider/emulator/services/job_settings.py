"""JobSettings validation: the checks and defaults Databricks applies to jobs/create, reset,
update and runs/submit (task keys, kinds, compute, the dependency graph, field types).

Pure functions over Python values; shared by the jobs and runs services.
"""

from __future__ import annotations

import copy
from typing import Any

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.wire import to_int
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
INT_TASK_FIELDS = ("timeout_seconds", "max_retries", "min_retry_interval_millis")
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


def normalize_tasks(tasks: Any, *, submit: bool, job_cluster_keys: set[str]) -> list[dict[str, Any]]:
    """Check task keys, kinds, compute and the dependency graph as Databricks does."""
    if not isinstance(tasks, list):
        raise invalid_parameter("Invalid value for field tasks: expected a list")
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
        if key in keys:
            raise invalid_parameter(f"Duplicate task key '{key}'. Task keys must be unique within a job.")
        keys.add(key)
        task["task_key"] = key
        kinds = [kind for kind in TASK_KINDS if kind in task]
        if not kinds:
            raise invalid_parameter(f"Task {key} must specify exactly one task type, e.g. notebook_task.")
        if len(kinds) > 1:
            raise invalid_parameter(f"Task {key} specifies more than one task type: {', '.join(kinds)}.")
        for name in INT_TASK_FIELDS:
            if name in task:
                task[name] = to_int(task[name], name)
        if submit and kinds[0] not in NO_COMPUTE_KINDS and not any(k in task for k in COMPUTE_FIELDS):
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
    graph = {t["task_key"]: [d["task_key"] for d in t["depends_on"]] for t in tasks}
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(key: str, path: list[str]) -> None:
        if key in done:
            return
        if key in visiting:
            cycle = path[path.index(key) :] + [key]
            raise invalid_parameter(
                f"Invalid dependency graph, cyclic dependency detected: {' -> '.join(cycle)}."
            )
        visiting.add(key)
        for upstream in graph[key]:
            visit(upstream, path + [key])
        visiting.discard(key)
        done.add(key)

    for key in graph:
        visit(key, [])


def normalize_settings(raw: dict[str, Any], version: str) -> dict[str, Any]:
    """Defaults and coercions for JobSettings. 2.2 jobs queue by default, 2.1 jobs do not."""
    settings = drop_nulls(copy.deepcopy(raw))
    check_field_types(settings, SETTINGS_FIELD_TYPES)
    for cluster in settings.get("job_clusters", []):
        if not isinstance(cluster, dict) or not isinstance(cluster.get("new_cluster"), dict):
            raise invalid_parameter(
                "Invalid value for field job_clusters: expected objects with a new_cluster."
            )
    settings.pop("access_control_list", None)
    settings.setdefault("name", "Untitled")
    settings["format"] = "MULTI_TASK"
    settings["max_concurrent_runs"] = to_int(settings.get("max_concurrent_runs", 1), "max_concurrent_runs")
    if not 0 <= settings["max_concurrent_runs"] <= 1000:
        raise invalid_parameter("max_concurrent_runs must be between 0 and 1000.")
    settings["timeout_seconds"] = to_int(settings.get("timeout_seconds", 0), "timeout_seconds")
    settings.setdefault("email_notifications", {})
    if "queue" not in settings and version == "2.2":
        settings["queue"] = {"enabled": True}
    job_clusters = settings.get("job_clusters", [])
    cluster_keys = {str(c.get("job_cluster_key")) for c in job_clusters if isinstance(c, dict)}
    settings["tasks"] = normalize_tasks(
        settings.get("tasks", []), submit=False, job_cluster_keys=cluster_keys
    )
    if not settings["tasks"]:
        settings.pop("tasks")
    return settings
