"""The run state machine, advanced by `tick()` on the engine thread (never by a request).

Durations are simulated seconds scaled by `config.time_scale`: run setup, the run of a task
kind that cannot execute here, `timeout_seconds` and `min_retry_interval_millis`. Notebook,
Python-file and wheel tasks run for real in subprocesses (task_execution.py).

Life cycle of a run: [QUEUED →] PENDING → RUNNING → TERMINATING → TERMINATED (or SKIPPED,
or INTERNAL_ERROR when a task could not get its cluster). A task attempt: PENDING (waiting for
upstream tasks or its cluster) → RUNNING → TERMINATED; a failed attempt with retries left is
followed by a new attempt (attempt_number + 1) in WAITING_FOR_RETRY.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from airflow_dbx_provider.emulator.errors import EmulatorError
from airflow_dbx_provider.emulator.services import run_model as rm

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.clock import Clock

RUN_SETUP_SECONDS = 1.0  # simulated; keeps a fresh run PENDING for its first polls
CLUSTER_WAIT_SECONDS = 1200.0  # simulated; a task gives up on a cluster that never runs
RUNTIME_FIELDS = frozenset(
    {
        "run_id", "state", "status", "start_time", "end_time", "setup_duration", "execution_duration",
        "cleanup_duration", "attempt_number", "run_page_url", "cluster_instance", "queue_duration",
        "run_duration",
    }
)  # fmt: skip


Run = dict[str, Any]


class JobCompute(Protocol):
    """What the engine needs from clusters (ClustersService provides it)."""

    def create_job_cluster(self, spec: dict[str, Any], run_name: str, creator: str) -> str: ...
    def get_cluster(self, cluster_id: str) -> dict[str, Any]: ...
    def is_running(self, cluster_id: str) -> bool: ...
    def start(self, cluster_id: str) -> None: ...
    def terminate(self, cluster_id: str, reason_code: str = ..., user: str | None = ...) -> None: ...


class TaskRunner(Protocol):
    """What the engine needs to execute a task attempt (TaskExecutor provides it)."""

    def start(self, run: Run, task: Run) -> None: ...
    def poll(self, run: Run, task: Run) -> tuple[bool, str] | None: ...
    def kill(self, task_run_id: int) -> None: ...


class RunEngine:
    """Advances runs; it reaches run storage only through the callables it is given."""

    def __init__(
        self,
        clock: Clock,
        compute: JobCompute,
        tasks: TaskRunner,
        *,
        new_run_id: Callable[[], int],
        active_runs: Callable[[], list[Run]],
        save: Callable[[Run], None],
        index_task: Callable[[int, int], None],
        on_error: Callable[[BaseException], None] = lambda exc: None,
    ) -> None:
        self._on_error = on_error
        self._clock = clock
        self._compute = compute
        self._tasks = tasks
        self._new_run_id = new_run_id
        self._active_runs = active_runs
        self._save = save
        self._index_task = index_task

    def _now(self) -> int:
        return self._clock.now_ms()

    def _later(self, simulated_seconds: float) -> int:
        return self._now() + int(self._clock.real_seconds(simulated_seconds) * 1000)

    # -- creation ---------------------------------------------------------------------------------
    def new_attempt(
        self, spec: dict[str, Any], attempt_number: int, repair_id: int | None = None, base: int | None = None
    ) -> dict[str, Any]:
        task = {k: copy.deepcopy(v) for k, v in spec.items() if k not in RUNTIME_FIELDS and k[0] != "_"}
        task.update(
            run_id=self._new_run_id(),
            attempt_number=attempt_number,
            start_time=0,
            end_time=0,
            setup_duration=0,
            execution_duration=0,
            cleanup_duration=0,
            _phase="blocked",
            _base_attempt=attempt_number if base is None else base,
        )
        task.setdefault("depends_on", [])
        if repair_id is not None:
            task["_repair_id"] = repair_id
        rm.set_state(task, "PENDING")
        return task

    def admit(self, run: dict[str, Any], queue_enabled: bool) -> None:
        """Start, queue or skip a new run according to max_concurrent_runs and queueing."""
        limit = run["_max_concurrent"]
        if limit is not None:
            active = sum(1 for r in self._active_runs() if r["job_id"] == run["job_id"] and rm.is_active(r))
            if active >= limit:
                if queue_enabled:
                    reason = f"Queued due to reaching maximum concurrent runs of {limit}."
                    rm.set_state(run, "QUEUED", queue_reason=reason)
                    run["_queued_at"] = self._now()
                    return
                message = f"Skipping this run because the limit of {limit} maximum concurrent runs has been reached."
                self._skip(run, message)
                return
        self._start(run)

    def _skip(self, run: dict[str, Any], message: str) -> None:
        rm.set_state(run, "SKIPPED", "MAXIMUM_CONCURRENT_RUNS_REACHED", message)
        run["end_time"] = self._now()
        for task in run["tasks"]:
            rm.set_state(task, "SKIPPED", "EXCLUDED", message)
            task["_phase"] = "done"

    def _start(self, run: dict[str, Any]) -> None:
        rm.set_state(run, "PENDING")
        if "_queued_at" in run:
            run["queue_duration"] = self._now() - run.pop("_queued_at")
        run["_setup_due"] = self._later(RUN_SETUP_SECONDS)
        run["_exec_start"] = self._now()
        used = {t.get("job_cluster_key") for t in run["tasks"]} - {None}
        for cluster in run.get("job_clusters", []):
            key = cluster.get("job_cluster_key")
            if key in used and key not in run["_clusters"]:
                try:
                    run["_clusters"][key] = self._compute.create_job_cluster(
                        cluster.get("new_cluster", {}), run["run_name"], run["creator_user_name"]
                    )
                except EmulatorError as err:
                    run.setdefault("_cluster_errors", {})[key] = err.message

    # -- the tick ---------------------------------------------------------------------------------
    def tick(self) -> None:
        queued = [r for r in self._active_runs() if rm.life(r) == rm.QUEUED]
        if queued:
            self._promote(sorted(queued, key=lambda r: r["run_id"]))
        now = self._now()
        for run in self._active_runs():
            if rm.life(run) == rm.QUEUED or (rm.life(run) == "PENDING" and now < run.get("_setup_due", 0)):
                continue
            try:
                changed = self._advance(run, now)
            except Exception as exc:  # one broken run must never stall the others
                self._fail_run(run, exc)
                changed = True
            if changed:
                self._save(run)

    def _fail_run(self, run: dict[str, Any], exc: Exception) -> None:
        """End a run the engine cannot advance in INTERNAL_ERROR; keep the bug for the tests."""
        self._on_error(exc)
        message = f"The emulator could not advance this run: {type(exc).__name__}."
        try:
            self._stop_tasks(run, "FAILED", message, user=False)
        except Exception:  # the run's own state may be what is broken
            pass
        rm.set_state(run, "INTERNAL_ERROR", "FAILED", message, code="INTERNAL_ERROR")
        run["end_time"] = self._now()
        run.pop("_final", None)

    def _promote(self, queued: list[dict[str, Any]]) -> None:
        active: dict[int, int] = {}
        for run in self._active_runs():
            if rm.is_active(run):
                active[run["job_id"]] = active.get(run["job_id"], 0) + 1
        for run in queued:
            if active.get(run["job_id"], 0) < (run["_max_concurrent"] or 0):
                try:
                    self._start(run)
                except Exception as exc:
                    self._fail_run(run, exc)
                active[run["job_id"]] = active.get(run["job_id"], 0) + 1
                self._save(run)

    def _advance(self, run: dict[str, Any], now: int) -> bool:
        """One step of one run; returns whether it changed (and must be saved)."""
        life = rm.life(run)
        if life == "TERMINATING":
            return self._finish(run, now)
        if run.get("_cancel"):
            self._stop_tasks(run, "CANCELED", "Run cancelled.", user=True)
            run["_final"] = ("TERMINATED", "CANCELED", "Run cancelled.", "USER_CANCELED")
            rm.set_state(run, "TERMINATING", message="Run cancelled.", user_cancelled_or_timedout=True)
            return True
        timeout = run.get("_timeout_seconds") or 0
        if timeout and now >= run.get("_exec_start", run["start_time"]) + self._scaled_ms(timeout):
            message = f"Run timed out after {timeout} seconds."
            self._stop_tasks(run, "TIMEDOUT", message, user=True)
            run["_final"] = ("TERMINATED", "TIMEDOUT", message, None)
            rm.set_state(run, "TERMINATING", message=message, user_cancelled_or_timedout=True)
            return True
        changed = False
        if life == "PENDING":
            rm.set_state(run, "RUNNING")
            run["setup_duration"] = 0
            changed = True
        latest = rm.latest_attempts(run)
        for task in latest.values():
            if task["_phase"] != "done":
                changed = self._advance_task(run, task, latest, now) or changed
        latest = rm.latest_attempts(run)
        if all(t["_phase"] == "done" for t in latest.values()):
            run["_final"] = rm.outcome(latest)
            rm.set_state(run, "TERMINATING")
            changed = True
        return changed

    def _scaled_ms(self, simulated_seconds: float) -> int:
        return int(self._clock.real_seconds(simulated_seconds) * 1000)

    def _advance_task(
        self, run: dict[str, Any], task: dict[str, Any], latest: dict[str, dict[str, Any]], now: int
    ) -> bool:
        phase = task["_phase"]
        if phase == "wait_retry":
            if now < task["_retry_at"]:
                return False
            task["_phase"] = phase = "blocked"
            rm.set_state(task, "PENDING")
        if phase == "blocked":
            decision = rm.upstream_decision(task, latest)
            if decision is None:
                return False
            if decision != "run":
                self._end_task(run, task, decision, "", now)
                return True
            if task.get("disabled"):
                self._end_task(run, task, "DISABLED", "", now)
                return True
            task["_phase"] = phase = "cluster"
            task["_cluster_wait_until"] = now + self._scaled_ms(CLUSTER_WAIT_SECONDS)
        if phase == "cluster":
            return self._acquire_cluster_and_start(run, task, now)
        if phase == "running":
            return self._poll_task(run, task, now)
        return False

    def _acquire_cluster_and_start(self, run: dict[str, Any], task: dict[str, Any], now: int) -> bool:
        clusters = self._compute
        try:
            cluster_id = self._cluster_for(run, task)
            if cluster_id is not None and not clusters.is_running(cluster_id):
                details = clusters.get_cluster(cluster_id)
                if details.get("state") in ("TERMINATED", "ERROR") and not task.get("_start_requested"):
                    task["_start_requested"] = True
                    if details.get("cluster_source") == "JOB":
                        raise EmulatorError("INVALID_STATE", f"Cluster {cluster_id} is terminated.")
                    clusters.start(cluster_id)
                    return True
                if details.get("state") in ("TERMINATED", "ERROR") or now >= task["_cluster_wait_until"]:
                    raise EmulatorError(
                        "INVALID_STATE", f"Cluster {cluster_id} did not start: {details.get('state')}."
                    )
                return False
        except EmulatorError as err:
            self._end_task(run, task, "FAILED", err.message, now, life="INTERNAL_ERROR", code="CLUSTER_ERROR")
            return True
        task["start_time"] = now
        if cluster_id is not None:
            task["cluster_instance"] = {"cluster_id": cluster_id, "spark_context_id": str(cluster_id)}
        task["_phase"] = "running"
        if task.get("timeout_seconds"):
            task["_deadline"] = now + self._scaled_ms(task["timeout_seconds"])
        rm.set_state(task, "RUNNING")
        self._tasks.start(run, task)
        return True

    def _cluster_for(self, run: dict[str, Any], task: dict[str, Any]) -> str | None:
        if "existing_cluster_id" in task:
            return str(task["existing_cluster_id"])
        key = task.get("job_cluster_key")
        if key is not None:
            error = run.get("_cluster_errors", {}).get(key)
            if error:
                raise EmulatorError("INVALID_PARAMETER_VALUE", error)
            return str(run["_clusters"][key])
        if "new_cluster" in task:
            own = f"task:{task['run_id']}"
            if own not in run["_clusters"]:
                run["_clusters"][own] = self._compute.create_job_cluster(
                    task["new_cluster"], run["run_name"], run["creator_user_name"]
                )
            return str(run["_clusters"][own])
        return None

    def _poll_task(self, run: dict[str, Any], task: dict[str, Any], now: int) -> bool:
        deadline = task.get("_deadline")
        if deadline and now >= deadline:
            self._tasks.kill(task["run_id"])
            message = f"Task {task['task_key']} timed out after {task['timeout_seconds']} seconds."
            self._end_task(run, task, "TIMEDOUT", message, now, user=True)
            return True
        outcome = self._tasks.poll(run, task)
        if outcome is None:
            return False
        ok, message = outcome
        failure_code = task.pop("_failure_code", None)  # e.g. LIBRARY_INSTALLATION_ERROR: no retry
        if failure_code:
            self._end_task(run, task, "FAILED", message, now, life="INTERNAL_ERROR", code=failure_code)
            return True
        self._end_task(run, task, "SUCCESS" if ok else "FAILED", message, now)
        return True

    def _end_task(
        self,
        run: dict[str, Any],
        task: dict[str, Any],
        result: str,
        message: str,
        now: int,
        *,
        life: str = "TERMINATED",
        code: str | None = None,
        user: bool = False,
    ) -> None:
        rm.set_state(task, life, result, message, code=code, user_cancelled_or_timedout=user)
        task["_phase"] = "done"
        task["end_time"] = now
        if task["start_time"]:
            task["execution_duration"] = now - task["start_time"]
        retry = result == "FAILED" or (result == "TIMEDOUT" and task.get("retry_on_timeout"))
        max_retries = int(task.get("max_retries", 0))
        used = task["attempt_number"] - task.get("_base_attempt", 0)
        if retry and life == "TERMINATED" and (max_retries == -1 or used < max_retries):
            nxt = self.new_attempt(
                task, task["attempt_number"] + 1, task.get("_repair_id"), task.get("_base_attempt")
            )
            nxt["_phase"] = "wait_retry"
            nxt["_retry_at"] = now + int(
                self._clock.real_seconds(task.get("min_retry_interval_millis", 0) / 1000) * 1000
            )
            rm.set_state(nxt, "WAITING_FOR_RETRY", message=f"Waiting for retry after: {message}")
            run["tasks"].append(nxt)
            self._index_task(nxt["run_id"], run["run_id"])

    def _stop_tasks(self, run: dict[str, Any], result: str, message: str, user: bool) -> None:
        now = self._now()
        for task in rm.latest_attempts(run).values():
            if task["_phase"] == "done":
                continue
            self._tasks.kill(task["run_id"])
            started = task["_phase"] == "running"
            rm.set_state(task, "TERMINATED", result if started or result == "TIMEDOUT" else "CANCELED", message,
                         user_cancelled_or_timedout=user)  # fmt: skip
            task["_phase"] = "done"
            task["end_time"] = now if started else 0

    def _finish(self, run: dict[str, Any], now: int) -> bool:
        """TERMINATING → final state: release the run's clusters and close the repair entry."""
        for cluster_id in run["_clusters"].values():
            try:
                self._compute.terminate(cluster_id, reason_code="JOB_FINISHED")
            except EmulatorError:
                pass
        run["_clusters"] = {}
        life, result, message, code = run.pop("_final", ("TERMINATED", "FAILED", "", None))
        user = result in ("CANCELED", "TIMEDOUT")
        rm.set_state(run, life, result, message, code=code, user_cancelled_or_timedout=user)
        run["end_time"] = now
        run["run_duration"] = now - run["start_time"]
        if run["_repairs"]:
            repair = run["_repairs"][-1]
            repair.update(end_time=now, state=run["state"], status=run["status"])
        else:
            run["_original"] = {"end_time": now, "state": run["state"], "status": run["status"]}
        return True

    # -- control ----------------------------------------------------------------------------------
    def cancel(self, run: dict[str, Any]) -> None:
        if rm.life(run) == rm.QUEUED:
            for task in run["tasks"]:
                rm.set_state(
                    task, "TERMINATED", "CANCELED", "Run cancelled.", user_cancelled_or_timedout=True
                )
                task["_phase"] = "done"
            rm.set_state(run, "TERMINATED", "CANCELED", "Run cancelled.", code="USER_CANCELED",
                         user_cancelled_or_timedout=True)  # fmt: skip
            run["end_time"] = self._now()
            return
        run["_cancel"] = True
        rm.set_state(
            run, "TERMINATING", message="Run cancellation requested.", user_cancelled_or_timedout=True
        )
        run["_final"] = ("TERMINATED", "CANCELED", "Run cancelled.", "USER_CANCELED")
        self._stop_tasks(run, "CANCELED", "Run cancelled.", user=True)
        run.pop("_cancel", None)

    def repair(self, run: dict[str, Any], repair_id: int, keys: list[str]) -> None:
        latest = rm.latest_attempts(run)
        for key in keys:
            old = latest[key]
            run["tasks"].append(self.new_attempt(old, old["attempt_number"] + 1, repair_id))
        now = self._now()
        run["_repairs"].append({"id": repair_id, "type": "REPAIR", "start_time": now, "end_time": 0})
        run.pop("_final", None)
        run["end_time"] = 0
        run["_exec_start"] = now
        run["_setup_due"] = self._later(RUN_SETUP_SECONDS)
        rm.set_state(run, "PENDING")
        run["_repairs"][-1].update(state=run["state"], status=run["status"])
        job_clusters = run.get("job_clusters", [])
        if job_clusters:
            self._start(run)
