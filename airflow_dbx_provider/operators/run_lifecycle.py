"""Start (or re-attach to) a Databricks run, wait for it, and explain how it ended.

Shared by :class:`DatabricksSubmitRunOperator` and :class:`DatabricksRunNowOperator`: subclasses
only say how to launch a run with a given idempotency token.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.bases.operator import TriggerFailureReason

from airflow_dbx_provider.exceptions import DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.api import EP
from airflow_dbx_provider.operators.idempotency import (
    ExpectedRun,
    base_token,
    check_token,
    generation_token,
    started_before,
    token_key,
    verify_run,
)
from airflow_dbx_provider.operators.official_args import OfficialRetryArgsMixin
from airflow_dbx_provider.runs.defaults import DEFAULT_POLLING_PERIOD_SECONDS, default_deferrable
from airflow_dbx_provider.runs.links import (
    XCOM_JOB_ID,
    XCOM_RUN_ID,
    XCOM_TASK_OUTPUTS,
    DatabricksRunPageLink,
    push_run_page_url,
)
from airflow_dbx_provider.runs.outcome import collect_task_outputs, failure_error, raise_for_watch_error
from airflow_dbx_provider.runs.progress import RunProgressLogger
from airflow_dbx_provider.runs.state import RunState
from airflow_dbx_provider.runs.summary import run_summary
from airflow_dbx_provider.triggers.run import DatabricksRunTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

TRIGGER_FAIL = "__fail__"


class DatabricksRunLifecycleOperator(OfficialRetryArgsMixin, BaseOperator):
    """Base of operators that start one run: idempotent start, wait (sync or deferred), explain failure.

    :param databricks_conn_id: Airflow connection of the workspace.
    :param wait_for_termination: wait for the run to end; otherwise return once it has started.
    :param polling_period_seconds: seconds between state checks (sync path and trigger).
    :param deferrable: hand the wait to the triggerer (default ``[operators] default_deferrable``).
    :param idempotency_token: your own token; by default one is derived from dag_id, task_id,
        run_id and map_index, so retries re-attach to the run already started.
    :param cancel_on_kill: cancel the remote run when the task is killed (sync ``on_kill``; deferred:
        trigger ``on_kill`` on user action, and trigger timeout).
    :param databricks_retry_limit: / :param databricks_retry_delay: / :param databricks_retry_args:
        the official provider's retry knobs, mapped onto our retry deadline (see
        :mod:`~airflow_dbx_provider.operators.official_args`).
    :param durable: as the official provider: ``False`` starts a fresh run on each try (each try
        gets its own idempotency token); ``True``/``None`` re-attaches to the run already started.
    """

    operator_extra_links = (DatabricksRunPageLink(),)
    ui_color = "#1CB1C2"

    def __init__(
        self,
        *,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        wait_for_termination: bool = True,
        polling_period_seconds: float = DEFAULT_POLLING_PERIOD_SECONDS,
        deferrable: bool | None = None,
        idempotency_token: str | None = None,
        cancel_on_kill: bool = True,
        hook_params: dict[str, Any] | None = None,
        databricks_retry_limit: int | None = None,
        databricks_retry_delay: float | None = None,
        databricks_retry_args: dict[Any, Any] | None = None,
        durable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._use_connection(databricks_conn_id, hook_params)
        self._use_official_retry_args(databricks_retry_limit, databricks_retry_delay, databricks_retry_args)
        self.durable = durable
        self.wait_for_termination = wait_for_termination
        self.polling_period_seconds = polling_period_seconds
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.idempotency_token = idempotency_token
        self.cancel_on_kill = cancel_on_kill
        self.run_id: int | None = None

    # ---- what subclasses provide -------------------------------------------------------------
    def prepare(self, context: Context) -> None:
        """Validate rendered arguments; runs before any API call."""

    def launch(self, context: Context, token: str) -> int:
        """Start a run carrying ``token``; return its run_id (an existing one if the token was used)."""
        raise NotImplementedError

    def repair(self, run: Mapping[str, Any]) -> bool:
        """Repair a failed run of an earlier try instead of relaunching; True when repaired."""
        return False

    def repair_failed_run(self, summary: Mapping[str, Any]) -> bool:
        """The run this try follows just failed: repair it in place and keep following it? (True if so)"""
        return False

    # ---- execution ---------------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        self.prepare(context)
        run_id = self._start_or_attach(context)
        run = self.hook.get_run(run_id)
        self._verify_run(context, run)  # before any of its ids reaches XCom
        self.run_id = run_id
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RUN_ID, value=run_id)
        push_run_page_url(context, run.get("run_page_url"))
        if run.get("job_id") is not None:
            ti.xcom_push(key=XCOM_JOB_ID, value=run["job_id"])
        self.log.info("Databricks run %s: %s", run_id, run.get("run_page_url"))
        if not self.wait_for_termination:
            return {"run_id": run_id, "run_page_url": run.get("run_page_url"), "result_state": None}
        return self._follow(context, run_id, run)

    def _follow(self, context: Context, run_id: int, run: dict[str, Any]) -> Any:
        """Wait for the run (deferring when asked) and finish."""
        if self.deferrable and not RunState.of_run(run).is_terminal:
            self.defer(
                trigger=DatabricksRunTrigger(
                    run_id=run_id,
                    databricks_conn_id=self.databricks_conn_id,
                    polling_period_seconds=self.polling_period_seconds,
                    run_page_url=run.get("run_page_url"),
                    job_id=run.get("job_id"),
                    cancel_on_kill=self.cancel_on_kill,
                ),
                method_name="execute_complete",
                timeout=self.execution_timeout,
            )
        run = self._wait(run_id, run)
        return self._finish(context, run_summary(run))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after the trigger fired: the event already holds the final state and tasks."""
        raise_for_watch_error(event)
        self.run_id = int(event["run_id"])
        return self._finish(context, event)

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context):
        """On a trigger timeout, cancel the run this try started before failing the task.

        A trigger that crashed is not a reason to cancel: the retry re-attaches to the run.
        """
        timed_out = (next_kwargs or {}).get("error") == TriggerFailureReason.TRIGGER_TIMEOUT
        if next_method == TRIGGER_FAIL and timed_out and self.cancel_on_kill:
            self._cancel_after_timeout(context, next_kwargs or {})
        return super().resume_execution(next_method, next_kwargs, context)

    def on_kill(self) -> None:
        if self.run_id is None or not self.cancel_on_kill:
            return
        self.log.info("Task killed: canceling Databricks run %s", self.run_id)
        try:
            self.hook.cancel_run(self.run_id)
        except DbxError as err:
            self.log.warning("Could not cancel Databricks run %s: %s", self.run_id, err)

    # ---- internals ---------------------------------------------------------------------------
    def expected_run(self) -> ExpectedRun:
        """What a run this operator starts looks like; a run returned for our token must match."""
        return ExpectedRun()

    def _verify_run(self, context: Context, run: Mapping[str, Any]) -> None:
        """Refuse a run returned for our token that this task would not have started (docs/security.md)."""
        try_number = int(getattr(context["ti"], "try_number", 1) or 1)
        verify_run(
            run,
            self.expected_run(),
            pre_existing=try_number > 1 or started_before(run, getattr(self, "_requested_at_ms", 0)),
            whoami=self._whoami,
        )

    def _whoami(self) -> str | None:
        """The connection's own user name (SCIM Me), asked once per try and only on re-attach."""
        if not hasattr(self, "_me"):
            self._me = self.hook.call(EP.SCIM_ME).get("userName")
        return self._me

    def _base_token(self, context: Context) -> str:
        if self.idempotency_token:
            return check_token(self.idempotency_token)
        ti = context["ti"]
        key, _source = token_key(self.hook.settings.secrets)
        base = base_token(ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", -1), key=key)
        if self.durable is False:  # a fresh run per try, still idempotent within the try
            return generation_token(base, 1000 + int(getattr(ti, "try_number", 1) or 1))
        return base

    def _start_or_attach(self, context: Context) -> int:
        """Launch with the task instance's token; on a retry walk past runs of earlier tries that failed.

        Every earlier try launched at most one run per token generation, so generation ``n`` exists
        only if generation ``n - 1`` failed. A live or successful run is re-attached, never relaunched.
        """
        try_number = 1 if self.durable is False else int(getattr(context["ti"], "try_number", 1) or 1)
        base = self._base_token(context)
        self._requested_at_ms = int(time.time() * 1000)
        generation = 0
        while True:
            run_id = self.launch(context, generation_token(base, generation))
            if try_number <= 1 or generation >= try_number - 1:
                return run_id
            run = self.hook.get_run(run_id)
            self._verify_run(context, run)  # never repair or follow a run that is not ours
            state = RunState.of_run(run)
            if not state.is_terminal:
                self.log.info("Re-attaching to run %s started by an earlier try (%s)", run_id, state)
                return run_id
            if state.is_successful:
                self.log.info("Run %s of an earlier try already succeeded; not relaunching it", run_id)
                return run_id
            if self.repair(run):
                return run_id
            self.log.info("Run %s of an earlier try %s; launching a new run", run_id, state.describe())
            generation += 1

    def _wait(self, run_id: int, run: dict[str, Any]) -> dict[str, Any]:
        """One ``runs/get`` per interval; each answer is used whole (state, tasks, URL)."""
        progress = RunProgressLogger(self.log, run_id)
        while True:
            progress.observe(run)
            if RunState.of_run(run).is_terminal:
                return run
            time.sleep(self.polling_period_seconds)
            run = self.hook.get_run(run_id)

    def _finish(self, context: Context, summary: Mapping[str, Any]) -> dict[str, Any]:
        state = RunState.from_dict(summary["run_state"])
        if not state.is_successful:
            if self.repair_failed_run(summary):
                run_id = int(summary["run_id"])
                return self._follow(context, run_id, self.hook.get_run(run_id))
            raise failure_error(self.hook, summary, self.log)
        outputs = collect_task_outputs(self.hook, summary)
        context["ti"].xcom_push(key=XCOM_TASK_OUTPUTS, value=outputs)
        self.log.info("Databricks run %s %s", summary["run_id"], state.describe())
        return {
            "run_id": int(summary["run_id"]),
            "result_state": state.result_state,
            "task_outputs": outputs,
            "run_page_url": summary.get("run_page_url"),
        }

    def _cancel_after_timeout(self, context: Context, next_kwargs: Mapping[str, Any]) -> None:
        run_id = context["ti"].xcom_pull(task_ids=self.task_id, key=XCOM_RUN_ID)
        if isinstance(run_id, list):  # mapped pulls may come back as a list
            run_id = run_id[0] if run_id else None
        if not run_id:
            return
        self.log.warning(
            "Deferred wait ended (%s): canceling Databricks run %s", next_kwargs.get("error"), run_id
        )
        try:
            self.hook.cancel_run(int(run_id))
        except DbxError as err:
            self.log.warning("Could not cancel Databricks run %s: %s", run_id, err)
