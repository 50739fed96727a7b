"""Job runs: run-now, submit, get-output, cancel, cancel-all, delete and repair.

The write side of runs. Documents live in the `RunRegistry`, reads in `RunQueries`, the
tick-driven state machine in `RunEngine` and subprocess execution in `TaskExecutor`; this
service decides what a command does and hands the run to them. Runs belong to jobs, so it
uses the jobs and permissions services (never the other way round).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import EmulatorError, invalid_parameter, invalid_state
from airflow_dbx_provider.emulator.services import run_model as rm
from airflow_dbx_provider.emulator.services.job_settings import normalize_tasks

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.control import Counters
    from airflow_dbx_provider.emulator.services.jobs import JobsService
    from airflow_dbx_provider.emulator.services.permissions import PermissionsService
    from airflow_dbx_provider.emulator.services.run_engine import RunEngine
    from airflow_dbx_provider.emulator.services.run_queries import RunQueries
    from airflow_dbx_provider.emulator.services.run_registry import RunRegistry
    from airflow_dbx_provider.emulator.services.run_requests import Repair, RunNow, Submit
    from airflow_dbx_provider.emulator.services.task_execution import TaskExecutor
    from airflow_dbx_provider.emulator.store import Store


class RunsService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        counters: Counters,
        *,
        registry: RunRegistry,
        queries: RunQueries,
        engine: RunEngine,
        executor: TaskExecutor,
        jobs: JobsService,
        permissions: PermissionsService,
    ) -> None:
        self._store = store
        self._clock = clock
        self._counters = counters
        self.registry = registry
        self._queries = queries
        self.engine = engine
        self.executor = executor
        self._jobs = jobs
        self._permissions = permissions
        self.tokens = store.collection("idempotency")
        counters.register_gauge(
            "active_runs", lambda: sum(1 for r in registry.active.values() if rm.is_active(r))
        )
        counters.register_gauge(
            "queued_runs", lambda: sum(1 for r in registry.active.values() if rm.life(r) == rm.QUEUED)
        )

    # -- lifecycle ----------------------------------------------------------------------------------
    def tick(self) -> None:
        self.engine.tick()

    def before_reset(self) -> None:
        self.executor.forget_all()

    def after_reset(self) -> None:
        self.registry.rebuild()

    def close(self) -> None:
        self.executor.kill_all()

    # -- creation ---------------------------------------------------------------------------------
    def run_now(self, principal: Principal, request: RunNow) -> dict[str, Any]:
        job = self._jobs.check(principal, request.job_id, "CAN_MANAGE_RUN")
        existing = self._idempotent(request.idempotency_token)
        if existing is not None:
            return {"run_id": existing["run_id"], "number_in_job": existing["number_in_job"]}
        settings = job["settings"]
        tasks = copy.deepcopy(settings.get("tasks", []))
        if request.only:
            only = set(request.only)
            tasks = [t for t in tasks if t["task_key"] in only]
            for task in tasks:
                task["depends_on"] = [d for d in task["depends_on"] if d["task_key"] in only]
        job_parameters = self._resolve_job_parameters(settings, request.job_parameters)
        queue = request.queue if request.queue is not None else settings.get("queue") or {}
        run = self._create(
            principal,
            job_id=request.job_id,
            run_name=settings.get("name", "Untitled"),
            run_type="JOB_RUN",
            tasks=tasks,
            job_clusters=settings.get("job_clusters", []),
            timeout_seconds=int(settings.get("timeout_seconds", 0)),
            max_concurrent=int(settings.get("max_concurrent_runs", 1)),
            queue_enabled=bool(queue.get("enabled", False)),
            job_parameters=job_parameters,
            overriding=dict(request.overriding),
            token=request.idempotency_token,
            # As on Databricks: the job's run_as (its owner unless an admin set another), never
            # the caller, who needs CAN_MANAGE_RUN but lends the run none of its own identity.
            run_as=job.get("run_as_user_name") or job["creator_user_name"],
        )
        return {"run_id": run["run_id"], "number_in_job": run["number_in_job"]}

    def submit(self, principal: Principal, request: Submit) -> dict[str, Any]:
        existing = self._idempotent(request.idempotency_token)
        if existing is not None:
            return {"run_id": existing["run_id"]}
        if not request.tasks:
            raise invalid_parameter("At least one task is required.")
        run_as = self._jobs.run_as_name(principal, request.run_as)
        job_clusters = request.job_clusters
        keys = {str(c.get("job_cluster_key")) for c in job_clusters if isinstance(c, dict)}
        tasks = normalize_tasks(
            request.tasks, serverless=self._jobs.serverless_enabled(), job_cluster_keys=keys
        )
        self._jobs.check_compute(tasks, job_clusters)
        job_id = self._jobs.new_job_id()  # submit runs get a one-off job id, as on Databricks
        self._permissions.on_job_created(job_id, principal)
        if request.access_control_list:
            self._permissions.apply_job_acl(job_id, request.access_control_list, principal)
        run = self._create(
            principal,
            job_id=job_id,
            run_name=request.run_name,
            run_type="SUBMIT_RUN",
            tasks=tasks,
            job_clusters=job_clusters,
            timeout_seconds=request.timeout_seconds,
            max_concurrent=None,  # only saved jobs have a concurrency limit
            queue_enabled=False,
            job_parameters=[],
            overriding={},
            token=request.idempotency_token,
            run_as=run_as,
        )
        return {"run_id": run["run_id"]}

    def _idempotent(self, token: str | None) -> dict[str, Any] | None:
        if not token:
            return None
        if len(token) > 64:
            raise invalid_parameter("idempotency_token must be at most 64 characters long.")
        known = self.tokens.get(token)
        if known is None:
            return None
        run = self.registry.get(known["run_id"])
        if run is None:
            raise invalid_parameter(f"The run created with idempotency token {token} has been deleted.")
        self._counters.incr("idempotent_replays")
        return run

    @staticmethod
    def _resolve_job_parameters(settings: dict[str, Any], given: dict[str, Any]) -> list[dict[str, Any]]:
        declared = {
            p["name"]: p for p in settings.get("parameters", []) if isinstance(p, dict) and "name" in p
        }
        unknown = sorted(set(given) - set(declared))
        if unknown and declared:
            raise invalid_parameter(f"Job parameter(s) {', '.join(unknown)} are not defined in the job.")
        resolved = []
        for name, spec in declared.items():
            value = given.get(name, spec.get("default", ""))
            resolved.append({"name": name, "default": spec.get("default", ""), "value": str(value)})
        for name in unknown:
            resolved.append({"name": name, "value": str(given[name])})
        return resolved

    def _create(self, principal: Principal, **spec: Any) -> dict[str, Any]:
        now = self._clock.now_ms()
        run_id = self.registry.new_run_id()
        run: dict[str, Any] = {
            "run_id": run_id,
            "job_id": spec["job_id"],
            "number_in_job": run_id,
            "original_attempt_run_id": run_id,
            "run_name": spec["run_name"],
            "run_type": spec["run_type"],
            "trigger": "ONE_TIME",
            "creator_user_name": principal.name,
            "start_time": now,
            "end_time": 0,
            "setup_duration": 0,
            "execution_duration": 0,
            "cleanup_duration": 0,
            "run_duration": 0,
            "queue_duration": 0,
            "format": "MULTI_TASK",
            "tasks": [self.engine.new_attempt(task, attempt_number=0) for task in spec["tasks"]],
            "_principal": spec["run_as"],  # whose notebook-scoped token the tasks get
            "_timeout_seconds": spec["timeout_seconds"],
            "_max_concurrent": spec["max_concurrent"],
            "_clusters": {},
            "_repairs": [],
        }
        if spec["job_clusters"]:
            run["job_clusters"] = copy.deepcopy(spec["job_clusters"])
        if spec["job_parameters"]:
            run["job_parameters"] = spec["job_parameters"]
        if spec["overriding"]:
            run["overriding_parameters"] = spec["overriding"]
        self.engine.admit(run, queue_enabled=spec["queue_enabled"])
        self.registry.add(run)
        if spec["token"]:
            self.tokens.put(str(spec["token"]), {"run_id": run_id})
        self._counters.incr("runs_created")
        return run

    def get_output(self, principal: Principal, run_id: int) -> dict[str, Any]:
        parent_id = self.registry.parent_of(run_id)
        if run_id in self.registry:
            self._queries.checked(principal, run_id, "CAN_VIEW")
            raise invalid_parameter(
                "Retrieving the output of runs with multiple tasks is not supported. "
                "Please retrieve the output of each individual task run instead."
            )
        if parent_id is None:
            raise self._queries.missing(run_id)
        run = self._queries.checked(principal, parent_id, "CAN_VIEW")
        task = next(t for t in run["tasks"] if t["run_id"] == run_id)
        output: dict[str, Any] = {"metadata": self._queries.task_run_json(parent_id, run_id)}
        output.update(self.executor.output_of(task))
        return output

    def export(self, principal: Principal, run_id: int, views: str) -> dict[str, Any]:
        """jobs/runs/export of a task run: its notebook as HTML (`views_to_export` CODE, the
        default, or ALL); DASHBOARDS has none here. Only notebook task runs can be exported."""
        if views not in ("CODE", "DASHBOARDS", "ALL"):
            raise invalid_parameter(f"Invalid views_to_export: {views}. Use CODE, DASHBOARDS or ALL.")
        parent_id = self.registry.parent_of(run_id)
        if parent_id is None:
            if run_id in self.registry:
                self._queries.checked(principal, run_id, "CAN_VIEW")
                raise invalid_parameter(
                    "Exporting runs with multiple tasks is not supported. "
                    "Please export each individual task run instead."
                )
            raise self._queries.missing(run_id)
        run = self._queries.checked(principal, parent_id, "CAN_VIEW")
        task = next(t for t in run["tasks"] if t["run_id"] == run_id)
        if "notebook_task" not in task:
            raise invalid_parameter(
                f"Run {run_id} is not a notebook task run; only notebook runs can be exported."
            )
        return {"views": [] if views == "DASHBOARDS" else [self.executor.notebook_view(task)]}

    # -- control ----------------------------------------------------------------------------------
    def cancel(self, principal: Principal, run_id: int) -> None:
        run = self._queries.checked(principal, run_id, "CAN_MANAGE_RUN")
        if not rm.is_terminal(run):
            self.engine.cancel(run)
            self.registry.save(run)

    def cancel_all(self, principal: Principal, job_id: int | None, all_queued_runs: bool) -> None:
        if job_id is None and not all_queued_runs:
            raise invalid_parameter("Either job_id or all_queued_runs must be specified.")
        if job_id is not None:
            self._jobs.check(principal, job_id, "CAN_MANAGE_RUN")
        for run in self.registry.active_runs():
            if job_id is not None and run["job_id"] != job_id:
                continue
            if job_id is None and rm.life(run) != rm.QUEUED:
                continue
            try:
                self._permissions.check_job(principal, run["job_id"], "CAN_MANAGE_RUN")
            except EmulatorError:
                continue
            self.engine.cancel(run)
            self.registry.save(run)

    def delete(self, principal: Principal, run_id: int) -> None:
        run = self._queries.checked(principal, run_id, "CAN_MANAGE")
        if not rm.is_terminal(run):
            raise invalid_state(f"Run {run_id} is still active. Only inactive runs can be deleted.")
        self._remove(run)

    def _remove(self, run: dict[str, Any]) -> None:
        for task in run["tasks"]:
            self.executor.kill(task["run_id"])
        self.registry.remove(run)

    def forget_job(self, job_id: int) -> None:
        """Remove every run of a job (killing its task processes); part of deleting the job."""
        for run in [r for r in self.registry.runs.values() if r["job_id"] == job_id]:
            self._remove(run)

    def repair(self, principal: Principal, request: Repair) -> dict[str, Any]:
        run_id = request.run_id
        run = self._queries.checked(principal, run_id, "CAN_MANAGE_RUN")
        if not rm.is_terminal(run):
            raise invalid_state(f"Run {run_id} is still active and cannot be repaired.")
        repairs = run.get("_repairs", [])
        latest = request.latest_repair_id
        if repairs and latest is not None and latest != repairs[-1]["id"]:
            raise invalid_parameter(
                f"The latest repair id {latest} does not match the latest repair of run {run_id} "
                f"({repairs[-1]['id']})."
            )
        latest_by_key = rm.latest_attempts(run)
        if request.rerun_all_failed_tasks:
            keys = [k for k, t in latest_by_key.items() if rm.result(t) not in rm.OK_RESULTS]
        else:
            keys = list(request.rerun_tasks)
        unknown = [k for k in keys if k not in latest_by_key]
        if unknown:
            raise invalid_parameter(f"Task(s) {', '.join(unknown)} do not exist in run {run_id}.")
        if request.rerun_dependent_tasks:
            keys = self._with_dependents(run, keys)
        if not keys:
            raise invalid_parameter("No tasks to repair: specify rerun_tasks or rerun_all_failed_tasks.")
        if request.overriding:
            run["overriding_parameters"] = {**run.get("overriding_parameters", {}), **request.overriding}
        repair_id = self._store.next_id("repair_id", start=500001)
        self.engine.repair(run, repair_id, keys)
        self.registry.reactivate(run)
        return {"repair_id": repair_id}

    @staticmethod
    def _with_dependents(run: dict[str, Any], keys: list[str]) -> list[str]:
        latest = rm.latest_attempts(run)
        wanted = set(keys)
        changed = True
        while changed:
            changed = False
            for key, task in latest.items():
                if key not in wanted and any(d["task_key"] in wanted for d in task.get("depends_on", [])):
                    wanted.add(key)
                    changed = True
        return [k for k in latest if k in wanted]
