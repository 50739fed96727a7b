"""Job runs: run-now, submit, get, list, cancel, delete, repair and get-output.

Creation and queries live here; the tick-driven state machine is `run_engine.RunEngine`
and subprocess execution is `task_execution.TaskExecutor`.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import EmulatorError, invalid_parameter, invalid_state
from airflow_dbx_provider.emulator.routing import to_int
from airflow_dbx_provider.emulator.services import run_model as rm
from airflow_dbx_provider.emulator.services.jobs import (
    TASK_KINDS,
    drop_nulls,
    normalize_tasks,
)
from airflow_dbx_provider.emulator.services.run_engine import RunEngine
from airflow_dbx_provider.emulator.services.run_queries import RunQueries
from airflow_dbx_provider.emulator.services.task_execution import TaskExecutor

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.workspace_state import WorkspaceState

OVERRIDE_FIELDS = (
    "notebook_params",
    "python_params",
    "jar_params",
    "python_named_params",
    "spark_submit_params",
    "sql_params",
    "pipeline_params",
    "dbt_commands",
)
LEGACY_TOP_LEVEL = (
    *TASK_KINDS,
    "new_cluster",
    "existing_cluster_id",
    "libraries",
    "timeout_seconds",
    "max_retries",
)


class RunsService(RunQueries):
    def __init__(self, state: WorkspaceState) -> None:
        self.state = state
        self.runs = state.store.collection("runs")
        self.tokens = state.store.collection("idempotency")
        self.executor = TaskExecutor(state)
        self.engine = RunEngine(state, self)
        self.active: dict[int, dict[str, Any]] = {}  # runs not yet terminal (queued included)
        self._order: list[int] = []
        self._task_index: dict[int, int] = {}
        self._rebuild()
        state.counters.register_gauge(
            "active_runs", lambda: sum(1 for r in self.active.values() if rm.is_active(r))
        )
        state.counters.register_gauge(
            "queued_runs", lambda: sum(1 for r in self.active.values() if rm.life(r) == rm.QUEUED)
        )

    # -- bookkeeping ------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        self.active.clear()
        self._task_index.clear()
        runs = sorted(self.runs.values(), key=lambda r: r["run_id"])
        self._order = [r["run_id"] for r in runs]
        for run in runs:
            self._index(run)

    def _index(self, run: dict[str, Any]) -> None:
        for task in run["tasks"]:
            self._task_index[task["run_id"]] = run["run_id"]
        if not rm.is_terminal(run):
            self.active[run["run_id"]] = run

    def save(self, run: dict[str, Any]) -> None:
        self.runs.put(run["run_id"], run)
        self._index(run)
        if rm.is_terminal(run):
            self.active.pop(run["run_id"], None)

    def new_run_id(self) -> int:
        return self.state.store.next_id("run_id", start=1001)

    def tick(self) -> None:
        self.engine.tick()

    def before_reset(self) -> None:
        self.executor.forget_all()

    def after_reset(self) -> None:
        self._rebuild()

    def close(self) -> None:
        self.executor.kill_all()

    def _missing(self, run_id: int) -> EmulatorError:
        status = self.state.config.missing_run_status
        code = "INVALID_PARAMETER_VALUE" if status == 400 else "RESOURCE_DOES_NOT_EXIST"
        return EmulatorError(code, f"Run {run_id} does not exist.", status)

    def get_run(self, run_id: int) -> dict[str, Any]:
        run = self.runs.get(run_id)
        if run is None:
            raise self._missing(run_id)
        return run

    def _checked(self, principal: Principal, run_id: int, level: str) -> dict[str, Any]:
        run = self.get_run(run_id)
        self.state.permissions.check_job(principal, run["job_id"], level)
        return run

    # -- creation ---------------------------------------------------------------------------------
    def run_now(
        self, principal: Principal, job_id: int, params: dict[str, Any], version: str
    ) -> dict[str, Any]:
        job = self.state.jobs.check(principal, job_id, "CAN_MANAGE_RUN")
        existing = self._idempotent(params.get("idempotency_token"))
        if existing is not None:
            return {"run_id": existing["run_id"], "number_in_job": existing["number_in_job"]}
        settings = job["settings"]
        tasks = copy.deepcopy(settings.get("tasks", []))
        only = params.get("only")
        if only:
            tasks = [t for t in tasks if t["task_key"] in set(only)]
            for task in tasks:
                task["depends_on"] = [d for d in task["depends_on"] if d["task_key"] in set(only)]
        overriding = {k: params[k] for k in OVERRIDE_FIELDS if params.get(k) is not None}
        job_parameters = self._resolve_job_parameters(settings, params.get("job_parameters") or {})
        queue: dict[str, Any] = (
            params["queue"] if isinstance(params.get("queue"), dict) else settings.get("queue") or {}
        )
        run = self._create(
            principal,
            job_id=job_id,
            run_name=settings.get("name", "Untitled"),
            run_type="JOB_RUN",
            tasks=tasks,
            job_clusters=settings.get("job_clusters", []),
            timeout_seconds=int(settings.get("timeout_seconds", 0)),
            max_concurrent=int(settings.get("max_concurrent_runs", 1)),
            queue_enabled=bool(queue.get("enabled", False)),
            job_parameters=job_parameters,
            overriding=overriding,
            token=params.get("idempotency_token"),
        )
        return {"run_id": run["run_id"], "number_in_job": run["number_in_job"]}

    def submit(self, principal: Principal, params: dict[str, Any], version: str) -> dict[str, Any]:
        body = drop_nulls(params)
        existing = self._idempotent(body.get("idempotency_token"))
        if existing is not None:
            return {"run_id": existing["run_id"]}
        run_name = str(body.get("run_name") or "Untitled")
        raw_tasks = body.get("tasks")
        if not raw_tasks:
            if not any(k in body for k in TASK_KINDS):
                raise invalid_parameter("At least one task is required.")
            # Legacy single-task body (Airflow's notebook operator): one task named after the run.
            raw_tasks = [{k: body[k] for k in LEGACY_TOP_LEVEL if k in body} | {"task_key": run_name[:100]}]
        job_clusters = body.get("job_clusters", [])
        keys = {str(c.get("job_cluster_key")) for c in job_clusters if isinstance(c, dict)}
        tasks = normalize_tasks(raw_tasks, submit=True, job_cluster_keys=keys)
        job_id = self.state.jobs.new_job_id()  # submit runs get a one-off job id, as on Databricks
        self.state.permissions.on_job_created(job_id, principal)
        if body.get("access_control_list"):
            self.state.permissions.apply_job_acl(job_id, body["access_control_list"], principal)
        run = self._create(
            principal,
            job_id=job_id,
            run_name=run_name,
            run_type="SUBMIT_RUN",
            tasks=tasks,
            job_clusters=job_clusters,
            timeout_seconds=to_int(body.get("timeout_seconds", 0), "timeout_seconds")
            if body.get("tasks")
            else 0,
            max_concurrent=None,  # only saved jobs have a concurrency limit
            queue_enabled=False,
            job_parameters=[],
            overriding={},
            token=body.get("idempotency_token"),
        )
        return {"run_id": run["run_id"]}

    def _idempotent(self, token: Any) -> dict[str, Any] | None:
        if token is None or token == "":
            return None
        token = str(token)
        if len(token) > 64:
            raise invalid_parameter("idempotency_token must be at most 64 characters long.")
        known = self.tokens.get(token)
        if known is None:
            return None
        run = self.runs.get(known["run_id"])
        if run is None:
            raise invalid_parameter(f"The run created with idempotency token {token} has been deleted.")
        self.state.counters.incr("idempotent_replays")
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
        now = self.state.clock.now_ms()
        run_id = self.new_run_id()
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
            "_principal": principal.name,
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
        self._order.append(run_id)
        self.save(run)
        if spec["token"]:
            self.tokens.put(str(spec["token"]), {"run_id": run_id})
        self.state.counters.incr("runs_created")
        return run

    def get_output(self, principal: Principal, run_id: int) -> dict[str, Any]:
        parent_id = self._task_index.get(run_id)
        if run_id in self.runs:
            self._checked(principal, run_id, "CAN_VIEW")
            raise invalid_parameter(
                "Retrieving the output of runs with multiple tasks is not supported. "
                "Please retrieve the output of each individual task run instead."
            )
        if parent_id is None:
            raise self._missing(run_id)
        run = self._checked(principal, parent_id, "CAN_VIEW")
        task = next(t for t in run["tasks"] if t["run_id"] == run_id)
        output: dict[str, Any] = {"metadata": self.task_run_json(parent_id, run_id)}
        output.update(self.executor.output_of(task))
        return output

    # -- control ----------------------------------------------------------------------------------
    def cancel(self, principal: Principal, run_id: int) -> None:
        run = self._checked(principal, run_id, "CAN_MANAGE_RUN")
        if not rm.is_terminal(run):
            self.engine.cancel(run)
            self.save(run)

    def cancel_all(self, principal: Principal, job_id: int | None, all_queued_runs: bool) -> None:
        if job_id is None and not all_queued_runs:
            raise invalid_parameter("Either job_id or all_queued_runs must be specified.")
        if job_id is not None:
            self.state.jobs.check(principal, job_id, "CAN_MANAGE_RUN")
        for run in list(self.active.values()):
            if job_id is not None and run["job_id"] != job_id:
                continue
            if job_id is None and rm.life(run) != rm.QUEUED:
                continue
            try:
                self.state.permissions.check_job(principal, run["job_id"], "CAN_MANAGE_RUN")
            except EmulatorError:
                continue
            self.engine.cancel(run)
            self.save(run)

    def delete(self, principal: Principal, run_id: int) -> None:
        run = self._checked(principal, run_id, "CAN_MANAGE")
        if not rm.is_terminal(run):
            raise invalid_state(f"Run {run_id} is still active. Only inactive runs can be deleted.")
        self._remove(run)

    def _remove(self, run: dict[str, Any]) -> None:
        for task in run["tasks"]:
            self.executor.kill(task["run_id"])
            self._task_index.pop(task["run_id"], None)
        self.active.pop(run["run_id"], None)
        self.runs.delete(run["run_id"])
        if run["run_id"] in self._order:
            self._order.remove(run["run_id"])

    def forget_job(self, job_id: int) -> None:
        """Deleting a job cancels and removes its runs."""
        for run in [r for r in self.runs.values() if r["job_id"] == job_id]:
            self._remove(run)

    def repair(self, principal: Principal, run_id: int, params: dict[str, Any]) -> dict[str, Any]:
        run = self._checked(principal, run_id, "CAN_MANAGE_RUN")
        if not rm.is_terminal(run):
            raise invalid_state(f"Run {run_id} is still active and cannot be repaired.")
        repairs = run.get("_repairs", [])
        latest = params.get("latest_repair_id")
        if repairs and latest is not None and int(latest) != repairs[-1]["id"]:
            raise invalid_parameter(
                f"The latest repair id {latest} does not match the latest repair of run {run_id} "
                f"({repairs[-1]['id']})."
            )
        latest_by_key = rm.latest_attempts(run)
        if params.get("rerun_all_failed_tasks"):
            keys = [k for k, t in latest_by_key.items() if rm.result(t) not in rm.OK_RESULTS]
        else:
            keys = [str(k) for k in params.get("rerun_tasks") or []]
        unknown = [k for k in keys if k not in latest_by_key]
        if unknown:
            raise invalid_parameter(f"Task(s) {', '.join(unknown)} do not exist in run {run_id}.")
        if params.get("rerun_dependent_tasks"):
            keys = self._with_dependents(run, keys)
        if not keys:
            raise invalid_parameter("No tasks to repair: specify rerun_tasks or rerun_all_failed_tasks.")
        overriding = {k: params[k] for k in OVERRIDE_FIELDS if params.get(k) is not None}
        if overriding:
            run["overriding_parameters"] = {**run.get("overriding_parameters", {}), **overriding}
        repair_id = self.state.store.next_id("repair_id", start=500001)
        self.engine.repair(run, repair_id, keys)
        for task in run["tasks"]:
            self._task_index[task["run_id"]] = run_id
        self.active[run_id] = run
        self.save(run)
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
