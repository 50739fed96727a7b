"""Deferred wait for a Databricks run to end.

The trigger holds no polling loop of its own: it registers its run with the triggerer process's
shared :class:`~airflow_dbx_provider.triggers.poller.RunStatePoller` for its workspace (host and
credentials, whatever the connection id), so N deferred tasks cost about ``N / 25`` list requests
per interval instead of N ``runs/get``. Each state change of the run and its tasks is logged from
the trigger (Airflow 3 puts these lines in the task log), from the same listing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_dbx_provider.exceptions import DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.hooks.settings import DbxSettings
from airflow_dbx_provider.runs.defaults import DEFAULT_POLLING_PERIOD_SECONDS
from airflow_dbx_provider.runs.outcome import error_payload, event_payload
from airflow_dbx_provider.runs.progress import RunProgressLogger
from airflow_dbx_provider.triggers.poller import RunStatePoller, shared_poller, workspace_key


class DatabricksRunTrigger(BaseTrigger):
    """Fire once run ``run_id`` is terminal: ``{"status": "success"|"failed"|"error", "run_id", ...}``.

    :param polling_period_seconds: the longest acceptable detection delay; the shared poller runs
        at the shortest interval of the triggers it serves.
    :param job_id: lets the poller list that job's active runs when that is cheaper than the
        workspace-wide list (learnt from the first answer when omitted).
    :param cancel_on_kill: cancel the run when a user kills the deferred task (``on_kill``).
    """

    def __init__(
        self,
        run_id: int,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        polling_period_seconds: float = DEFAULT_POLLING_PERIOD_SECONDS,
        run_page_url: str | None = None,
        job_id: int | None = None,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()
        self.run_id = int(run_id)
        self.databricks_conn_id = databricks_conn_id
        self.polling_period_seconds = float(polling_period_seconds)
        self.run_page_url = run_page_url
        self.job_id = int(job_id) if job_id is not None else None
        self.cancel_on_kill = cancel_on_kill

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "run_id": self.run_id,
                "databricks_conn_id": self.databricks_conn_id,
                "polling_period_seconds": self.polling_period_seconds,
                "run_page_url": self.run_page_url,
                "job_id": self.job_id,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    async def _poller(self) -> RunStatePoller:
        """The shared poller of this connection's workspace (read without blocking the loop)."""
        conn_id = self.databricks_conn_id
        settings = await DatabricksAsyncHook(conn_id).aget_settings()
        return shared_poller(poller_key(settings), lambda: DatabricksAsyncHook(conn_id, settings=settings))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        progress = RunProgressLogger(self.log, self.run_id)
        try:
            poller = await self._poller()
            summary = await poller.wait(
                self.run_id,
                job_id=self.job_id,
                interval=self.polling_period_seconds,
                on_progress=progress.observe,
            )
        except DbxError as err:
            self.log.error("Could not watch Databricks run %s: %s", self.run_id, err)
            yield TriggerEvent(error_payload(self.run_id, self.run_page_url, err))
            return
        payload = event_payload(summary, self.run_page_url)
        self.log.info("Databricks run %s: %s", self.run_id, payload["message"])
        yield TriggerEvent(payload)

    async def on_kill(self) -> None:
        """A user killed the deferred task (mark failed/success, clear): cancel the run.

        Airflow 3.3 calls this only on user action, never on triggerer restart, redistribution,
        trigger timeout or normal completion, so a rolling triggerer deploy leaves runs alone.
        """
        if not self.cancel_on_kill:
            return
        self.log.info("Deferred task killed: canceling Databricks run %s", self.run_id)
        async with DatabricksAsyncHook(self.databricks_conn_id) as hook:
            await hook.cancel_run(self.run_id)


def poller_key(settings: DbxSettings) -> str:
    """One poller per workspace and identity: host, credentials (hashed), API version and TLS trust."""
    return workspace_key(
        settings.host,
        settings.auth_type,
        settings.token,
        settings.client_id,
        settings.client_secret,
        settings.api_version,
        settings.verify,
    )
