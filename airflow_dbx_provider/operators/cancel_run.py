"""Cancel one run, or every active run of a job, and wait until they have ended."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.runs.defaults import DEFAULT_POLLING_PERIOD_SECONDS
from airflow_dbx_provider.runs.hook_mixin import DatabricksHookMixin
from airflow_dbx_provider.runs.ids import positive_id
from airflow_dbx_provider.runs.state import RunState

if TYPE_CHECKING:
    from airflow.sdk import Context


class DatabricksCancelRunOperator(DatabricksHookMixin, BaseOperator):
    """Cancel ``run_id``, or all active runs of ``job_id``; returns ``[{run_id, result_state}]``.

    Cancelling is asynchronous in Databricks; with ``wait_for_termination`` the task ends only
    once every canceled run is terminal (one ``runs/get`` per run still going, per interval).
    """

    template_fields: Sequence[str] = ("run_id", "job_id", "databricks_conn_id")
    ui_color = "#1CB1C2"

    def __init__(
        self,
        *,
        run_id: int | str | None = None,
        job_id: int | str | None = None,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        wait_for_termination: bool = True,
        polling_period_seconds: float = DEFAULT_POLLING_PERIOD_SECONDS,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (run_id in (None, "")) == (job_id in (None, "")):
            raise DatabricksConfigError("give exactly one of run_id and job_id")
        self.run_id = run_id
        self.job_id = job_id
        self._use_connection(databricks_conn_id, hook_params)
        self.wait_for_termination = wait_for_termination
        self.polling_period_seconds = polling_period_seconds

    def execute(self, context: Context) -> list[dict[str, Any]]:
        if self.run_id not in (None, ""):
            run_ids = [positive_id(self.run_id, "run_id")]
            self.hook.cancel_run(run_ids[0])
            self.log.info("Asked Databricks to cancel run %s", run_ids[0])
        else:
            job_id = positive_id(self.job_id, "job_id")
            run_ids = [int(r["run_id"]) for r in self.hook.list_runs(job_id=job_id, active_only=True)]
            self.hook.cancel_all_runs(job_id=job_id)
            self.log.info("Asked Databricks to cancel all %d active runs of job %s", len(run_ids), job_id)
        if not self.wait_for_termination:
            return [{"run_id": run_id, "result_state": None} for run_id in run_ids]
        return self._wait(run_ids)

    def _wait(self, run_ids: list[int]) -> list[dict[str, Any]]:
        pending = list(run_ids)
        final: dict[int, RunState] = {}
        while True:
            for run_id in list(pending):
                state = RunState.of_run(self.hook.get_run(run_id))
                if state.is_terminal:
                    final[run_id] = state
                    pending.remove(run_id)
                    self.log.info("Run %s %s", run_id, state.describe())
            if not pending:
                return [{"run_id": r, "result_state": final[r].outcome} for r in run_ids]
            time.sleep(self.polling_period_seconds)
