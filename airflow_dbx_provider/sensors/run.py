"""Wait for a Databricks run started elsewhere (a run_id from XCom, or the latest run of a job)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_dbx_provider._compat import AirflowSkipException
from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.runs.defaults import DEFAULT_POLLING_PERIOD_SECONDS, default_deferrable
from airflow_dbx_provider.runs.hook_mixin import DatabricksHookMixin
from airflow_dbx_provider.runs.ids import positive_id
from airflow_dbx_provider.runs.links import XCOM_RUN_ID, DatabricksRunPageLink, push_run_page_url
from airflow_dbx_provider.runs.outcome import failure_error, raise_for_watch_error
from airflow_dbx_provider.runs.state import RunState
from airflow_dbx_provider.runs.summary import run_summary
from airflow_dbx_provider.triggers.run import DatabricksRunTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class DatabricksRunSensor(DatabricksHookMixin, BaseSensorOperator):
    """Succeed when the run is terminal and successful; fail (or skip with ``soft_fail``) otherwise.

    Give one of ``run_id``, ``job_id`` or ``job_name``; with a job, the sensor follows the job's
    latest run (re-read at each poke: one ``runs/list`` call that also carries the state).
    Works in poke, reschedule and deferrable modes. Returns the run summary (run_id, run_state,
    run_page_url, tasks) and pushes ``run_id`` and ``run_page_url``.
    """

    template_fields: Sequence[str] = ("run_id", "job_id", "job_name", "databricks_conn_id")
    operator_extra_links = (DatabricksRunPageLink(),)
    ui_color = "#1CB1C2"

    def __init__(
        self,
        *,
        run_id: int | str | None = None,
        job_id: int | str | None = None,
        job_name: str | None = None,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool | None = None,
        poke_interval: float = DEFAULT_POLLING_PERIOD_SECONDS,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        given = [name for name, v in (("run_id", run_id), ("job_id", job_id), ("job_name", job_name)) if v]
        if len(given) != 1:
            raise DatabricksConfigError(
                f"give exactly one of run_id, job_id and job_name (got {', '.join(given) or 'none'})"
            )
        self.run_id = run_id
        self.job_id = job_id
        self.job_name = job_name
        self._use_connection(databricks_conn_id, hook_params)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self._last_state: str | None = None
        self._seen_run_id: int | None = None

    def _check_ids(self) -> None:
        """Rendered ids must be positive integers: one line, before any API call."""
        if self.run_id:
            positive_id(self.run_id, "run_id")
        if self.job_id:
            positive_id(self.job_id, "job_id")

    def _current_run(self) -> dict[str, Any] | None:
        if self.run_id:
            return self.hook.get_run(positive_id(self.run_id, "run_id"))
        job_id = (
            positive_id(self.job_id, "job_id")
            if self.job_id
            else self.hook.find_job_id_by_name(str(self.job_name))
        )
        if job_id is None:
            raise DatabricksConfigError(f"job_name {self.job_name!r}: no job of that name exists")
        return next(iter(self.hook.list_runs(job_id=job_id, limit=1)), None)

    def poke(self, context: Context) -> bool | PokeReturnValue:
        run = self._current_run()
        if run is None:
            self.log.info("Job %s has no run yet", self.job_id or self.job_name)
            return False
        run_id = self._seen_run_id = int(run["run_id"])
        state = RunState.of_run(run)
        if str(state) != self._last_state:
            self.log.info("Run %s is %s (%s)", run_id, state, run.get("run_page_url"))
            if self._last_state is None:
                context["ti"].xcom_push(key=XCOM_RUN_ID, value=run_id)
                push_run_page_url(context, run.get("run_page_url"))
            self._last_state = str(state)
        if not state.is_terminal:
            return False
        if not state.is_successful:
            if not run.get("tasks"):  # runs/list has no tasks; fetch them to explain the failure
                run = self.hook.get_run(run_id)
            self._fail(run_summary(run))
        return PokeReturnValue(is_done=True, xcom_value=run_summary(run))

    def _fail(self, summary: dict[str, Any]) -> None:
        error = failure_error(self.hook, summary, self.log)
        if self.soft_fail:
            raise AirflowSkipException(f"soft_fail: {error}") from error
        raise error

    def execute(self, context: Context) -> Any:
        self._check_ids()
        if not self.deferrable:
            return super().execute(context)
        answer = self.poke(context)
        if answer:
            return answer.xcom_value if isinstance(answer, PokeReturnValue) else None
        run_id = self._seen_run_id
        if run_id is None:  # no run of the job yet: poke again later, in the normal sync way
            return super().execute(context)
        self.defer(
            trigger=DatabricksRunTrigger(
                run_id=int(run_id),
                databricks_conn_id=self.databricks_conn_id,
                polling_period_seconds=self.poke_interval,
                cancel_on_kill=False,  # the sensor did not start the run
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        raise_for_watch_error(event)
        if event.get("status") != "success":
            self._fail(event)
        self.log.info(
            "Databricks run %s %s", event["run_id"], RunState.from_dict(event["run_state"]).describe()
        )
        return {k: event[k] for k in ("run_id", "job_id", "run_page_url", "run_state", "tasks")}
