"""Deferred wait for a SQL statement (Statement Execution API) to reach a terminal state.

The trigger only reads ``sql/statements/{id}`` (an idempotent GET) through the async hook, and
cancels the statement when a user kills the deferred task or when ``end_time`` passes. Its event
holds plain values: ``{"status", "statement_id", "state", "error_code", "sql_state", "message"}``,
``status`` being ``success``, ``failed`` (FAILED/CANCELED/CLOSED), ``timeout`` or ``error`` (the
statement could not be read).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_dbx_provider.exceptions import DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.hooks.sql import STATEMENT_TERMINAL_STATES, acancel_statement, aget_statement
from airflow_dbx_provider.runs.defaults import DEFAULT_POLLING_PERIOD_SECONDS


def statement_event(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The event (and sync outcome) of a StatementResponse in a terminal state."""
    status = statement.get("status") or {}
    state = str(status.get("state"))
    error = status.get("error") or {}
    return {
        "status": "success" if state == "SUCCEEDED" else "failed",
        "statement_id": str(statement.get("statement_id")),
        "state": state,
        "error_code": error.get("error_code"),
        "sql_state": status.get("sql_state"),
        "message": error.get("message"),
    }


class DatabricksSQLStatementExecutionTrigger(BaseTrigger):
    """Fire once statement ``statement_id`` is terminal, or cancel it at ``end_time``.

    :param statement_id: the statement to watch.
    :param databricks_conn_id: Airflow connection of the workspace.
    :param end_time: epoch seconds after which the statement is canceled (``timeout`` event).
    :param polling_period_seconds: seconds between reads.
    :param cancel_on_kill: cancel the statement when a user kills the deferred task.
    """

    def __init__(
        self,
        statement_id: str,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        end_time: float | None = None,
        polling_period_seconds: float = DEFAULT_POLLING_PERIOD_SECONDS,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()
        self.statement_id = str(statement_id)
        self.databricks_conn_id = databricks_conn_id
        self.end_time = None if end_time is None else float(end_time)
        self.polling_period_seconds = float(polling_period_seconds)
        self.cancel_on_kill = cancel_on_kill

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "statement_id": self.statement_id,
                "databricks_conn_id": self.databricks_conn_id,
                "end_time": self.end_time,
                "polling_period_seconds": self.polling_period_seconds,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        last_state = None
        async with DatabricksAsyncHook(self.databricks_conn_id) as hook:
            while True:
                try:
                    statement = await aget_statement(hook, self.statement_id)
                except DbxError as err:
                    self.log.error("Could not read SQL statement %s: %s", self.statement_id, err)
                    yield TriggerEvent(self._event("error", None, err.error_code, str(err)))
                    return
                state = str((statement.get("status") or {}).get("state"))
                if state in STATEMENT_TERMINAL_STATES:
                    event = statement_event(statement)
                    self.log.info("SQL statement %s %s", self.statement_id, state)
                    yield TriggerEvent(event)
                    return
                if state != last_state:
                    self.log.info("SQL statement %s is %s", self.statement_id, state)
                    last_state = state
                left = None if self.end_time is None else self.end_time - time.time()
                if left is not None and left <= 0:
                    yield TriggerEvent(await self._time_out(hook, state))
                    return
                await asyncio.sleep(
                    self.polling_period_seconds if left is None else min(left, self.polling_period_seconds)
                )

    async def _time_out(self, hook: DatabricksAsyncHook, state: str) -> dict[str, Any]:
        self.log.warning("SQL statement %s still %s at its end time: canceling it", self.statement_id, state)
        try:
            await acancel_statement(hook, self.statement_id)
        except DbxError as err:
            self.log.warning("Could not cancel SQL statement %s: %s", self.statement_id, err)
        message = f"Statement {self.statement_id} was still {state} at its end time: canceled"
        return self._event("timeout", state, "DEADLINE_EXCEEDED", message)

    def _event(self, status: str, state: str | None, error_code: Any, message: str) -> dict[str, Any]:
        code = None if error_code is None else str(error_code)
        return {
            "status": status,
            "statement_id": self.statement_id,
            "state": state,
            "error_code": code,
            "sql_state": None,
            "message": message,
        }

    async def on_kill(self) -> None:
        """A user killed the deferred task: cancel the statement (never on triggerer restarts)."""
        if not self.cancel_on_kill:
            return
        self.log.info("Deferred task killed: canceling SQL statement %s", self.statement_id)
        async with DatabricksAsyncHook(self.databricks_conn_id) as hook:
            await acancel_statement(hook, self.statement_id)
