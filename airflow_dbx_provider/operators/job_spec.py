"""Local checks of job / run JSON, made before any API call.

Databricks rejects a bad spec only after a round trip, often with a vague message, and a cycle or a
misspelt ``depends_on`` is easy to write by hand. Every error here is one line that names the field,
e.g. ``tasks[2].depends_on[0].task_key 'transfrom' is not a task of this job``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from airflow_dbx_provider.exceptions import DatabricksJobSpecError
from airflow_dbx_provider.job_schema import (
    COMPUTE_FIELDS,
    MAX_IDEMPOTENCY_TOKEN_LENGTH,
    MAX_NAME_BYTES,
    MAX_NUM_WORKERS,
    MAX_TASKS_PER_JOB,
    MAX_TIMEOUT_SECONDS,
    TASK_KINDS,
)
from airflow_dbx_provider.runs.ids import is_cluster_id

#: Largest request body we send (Databricks caps request payloads at 10 MB).
MAX_SPEC_BYTES = 10 * 1024 * 1024
MAX_TASK_KEY_LENGTH = 100

__all__ = ["MAX_IDEMPOTENCY_TOKEN_LENGTH", "MAX_SPEC_BYTES", "MAX_TASK_KEY_LENGTH", "validate_job_spec"]

SpecKind = Literal["job", "submit"]

# field name -> accepted types, for the fields the provider or Databricks reads structurally
_TOP_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "run_name": (str,),
    "tasks": (list,),
    "job_clusters": (list,),
    "tags": (dict,),
    "parameters": (list,),
    "email_notifications": (dict,),
    "access_control_list": (list,),
    "git_source": (dict,),
    "queue": (dict,),
    "schedule": (dict,),
    "idempotency_token": (str,),
}
_TASK_TYPES: dict[str, tuple[type, ...]] = {
    "task_key": (str,),
    "depends_on": (list,),
    "existing_cluster_id": (str,),
    "new_cluster": (dict,),
    "job_cluster_key": (str,),
    "environment_key": (str,),
    "libraries": (list,),
    "run_if": (str,),
    "description": (str,),
    **{kind: (dict,) for kind in TASK_KINDS},
}
_INT_FIELDS = ("timeout_seconds", "max_concurrent_runs", "max_retries", "min_retry_interval_millis")
_INT_RANGES = {"timeout_seconds": (0, MAX_TIMEOUT_SECONDS), "max_concurrent_runs": (0, 1000)}
# Fields that name a workspace or DBFS path: Databricks refuses a NUL character in any of them.
_PATH_FIELDS = {
    "notebook_task": ("notebook_path",),
    "spark_python_task": ("python_file",),
    "dbt_task": ("project_directory",),
}
_TYPE_NAMES = {str: "a string", list: "a list", dict: "an object", int: "an integer", bool: "a boolean"}


def _fail(field: str, message: str) -> DatabricksJobSpecError:
    return DatabricksJobSpecError(f"{field} {message}", field=field)


def _check_types(obj: Mapping[str, Any], types: Mapping[str, tuple[type, ...]], prefix: str) -> None:
    for name, accepted in types.items():
        if name in obj and obj[name] is not None and not isinstance(obj[name], accepted):
            expected = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in accepted)
            raise _fail(f"{prefix}{name}", f"must be {expected}, got {type(obj[name]).__name__}")
    for name in _INT_FIELDS:
        value = obj.get(name)
        if value is None:
            continue
        number = _as_int(value, f"{prefix}{name}")
        if name in _INT_RANGES:
            _check_range(number, f"{prefix}{name}", *_INT_RANGES[name])


def _as_int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not (
        isinstance(value, int)
        or (isinstance(value, str) and value.removeprefix("-").isdigit() and len(value) <= 30)
    ):
        raise _fail(field, f"must be an integer, got {value!r}"[:200])
    return int(value)


def _check_range(number: int, field: str, low: int, high: int) -> None:
    if not low <= number <= high:
        text = str(number) if len(str(number)) <= 30 else f"a {len(str(abs(number)))}-digit number"
        raise _fail(field, f"is {text}, outside {low}..{high}")


def _check_name(spec: Mapping[str, Any], name: str) -> None:
    value = spec.get(name)
    if isinstance(value, str):
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_NAME_BYTES:
            raise _fail(name, f"is {size} bytes, over the limit of {MAX_NAME_BYTES}")


def _check_cluster_spec(cluster: Any, where: str) -> None:
    """num_workers / autoscale bounds of a new_cluster (its other fields are the workspace's business)."""
    if not isinstance(cluster, Mapping):
        return
    if cluster.get("num_workers") is not None:
        _check_range(
            _as_int(cluster["num_workers"], f"{where}.num_workers"),
            f"{where}.num_workers",
            0,
            MAX_NUM_WORKERS,
        )
    autoscale = cluster.get("autoscale")
    if isinstance(autoscale, Mapping):
        for bound in ("min_workers", "max_workers"):
            if autoscale.get(bound) is not None:
                field = f"{where}.autoscale.{bound}"
                _check_range(_as_int(autoscale[bound], field), field, 0, MAX_NUM_WORKERS)


def _check_paths(task: Mapping[str, Any], where: str) -> None:
    for kind, names in _PATH_FIELDS.items():
        body = task.get(kind)
        if not isinstance(body, Mapping):
            continue
        for name in names:
            value = body.get(name)
            if isinstance(value, str) and "\x00" in value:
                raise _fail(f"{where}.{kind}.{name}", "contains a NUL character")


def _check_size(spec: Mapping[str, Any], what: str) -> None:
    try:
        size = len(json.dumps(spec, separators=(",", ":")).encode())
    except (TypeError, ValueError) as exc:
        raise DatabricksJobSpecError(f"{what} is not JSON-serialisable: {exc}", field=what) from None
    if size > MAX_SPEC_BYTES:
        raise DatabricksJobSpecError(
            f"{what} is {size} bytes, over the {MAX_SPEC_BYTES}-byte request limit", field=what
        )


def _cluster_keys(spec: Mapping[str, Any]) -> set[str]:
    keys: set[str] = set()
    for i, cluster in enumerate(spec.get("job_clusters") or []):
        where = f"job_clusters[{i}]"
        if not isinstance(cluster, Mapping):
            raise _fail(where, f"must be an object, got {type(cluster).__name__}")
        key = cluster.get("job_cluster_key")
        if not isinstance(key, str) or not key:
            raise _fail(f"{where}.job_cluster_key", "must be a non-empty string")
        if key in keys:
            raise _fail(f"{where}.job_cluster_key", f"{key!r} is used by another job cluster")
        if not isinstance(cluster.get("new_cluster"), Mapping):
            raise _fail(f"{where}.new_cluster", "must be an object")
        _check_cluster_spec(cluster["new_cluster"], f"{where}.new_cluster")
        keys.add(key)
    return keys


def _check_task(task: Any, where: str, cluster_keys: set[str]) -> str:
    if not isinstance(task, Mapping):
        raise _fail(where, f"must be an object, got {type(task).__name__}")
    _check_types(task, _TASK_TYPES, f"{where}.")
    key = task.get("task_key")
    if not isinstance(key, str) or not key.strip():
        raise _fail(f"{where}.task_key", "is missing (every task needs a non-empty task_key)")
    if len(key) > MAX_TASK_KEY_LENGTH:
        raise _fail(f"{where}.task_key", f"is {len(key)} characters, over the limit of {MAX_TASK_KEY_LENGTH}")
    compute = [name for name in COMPUTE_FIELDS if task.get(name) is not None]
    if len(compute) > 1:
        raise _fail(where, f"has {len(compute)} compute specs ({', '.join(compute)}); give at most one")
    cluster_key = task.get("job_cluster_key")
    if cluster_key is not None and cluster_key not in cluster_keys:
        raise _fail(f"{where}.job_cluster_key", f"{cluster_key!r} is not in job_clusters")
    kinds = [name for name in TASK_KINDS if task.get(name) is not None]
    if not kinds:
        raise _fail(where, f"has no task type (give exactly one, e.g. notebook_task) for task {key!r}")
    if len(kinds) > 1:
        raise _fail(where, f"has {len(kinds)} task types ({', '.join(kinds)}); give exactly one")
    notebook = task.get("notebook_task")
    if notebook is not None and not isinstance(notebook.get("notebook_path"), str):
        raise _fail(f"{where}.notebook_task.notebook_path", "must be a string")
    _check_paths(task, where)
    cluster_id = task.get("existing_cluster_id")
    if cluster_id is not None and not is_cluster_id(cluster_id):
        raise _fail(
            f"{where}.existing_cluster_id",
            f"{cluster_id!r:.80} is not a cluster id (letters, digits, '-', '_' and '.')",
        )
    _check_cluster_spec(task.get("new_cluster"), f"{where}.new_cluster")
    return key


def _check_dependencies(tasks: list[Mapping[str, Any]], keys: list[str]) -> None:
    known = set(keys)
    graph: dict[str, list[str]] = {}
    for i, task in enumerate(tasks):
        upstream: list[str] = []
        for j, dep in enumerate(task.get("depends_on") or []):
            where = f"tasks[{i}].depends_on[{j}]"
            if not isinstance(dep, Mapping):
                raise _fail(where, f"must be an object like {{'task_key': ...}}, got {type(dep).__name__}")
            dep_key = dep.get("task_key")
            if not isinstance(dep_key, str):
                raise _fail(f"{where}.task_key", "must be a string")
            if dep_key not in known:
                raise _fail(f"{where}.task_key", f"{dep_key!r} is not a task of this job")
            if dep_key == keys[i]:
                raise _fail(f"{where}.task_key", f"{dep_key!r} is the task itself")
            upstream.append(dep_key)
        graph[keys[i]] = upstream
    _check_acyclic(graph)


def _check_acyclic(graph: Mapping[str, list[str]]) -> None:
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, index = stack.pop()
            if index == 0:
                path.append(node)
                on_path.add(node)
            upstream = graph.get(node, [])
            if index < len(upstream):
                stack.append((node, index + 1))
                nxt = upstream[index]
                if nxt in on_path:
                    cycle = [*path[path.index(nxt) :], nxt]
                    raise _fail("tasks", f"depends_on has a cycle: {' -> '.join(cycle)}")
                if nxt not in done:
                    stack.append((nxt, 0))
            else:
                path.pop()
                on_path.discard(node)
                done.add(node)


def validate_job_spec(spec: Any, *, kind: SpecKind = "job", what: str = "json") -> None:
    """Raise :class:`DatabricksJobSpecError` on the first problem of a job (``kind='job'``) or
    one-time run (``kind='submit'``) spec; return None when it looks sendable."""
    if not isinstance(spec, Mapping):
        raise DatabricksJobSpecError(f"{what} must be an object, got {type(spec).__name__}", field=what)
    _check_size(spec, what)
    _check_types(spec, _TOP_TYPES, "")
    token = spec.get("idempotency_token")
    if isinstance(token, str) and len(token) > MAX_IDEMPOTENCY_TOKEN_LENGTH:
        raise _fail("idempotency_token", f"is {len(token)} characters, over {MAX_IDEMPOTENCY_TOKEN_LENGTH}")
    _check_name(spec, "name")
    _check_name(spec, "run_name")
    cluster_keys = _cluster_keys(spec)
    tasks = spec.get("tasks")
    if tasks is None:
        if kind == "submit" and not any(spec.get(k) is not None for k in TASK_KINDS):
            raise _fail("tasks", "is missing (a run needs tasks, or one top-level task type)")
        return
    if kind == "submit" and not tasks:
        raise _fail("tasks", "is empty (a run needs at least one task)")
    if len(tasks) > MAX_TASKS_PER_JOB:
        raise _fail("tasks", f"has {len(tasks)} entries, over the limit of {MAX_TASKS_PER_JOB} tasks per job")
    keys: list[str] = []
    seen: dict[str, int] = {}
    for i, task in enumerate(tasks):
        key = _check_task(task, f"tasks[{i}]", cluster_keys)
        if key in seen:
            raise _fail(f"tasks[{i}].task_key", f"{key!r} is already used by tasks[{seen[key]}]")
        seen[key] = i
        keys.append(key)
    _check_dependencies(tasks, keys)
