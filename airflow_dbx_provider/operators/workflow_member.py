"""What a notebook/task operator does inside a ``DatabricksWorkflowTaskGroup``.

A member is one task of the group's Databricks job. It never starts a run: the group's ``launch``
task starts one run per DAG run, and each member follows the latest attempt of its own
``task_key`` in that run (synchronously with one ``runs/get`` of the parent run per interval,
whose answer carries every task; deferred through the triggerer's shared poller, which reads the
run once per cycle for all members). Success pushes the task's notebook output; failure logs the
task's remote error and fails exactly this Airflow task.

**Repair instead of relaunch.** A member whose Databricks task already ended unsuccessfully when
the Airflow task starts — a later try (a retry, or the task cleared in the UI), or a task that
never ran because an upstream failed (``UPSTREAM_FAILED``, while Airflow now runs it) — asks for
``runs/repair`` of its own ``task_key`` on the same run (``rerun_tasks`` with
``latest_repair_id``), once the run is terminal, then follows the repaired attempt. One repair per
member: a member never reruns a sibling's task. Members cleared together race safely:
``latest_repair_id`` lets only one repair through at a time, the others wait for it to end and
repair next. The first try of a member that finds its task failed reports the failure.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider._compat import AirflowSkipException
from airflow_dbx_provider.exceptions import DatabricksApiError, DatabricksConfigError
from airflow_dbx_provider.runs.links import XCOM_JOB_ID, XCOM_RUN_ID, XCOM_TASK_OUTPUTS, push_run_page_url
from airflow_dbx_provider.runs.outcome import collect_task_outputs, failure_error, raise_for_watch_error
from airflow_dbx_provider.runs.progress import RunProgressLogger
from airflow_dbx_provider.runs.state import RunState
from airflow_dbx_provider.runs.summary import run_summary
from airflow_dbx_provider.triggers.workflow_task import DatabricksWorkflowTaskTrigger, only_task

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_dbx_provider.hooks.databricks import DatabricksHook

#: Airflow trigger rules with a Databricks ``run_if`` equivalent (the official provider's mapping).
TRIGGER_RULE_TO_RUN_IF = {
    "all_failed": "ALL_FAILED",
    "all_done": "ALL_DONE",
    "one_success": "AT_LEAST_ONE_SUCCESS",
    "one_failed": "AT_LEAST_ONE_FAILED",
    "none_failed": "NONE_FAILED",
    "none_failed_min_one_success": "NONE_FAILED",
    "always": "ALL_DONE",
}
#: Outcomes of a task that did not run itself: Airflow running it now means it should.
NEVER_RAN = frozenset({"UPSTREAM_FAILED", "UPSTREAM_CANCELED"})
#: Outcomes that mean "not run on purpose": the Airflow task is skipped.
SKIPPED_OUTCOMES = frozenset({"EXCLUDED", "DISABLED"})
#: runs/repair answers when another repair came first (run active again, or a newer repair id).
REPAIR_CONFLICTS = frozenset({"INVALID_STATE", "INVALID_PARAMETER_VALUE", "RESOURCE_CONFLICT"})
#: Refused repairs of a terminal run in a row before giving up (each one re-reads the run first).
MAX_REFUSED_REPAIRS = 10
RESUME_METHOD = "workflow_task_resumed"
_WAIT = object()


class WorkflowMemberMixin:
    """Group membership for :class:`~airflow_dbx_provider.operators.task.DatabricksTaskBaseOperator`."""

    # provided by the operator
    hook: DatabricksHook
    databricks_conn_id: str
    deferrable: bool
    polling_period_seconds: float
    wait_for_termination: bool
    workflow_run_metadata: Any
    existing_cluster_id: str
    job_cluster_key: str
    new_cluster: dict[str, Any]
    run_id: int | None
    log: Any
    _refused_repairs: int = 0

    @property
    def databricks_task_key(self) -> str:
        raise NotImplementedError

    def task_base_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def _retry_settings(self) -> dict[str, Any]:
        raise NotImplementedError

    # ---- the group's job JSON ----------------------------------------------------------------
    @property
    def _databricks_workflow_task_group(self) -> Any:
        """The enclosing ``DatabricksWorkflowTaskGroup`` (searching up nested groups), or None."""
        group = getattr(self, "task_group", None)
        while group is not None:
            if getattr(group, "is_databricks", False):
                return group
            group = getattr(group, "task_group", None) or getattr(group, "parent_group", None)
        return None

    def workflow_task_base_json(self, group: Any, context: Context | None) -> dict[str, Any]:
        """The task's kind and settings as the group's job carries them (templates rendered)."""
        return self._rendered(self.task_base_json(), context)

    def _rendered(self, value: Any, context: Context | None) -> Any:
        if context is None:
            return value
        return self.render_template(value, context)  # type: ignore[attr-defined]

    def _workflow_compute(self, task: dict[str, Any]) -> dict[str, Any]:
        given = {
            name: value
            for name, value in (
                ("existing_cluster_id", self.existing_cluster_id),
                ("job_cluster_key", self.job_cluster_key),
                ("new_cluster", self.new_cluster),
            )
            if value
        }
        if len(given) > 1:
            raise DatabricksConfigError(
                f"task {self.task_id!r}: give one of {', '.join(given)}, not several"  # type: ignore[attr-defined]
            )
        return given  # none: the task's own compute (task_config), or none needed (sql_task, serverless)

    def _convert_to_databricks_workflow_task(
        self, relevant_upstreams: list[str], task_dict: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any]:
        """This operator as a task of the group's job: ``depends_on`` from the Airflow upstreams."""
        group = self._databricks_workflow_task_group
        if group is None:
            raise DatabricksConfigError(f"task {self.task_id!r} is not in a DatabricksWorkflowTaskGroup")  # type: ignore[attr-defined]
        task = dict(self.workflow_task_base_json(group, context))
        task.update(self._workflow_compute(task))
        task.update(self._retry_settings())
        upstream_ids = sorted(self.upstream_task_ids)  # type: ignore[attr-defined]
        task["depends_on"] = [
            {"task_key": _task_key_of(task_dict, task_id, self.dag_id)}  # type: ignore[attr-defined]
            for task_id in upstream_ids
            if task_id in relevant_upstreams
        ]
        task["task_key"] = self.databricks_task_key
        rule = getattr(self.trigger_rule, "value", str(self.trigger_rule))  # type: ignore[attr-defined]
        if rule in TRIGGER_RULE_TO_RUN_IF:
            task["run_if"] = TRIGGER_RULE_TO_RUN_IF[rule]
        return task

    # ---- following the group's run -----------------------------------------------------------
    def _workflow_metadata(self, context: Context) -> dict[str, Any]:
        meta = self.workflow_run_metadata
        if not meta:
            launch = next((t for t in self.upstream_task_ids if t.endswith(".launch")), None)  # type: ignore[attr-defined]
            meta = context["ti"].xcom_pull(task_ids=launch) if launch else None
        if not isinstance(meta, dict) or "run_id" not in meta:
            raise DatabricksConfigError(
                f"no workflow run for task {self.task_id!r}: the group's launch task pushes it"  # type: ignore[attr-defined]
            )
        return meta

    def execute_in_workflow(self, context: Context) -> Any:
        meta = self._workflow_metadata(context)
        if meta.get("conn_id") and meta["conn_id"] != self.databricks_conn_id:
            self.databricks_conn_id = str(meta["conn_id"])
            self.__dict__.pop("hook", None)  # the cached hook was for the other connection
        run_id = self.run_id = int(meta["run_id"])
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RUN_ID, value=run_id)
        if meta.get("job_id") is not None:
            ti.xcom_push(key=XCOM_JOB_ID, value=int(meta["job_id"]))
        run = self.hook.get_run(run_id)
        push_run_page_url(context, run.get("run_page_url"))
        summary = run_summary(run)
        mine = self._my_task(summary)
        stale = None
        if self._needs_repair(mine, int(getattr(ti, "try_number", 1) or 1)):
            stale = int(mine["run_id"])
            self.log.info(
                "Databricks task %s of run %s %s: this try repairs it (%s)",
                self.databricks_task_key,
                run_id,
                RunState.from_dict(mine).describe(),
                run.get("run_page_url"),
            )
        elif not self.wait_for_termination:
            return {"run_id": run_id, "run_page_url": run.get("run_page_url"), "result_state": None}
        return self._follow_task(context, summary, stale, RunProgressLogger(self.log, run_id))

    def _my_task(self, summary: dict[str, Any]) -> dict[str, Any]:
        key = self.databricks_task_key
        mine = next((t for t in summary.get("tasks") or [] if t["task_key"] == key), None)
        if mine is None:
            raise DatabricksConfigError(
                f"Databricks run {summary['run_id']} has no task {key!r} (was the job changed after launch?)"
            )
        return mine

    @staticmethod
    def _needs_repair(task: dict[str, Any], try_number: int) -> bool:
        state = RunState.from_dict(task)
        if not state.is_terminal or state.is_successful or state.outcome in SKIPPED_OUTCOMES:
            return False
        return state.outcome in NEVER_RAN or try_number > 1

    def _follow_task(
        self,
        context: Context,
        summary: dict[str, Any],
        stale: int | None,
        progress: RunProgressLogger | None,
        refused: int = 0,
    ) -> Any:
        run_id = int(summary["run_id"])
        self._refused_repairs = refused
        while True:
            outcome = self._step(context, summary, stale)
            if outcome is not _WAIT:
                return outcome
            if self.deferrable:
                self.defer(  # type: ignore[attr-defined]
                    trigger=DatabricksWorkflowTaskTrigger(
                        run_id=run_id,
                        task_key=self.databricks_task_key,
                        databricks_conn_id=self.databricks_conn_id,
                        polling_period_seconds=self.polling_period_seconds,
                        run_page_url=summary.get("run_page_url"),
                        job_id=summary.get("job_id"),
                        stale_task_run_id=stale,
                    ),
                    method_name=RESUME_METHOD,
                    kwargs={"stale": stale, "refused": self._refused_repairs},
                    timeout=self.execution_timeout,  # type: ignore[attr-defined]
                )
            time.sleep(self.polling_period_seconds)
            run = self.hook.get_run(run_id)
            if progress is not None:
                progress.observe(only_task(run, self.databricks_task_key))
            summary = run_summary(run)

    def workflow_task_resumed(
        self, context: Context, event: dict[str, Any], stale: int | None = None, refused: int = 0
    ) -> Any:
        """Back from the trigger: this task (or the whole run) ended."""
        raise_for_watch_error(event)
        self.run_id = int(event["run_id"])
        return self._follow_task(context, event, stale, None, refused)

    def _step(self, context: Context, summary: dict[str, Any], stale: int | None) -> Any:
        mine = self._my_task(summary)
        if stale is not None and int(mine["run_id"]) == stale:
            if RunState.from_dict(summary["run_state"]).is_terminal:
                self._repair(int(summary["run_id"]), stale)
            return _WAIT
        if not RunState.from_dict(mine).is_terminal:
            return _WAIT
        return self._finish_task(context, summary, mine)

    def _repair(self, run_id: int, stale: int) -> None:
        """Ask for a repair of this task, unless the fresh run shows it repaired or busy."""
        key = self.databricks_task_key
        run = self.hook.get_run(run_id, include_history=True)
        mine = self._my_task(run_summary(run))
        if int(mine["run_id"]) != stale:
            return  # already repaired (another try, or by hand): follow that attempt
        if not RunState.of_run(run).is_terminal:
            self.log.info("Run %s is being repaired for other tasks; repairing %s after it", run_id, key)
            return
        history = run.get("repair_history") or []
        repairs = [h for h in history if h.get("type") == "REPAIR"]
        latest_repair_id = int(repairs[-1]["id"]) if repairs else None
        try:
            repair_id = self.hook.repair_run(run_id, rerun_tasks=[key], latest_repair_id=latest_repair_id)
        except DatabricksApiError as err:
            self._refused_repairs += 1
            if err.error_code not in REPAIR_CONFLICTS or self._refused_repairs > MAX_REFUSED_REPAIRS:
                raise
            self.log.info("Another repair of run %s came first (%s); repairing %s after it", run_id, err, key)
            return
        self._refused_repairs = 0
        self.log.info("Repairing task %s of Databricks run %s (repair %s)", key, run_id, repair_id)

    def _finish_task(self, context: Context, summary: dict[str, Any], mine: dict[str, Any]) -> Any:
        run_id = int(summary["run_id"])
        url = summary.get("run_page_url")
        state = RunState.from_dict(mine)
        if state.is_successful:
            outputs = collect_task_outputs(self.hook, {"tasks": [mine]})
            context["ti"].xcom_push(key=XCOM_TASK_OUTPUTS, value=outputs)
            self.log.info("Databricks task %s of run %s %s", mine["task_key"], run_id, state.describe())
            return {
                "run_id": run_id,
                "task_run_id": int(mine["run_id"]),
                "result_state": state.result_state,
                "task_outputs": outputs,
                "run_page_url": url,
            }
        if state.outcome in SKIPPED_OUTCOMES:
            raise AirflowSkipException(f"Databricks task {mine['task_key']} {state.describe()}")
        own = {"run_id": run_id, "run_state": state.to_dict(), "tasks": [mine], "run_page_url": url}
        raise failure_error(self.hook, own, self.log)


def _task_key_of(task_dict: dict[str, Any], task_id: str, dag_id: str) -> str:
    task = task_dict.get(task_id)
    key = getattr(task, "databricks_task_key", None)
    if key:
        return str(key)
    return hashlib.md5(f"{dag_id}__{task_id}".encode(), usedforsecurity=False).hexdigest()
