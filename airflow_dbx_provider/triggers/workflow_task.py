"""Deferred wait for one task of a shared workflow run (a ``DatabricksWorkflowTaskGroup`` member).

Every member of a workflow group follows its own ``task_key`` of the same Databricks run. The
trigger registers that run with the triggerer's shared
:class:`~airflow_dbx_provider.triggers.poller.RunStatePoller` (the run listing with
``expand_tasks`` carries every task's state), so N members waiting on one run add no request of
their own: the poller reads the run once per cycle for all of them.

It fires when the latest attempt of its task is terminal, or when the whole run is terminal
(whatever its task's state: the operator then decides, e.g. to repair a stale attempt). An attempt
named in ``stale_task_run_id`` (the failed attempt a repair is meant to replace) does not count.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_dbx_provider.exceptions import DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.runs.defaults import DEFAULT_POLLING_PERIOD_SECONDS
from airflow_dbx_provider.runs.outcome import error_payload, event_payload
from airflow_dbx_provider.runs.progress import RunProgressLogger
from airflow_dbx_provider.runs.state import RunState
from airflow_dbx_provider.runs.summary import latest_task_attempts, run_summary
from airflow_dbx_provider.triggers.poller import shared_poller
from airflow_dbx_provider.triggers.run import poller_key


class _TaskEnded(Exception):
    """Raised from the progress callback to leave the shared wait once this task has ended."""

    def __init__(self, view: Mapping[str, Any]) -> None:
        super().__init__("task ended")
        self.view = view


def latest_attempt(run: Mapping[str, Any], task_key: str) -> dict[str, Any] | None:
    """The latest attempt of ``task_key`` in a run (a ``runs/get`` answer or a list item)."""
    return next(
        (t for t in latest_task_attempts(run.get("tasks") or []) if t.get("task_key") == task_key), None
    )


def only_task(run: Mapping[str, Any], task_key: str) -> dict[str, Any]:
    """The run as one member sees it: its own task's attempts only (for progress lines)."""
    return {**run, "tasks": [t for t in run.get("tasks") or [] if t.get("task_key") == task_key]}


class DatabricksWorkflowTaskTrigger(BaseTrigger):
    """Fire once task ``task_key`` of run ``run_id`` ended, or the run did.

    The event is the run's :func:`~airflow_dbx_provider.runs.outcome.event_payload` (latest task
    attempts included) plus ``task_key``; ``status`` is ``"error"`` when the run could not be watched.
    """

    def __init__(
        self,
        run_id: int,
        task_key: str,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        polling_period_seconds: float = DEFAULT_POLLING_PERIOD_SECONDS,
        run_page_url: str | None = None,
        job_id: int | None = None,
        stale_task_run_id: int | None = None,
    ) -> None:
        super().__init__()
        self.run_id = int(run_id)
        self.task_key = str(task_key)
        self.databricks_conn_id = databricks_conn_id
        self.polling_period_seconds = float(polling_period_seconds)
        self.run_page_url = run_page_url
        self.job_id = int(job_id) if job_id is not None else None
        self.stale_task_run_id = int(stale_task_run_id) if stale_task_run_id is not None else None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "run_id": self.run_id,
                "task_key": self.task_key,
                "databricks_conn_id": self.databricks_conn_id,
                "polling_period_seconds": self.polling_period_seconds,
                "run_page_url": self.run_page_url,
                "job_id": self.job_id,
                "stale_task_run_id": self.stale_task_run_id,
            },
        )

    def _ended(self, run: Mapping[str, Any]) -> bool:
        task = latest_attempt(run, self.task_key)
        if task is None or int(task.get("run_id") or 0) == self.stale_task_run_id:
            return False
        return RunState.from_api(task.get("state")).is_terminal

    async def run(self) -> AsyncIterator[TriggerEvent]:
        progress = RunProgressLogger(self.log, self.run_id)

        def on_progress(run: dict[str, Any]) -> None:
            progress.observe(only_task(run, self.task_key))
            if self._ended(run):
                raise _TaskEnded(run)

        conn_id = self.databricks_conn_id
        try:
            settings = await DatabricksAsyncHook(conn_id).aget_settings()
            poller = shared_poller(
                poller_key(settings), lambda: DatabricksAsyncHook(conn_id, settings=settings)
            )
            summary = await poller.wait(
                self.run_id, job_id=self.job_id, interval=self.polling_period_seconds, on_progress=on_progress
            )
        except _TaskEnded as ended:
            summary = run_summary(ended.view)
        except DbxError as err:
            self.log.error("Could not watch Databricks run %s: %s", self.run_id, err)
            yield TriggerEvent(
                {**error_payload(self.run_id, self.run_page_url, err), "task_key": self.task_key}
            )
            return
        yield TriggerEvent({**event_payload(summary, self.run_page_url), "task_key": self.task_key})
