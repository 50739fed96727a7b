"""Saved jobs: settings validation, CRUD and the 2.1/2.2 serialisations of jobs/get and jobs/list.

Everything here takes Python values and raises `EmulatorError`; HTTP lives in handlers/jobs.py.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import EmulatorError, does_not_exist_400, invalid_parameter
from airflow_dbx_provider.emulator.routing import to_int
from airflow_dbx_provider.job_schema import COMPUTE_FIELDS, TASK_KINDS

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.workspace_state import WorkspaceState

PAGE_ARRAY_LIMIT = 100  # 2.2 pages tasks/job_clusters of jobs/get and runs/get at 100
MAX_JOBS = 10_000
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


def encode_token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(data, dict):
            return data
    except (ValueError, UnicodeDecodeError):
        pass
    raise invalid_parameter(f"Invalid page token: {token}")


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


class JobsService:
    """Saved jobs, kept in the `jobs` collection; `permissions` guards every call."""

    def __init__(self, state: WorkspaceState) -> None:
        self.state = state
        self.jobs = state.store.collection("jobs")

    # -- lookups -------------------------------------------------------------------------------
    def exists(self, job_id: int) -> bool:
        return job_id in self.jobs

    def get_job(self, job_id: int) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise does_not_exist_400(f"Job {job_id} does not exist.")
        return job

    def check(self, principal: Principal, job_id: int, level: str) -> dict[str, Any]:
        job = self.get_job(job_id)
        self.state.permissions.check_job(principal, job_id, level)
        return job

    def new_job_id(self) -> int:
        return self.state.store.next_id("job_id", start=101)

    # -- writes --------------------------------------------------------------------------------
    def create(self, principal: Principal, raw: dict[str, Any], version: str) -> int:
        if len(self.jobs) >= MAX_JOBS:
            raise EmulatorError(
                "QUOTA_EXCEEDED",
                f"The quota for the number of jobs has been reached. The current quota is {MAX_JOBS}.",
                400,
            )
        settings = normalize_settings(raw, version)
        job_id = self.new_job_id()
        run_as = (raw.get("run_as") or {}) if isinstance(raw.get("run_as"), dict) else {}
        job = {
            "job_id": job_id,
            "creator_user_name": principal.name,
            "run_as_user_name": run_as.get("user_name")
            or run_as.get("service_principal_name")
            or principal.name,
            "created_time": self.state.clock.now_ms(),
            "settings": settings,
            "_version": version,
        }
        self.jobs.put(job_id, job)
        self.state.permissions.on_job_created(job_id, principal)
        acl = raw.get("access_control_list")
        if acl:
            self.state.permissions.apply_job_acl(job_id, acl, principal)
        self.state.counters.incr("jobs_created")
        return job_id

    def update(
        self, principal: Principal, job_id: int, new_settings: dict[str, Any], remove: list[str]
    ) -> None:
        job = self.check(principal, job_id, "CAN_MANAGE")
        merged = copy.deepcopy(job["settings"])
        new_settings = drop_nulls(new_settings)
        for name in ("tasks", "job_clusters"):  # arrays are merged by key, as Databricks does
            key_field = "task_key" if name == "tasks" else "job_cluster_key"
            if name in new_settings and name in merged:
                by_key = {item[key_field]: item for item in merged[name]}
                for item in new_settings.pop(name):
                    by_key[item.get(key_field)] = item
                merged[name] = list(by_key.values())
        merged.update(new_settings)
        for field in remove:
            if field.startswith("tasks/") or field.startswith("job_clusters/"):
                name, _, key = field.partition("/")
                key_field = "task_key" if name == "tasks" else "job_cluster_key"
                merged[name] = [item for item in merged.get(name, []) if item.get(key_field) != key]
            else:
                merged.pop(field, None)
        job["settings"] = normalize_settings(merged, job.get("_version", "2.2"))
        self.jobs.put(job_id, job)

    def reset(self, principal: Principal, job_id: int, new_settings: dict[str, Any]) -> None:
        job = self.check(principal, job_id, "CAN_MANAGE")
        job["settings"] = normalize_settings(new_settings, job.get("_version", "2.2"))
        self.jobs.put(job_id, job)

    def delete(self, principal: Principal, job_id: int) -> None:
        self.check(principal, job_id, "CAN_MANAGE")
        self.state.runs.forget_job(job_id)
        self.jobs.delete(job_id)
        self.state.permissions.on_job_deleted(job_id)

    # -- reads ---------------------------------------------------------------------------------
    def get_json(
        self, principal: Principal, job_id: int, version: str, page_token: str | None
    ) -> dict[str, Any]:
        job = self.check(principal, job_id, "CAN_VIEW")
        result = _public(job)
        if version == "2.1":
            return result
        offset = int(decode_token(page_token).get("o", 0)) if page_token else 0
        settings = dict(result["settings"])
        more = False
        for name in ("tasks", "job_clusters", "parameters", "environments"):
            if name in settings:
                items = settings[name]
                settings[name] = items[offset : offset + PAGE_ARRAY_LIMIT]
                more = more or len(items) > offset + PAGE_ARRAY_LIMIT
        result["settings"] = settings
        if more:
            result["has_more"] = True
            result["next_page_token"] = encode_token({"o": offset + PAGE_ARRAY_LIMIT})
        return result

    def list_json(
        self,
        principal: Principal,
        version: str,
        *,
        limit: int,
        offset: int,
        page_token: str | None,
        name: str | None,
        expand_tasks: bool,
    ) -> dict[str, Any]:
        if not 1 <= limit <= 100:
            raise invalid_parameter(f"The limit {limit} is out of range; it must be between 1 and 100.")
        if offset > 1000:
            raise invalid_parameter(
                f"The supplied offset {offset} has exceeded the value of 1000 allowed for this parameter."
                "Please use the page_token parameter to paginate"
            )
        jobs = sorted(self.jobs.values(), key=lambda j: j["job_id"])
        if name:
            jobs = [j for j in jobs if str(j["settings"].get("name", "")).lower() == name.lower()]
        if not principal.is_admin:
            jobs = [j for j in jobs if self._can_view(principal, j["job_id"])]
        token = decode_token(page_token) if page_token else {}
        if "after" in token:
            jobs = [j for j in jobs if j["job_id"] > int(token["after"])]
        elif "before" in token:
            earlier = [j for j in jobs if j["job_id"] < int(token["before"])]
            jobs = earlier[max(0, len(earlier) - limit) :] + [
                j for j in jobs if j["job_id"] >= int(token["before"])
            ]
        else:
            jobs = jobs[offset:]
        page, rest = jobs[:limit], jobs[limit:]
        items = [self._list_item(job, version, expand_tasks) for job in page]
        result: dict[str, Any] = {}
        if items:
            result["jobs"] = items
        if rest:
            result["next_page_token"] = encode_token({"after": page[-1]["job_id"]})
        if page and (token or offset):
            result["prev_page_token"] = encode_token({"before": page[0]["job_id"]})
        if version == "2.1":
            result["has_more"] = bool(rest)
        return result

    def _can_view(self, principal: Principal, job_id: int) -> bool:
        try:
            self.state.permissions.check_job(principal, job_id, "CAN_VIEW")
        except EmulatorError:
            return False
        return True

    @staticmethod
    def _list_item(job: dict[str, Any], version: str, expand_tasks: bool) -> dict[str, Any]:
        item = _public(job)
        settings = dict(item["settings"])
        if not expand_tasks:
            settings.pop("tasks", None)
            settings.pop("job_clusters", None)
        elif version == "2.2":
            more = False
            for name in ("tasks", "job_clusters"):
                if len(settings.get(name, [])) > PAGE_ARRAY_LIMIT:
                    settings[name] = settings[name][:PAGE_ARRAY_LIMIT]
                    more = True
            if more:
                item["has_more"] = True
        item["settings"] = settings
        return item


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}
