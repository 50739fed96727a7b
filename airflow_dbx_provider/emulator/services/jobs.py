"""Saved jobs: CRUD and the 2.1/2.2 serialisations of jobs/get and jobs/list.

Everything here takes Python values and raises `EmulatorError`; HTTP lives in handlers/jobs.py,
settings validation in job_settings.py. Deleting a job with its runs spans services and lives
in operations.py.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import (
    EmulatorError,
    does_not_exist_400,
    invalid_parameter,
    permission_denied,
)
from airflow_dbx_provider.emulator.services.job_settings import cluster_specs, drop_nulls, normalize_settings
from airflow_dbx_provider.emulator.wire import decode_token, encode_token

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.control import Counters
    from airflow_dbx_provider.emulator.services.permissions import PermissionsService
    from airflow_dbx_provider.emulator.store import Store

PAGE_ARRAY_LIMIT = 100  # 2.2 pages tasks/job_clusters of jobs/get and runs/get at 100
MAX_JOBS = 10_000


class JobsService:
    """Saved jobs, kept in the `jobs` collection; `permissions` guards every call."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        counters: Counters,
        permissions: PermissionsService,
        *,
        check_cluster_spec: Callable[[dict[str, Any]], None] = lambda spec: None,
        serverless: Callable[[], bool] = lambda: True,
    ) -> None:
        self._check_cluster_spec = check_cluster_spec  # runtime, node types, pools exist
        self._serverless = serverless  # tasks without compute run serverless (else refused)
        self._store = store
        self._clock = clock
        self._counters = counters
        self._permissions = permissions
        self.jobs = store.collection("jobs")

    # -- lookups -------------------------------------------------------------------------------
    def get_job(self, job_id: int) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise does_not_exist_400(f"Job {job_id} does not exist.")
        return job

    def check(self, principal: Principal, job_id: int, level: str) -> dict[str, Any]:
        job = self.get_job(job_id)
        self._permissions.check_job(principal, job_id, level)
        return job

    @staticmethod
    def run_as_name(principal: Principal, run_as: Any) -> str:
        """The principal a job (or a submitted run) runs as; naming someone else takes an admin.

        Databricks also lets a user name a service principal on which they hold the Service
        Principal User role; the emulator has no such role, so only admins delegate.
        """
        if run_as is None or run_as == {}:
            return principal.name
        named = (
            [(k, v) for k, v in run_as.items() if k in ("user_name", "service_principal_name")]
            if isinstance(run_as, dict)
            else []
        )
        if not isinstance(run_as, dict) or len(named) != 1 or len(run_as) != 1:
            raise invalid_parameter("run_as must name exactly one of user_name or service_principal_name.")
        name = named[0][1]
        if not isinstance(name, str) or not name or len(name) > 255:
            raise invalid_parameter("run_as must name exactly one of user_name or service_principal_name.")
        if name != principal.name and not (principal.is_admin or "admins" in principal.groups):
            raise permission_denied(
                f"User {principal.name} is not allowed to run jobs as {name}: only a workspace admin "
                "(or a user of that service principal) may set run_as to another principal."
            )
        return name

    def check_compute(self, tasks: list[Any], job_clusters: list[Any]) -> None:
        """Each cluster spec names a runtime, node types and pools the workspace serves (400)."""
        for spec in cluster_specs(tasks, job_clusters):
            self._check_cluster_spec(spec)

    def serverless_enabled(self) -> bool:
        return self._serverless()

    def _normalized(self, settings: dict[str, Any], version: str) -> dict[str, Any]:
        normalized = normalize_settings(settings, version, serverless=self._serverless())
        self.check_compute(normalized.get("tasks", []), normalized.get("job_clusters", []))
        return normalized

    def new_job_id(self) -> int:
        return self._store.next_id("job_id", start=101)

    # -- writes --------------------------------------------------------------------------------
    def create(
        self,
        principal: Principal,
        settings: dict[str, Any],
        version: str,
        *,
        access_control_list: list[dict[str, Any]] | None = None,
        run_as: dict[str, Any] | None = None,
    ) -> int:
        """`settings` is the JobSettings body as sent (run_as stays in it, the ACL is dropped)."""
        if len(self.jobs) >= MAX_JOBS:
            raise EmulatorError(
                "QUOTA_EXCEEDED",
                f"The quota for the number of jobs has been reached. The current quota is {MAX_JOBS}.",
                400,
            )
        run_as_name = self.run_as_name(principal, run_as)
        normalized = self._normalized(settings, version)
        job_id = self.new_job_id()
        job = {
            "job_id": job_id,
            "creator_user_name": principal.name,
            "run_as_user_name": run_as_name,
            "created_time": self._clock.now_ms(),
            "settings": normalized,
            "_version": version,
        }
        self.jobs.put(job_id, job)
        self._permissions.on_job_created(job_id, principal)
        if access_control_list:
            self._permissions.apply_job_acl(job_id, access_control_list, principal)
        self._counters.incr("jobs_created")
        return job_id

    def update(
        self, principal: Principal, job_id: int, new_settings: dict[str, Any], remove: list[str]
    ) -> None:
        job = self.check(principal, job_id, "CAN_MANAGE")
        if "run_as" in new_settings:
            job["run_as_user_name"] = self.run_as_name(principal, new_settings["run_as"])
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
        job["settings"] = self._normalized(merged, job.get("_version", "2.2"))
        self.jobs.put(job_id, job)

    def reset(self, principal: Principal, job_id: int, new_settings: dict[str, Any]) -> None:
        job = self.check(principal, job_id, "CAN_MANAGE")
        run_as_name = self.run_as_name(principal, new_settings.get("run_as"))
        job["settings"] = self._normalized(new_settings, job.get("_version", "2.2"))
        job["run_as_user_name"] = run_as_name
        self.jobs.put(job_id, job)

    def delete(self, job_id: int) -> None:
        """Drop the job and its ACL; operations.delete_job checks access and removes its runs first."""
        self.jobs.delete(job_id)
        self._permissions.on_job_deleted(job_id)

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
            self._permissions.check_job(principal, job_id, "CAN_VIEW")
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
