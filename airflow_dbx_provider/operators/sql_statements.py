"""Run one SQL statement through the Statement Execution API and wait for it, sync or deferred.

The API has no idempotency token, so a resent ``POST sql/statements`` could run an INSERT twice.
Instead the statement id is kept in the task instance's state store (Airflow 3.3+, which survives
retries; also pushed to XCom as ``statement_id``): a retry first reads the earlier try's statement
and re-attaches to it while it is PENDING/RUNNING, or keeps its success (SUCCEEDED, CLOSED), and
executes again only after a FAILED or CANCELED one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.bases.operator import TriggerFailureReason

from airflow_dbx_provider.exceptions import DatabricksNotFoundError, DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.sql import STATEMENT_TERMINAL_STATES
from airflow_dbx_provider.hooks.sql_dbapi import DatabricksSqlError
from airflow_dbx_provider.operators.official_args import OfficialRetryArgsMixin
from airflow_dbx_provider.runs.defaults import DEFAULT_POLLING_PERIOD_SECONDS, default_deferrable
from airflow_dbx_provider.triggers.sql_statement import (
    DatabricksSQLStatementExecutionTrigger,
    statement_event,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

#: XCom key (the official one) and task-state key of the statement a try executed.
XCOM_STATEMENT_ID = "statement_id"
STATE_KEY = "dbx_statement_id"
TRIGGER_FAIL = "__fail__"
_SUCCESSFUL = ("SUCCEEDED", "CLOSED")  # CLOSED: succeeded, and its result has since expired


def airflow_query_tags(context: Context | None) -> dict[str, str | None]:
    """The official provider's Airflow query tags: dag, task, run, try and map index."""
    ti = context.get("ti") if context else None
    if ti is None:
        return {}
    values = {
        "airflow_dag_id": ti.dag_id,
        "airflow_task_id": ti.task_id,
        "airflow_run_id": ti.run_id,
        "airflow_try_number": getattr(ti, "try_number", None),
        "airflow_map_index": getattr(ti, "map_index", None),
    }
    return {k: None if v is None else str(v) for k, v in values.items()}


class DatabricksSQLStatementsOperator(OfficialRetryArgsMixin, BaseOperator):
    """Execute ``statement`` on a SQL warehouse; push ``statement_id``; wait for it (sync or deferred).

    Arguments as the official operator's. Ours also templates ``statement``, ``warehouse_id``,
    ``catalog``, ``schema`` and ``parameters``, takes ``parameters`` as a plain ``{name: value}``
    dict too, and has ``cancel_on_kill`` and ``hook_params``.

    :param timeout: seconds the statement may run before it is canceled and the task fails.
    :param cancel_on_kill: cancel the statement when the task is killed or its
        ``execution_timeout`` passes (sync: ``on_kill``; deferred: trigger ``on_kill`` and timeout).
    """

    template_fields: Sequence[str] = (
        "statement",
        "warehouse_id",
        "catalog",
        "schema",
        "parameters",
        "databricks_conn_id",
        "query_tags",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"statement": "sql"}
    ui_color = "#1CB1C2"
    ui_fgcolor = "#fff"

    def __init__(
        self,
        statement: str,
        warehouse_id: str,
        *,
        catalog: str | None = None,
        schema: str | None = None,
        parameters: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        polling_period_seconds: float = DEFAULT_POLLING_PERIOD_SECONDS,
        databricks_retry_limit: int | None = None,
        databricks_retry_delay: float | None = None,
        databricks_retry_args: dict[Any, Any] | None = None,
        do_xcom_push: bool = True,
        wait_for_termination: bool = True,
        timeout: float = 3600,
        deferrable: bool | None = None,
        query_tags: dict[str, str | None] | None = None,
        include_airflow_query_tags: bool = True,
        cancel_on_kill: bool = True,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(do_xcom_push=do_xcom_push, **kwargs)
        self._use_connection(databricks_conn_id, hook_params)
        self._use_official_retry_args(databricks_retry_limit, databricks_retry_delay, databricks_retry_args)
        self.statement = statement
        self.warehouse_id = warehouse_id
        self.catalog = catalog
        self.schema = schema
        self.parameters = parameters
        self.polling_period_seconds = polling_period_seconds
        self.wait_for_termination = wait_for_termination
        self.timeout = timeout
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.query_tags = query_tags or {}
        self.include_airflow_query_tags = include_airflow_query_tags
        self.cancel_on_kill = cancel_on_kill
        self.statement_id: str | None = None

    # ---- execution ---------------------------------------------------------------------------
    def execute(self, context: Context) -> None:
        statement = self._earlier_try(context)
        if statement is None:
            statement = self._submit(context)
        statement_id = self.statement_id = str(statement["statement_id"])
        if self.do_xcom_push:
            context["ti"].xcom_push(key=XCOM_STATEMENT_ID, value=statement_id)
        if not self.wait_for_termination:
            return
        state = statement["status"]["state"]
        if self.deferrable and state not in STATEMENT_TERMINAL_STATES:
            self.defer(
                trigger=DatabricksSQLStatementExecutionTrigger(
                    statement_id=statement_id,
                    databricks_conn_id=self.databricks_conn_id,
                    end_time=time.time() + self.timeout,
                    polling_period_seconds=self.polling_period_seconds,
                    cancel_on_kill=self.cancel_on_kill,
                ),
                method_name="execute_complete",
                timeout=self.execution_timeout,
            )
        self._finish(statement_event(self._wait(statement)))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> None:
        """Resume after the trigger fired: the event holds the final state."""
        self.statement_id = event.get("statement_id")
        self._finish(event)

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context):
        """On a trigger timeout (``execution_timeout`` while deferred), cancel the statement first."""
        timed_out = (next_kwargs or {}).get("error") == TriggerFailureReason.TRIGGER_TIMEOUT
        if next_method == TRIGGER_FAIL and timed_out and self.cancel_on_kill:
            self.statement_id = self._remembered(context)
            self._cancel("deferred wait timed out")
        return super().resume_execution(next_method, next_kwargs, context)

    def on_kill(self) -> None:
        """Killed, or ``execution_timeout`` passed on the sync path: cancel the statement."""
        if self.cancel_on_kill:
            self._cancel("task killed")

    # ---- internals ---------------------------------------------------------------------------
    def _submit(self, context: Context) -> dict[str, Any]:
        tags = {**(airflow_query_tags(context) if self.include_airflow_query_tags else {}), **self.query_tags}
        extra: dict[str, Any] = {}
        if any(v is not None for v in tags.values()):
            extra["query_tags"] = [{"key": k, "value": v} for k, v in tags.items() if v is not None]
        statement = self.hook.execute_statement(
            self.statement,
            self.warehouse_id,
            catalog=self.catalog or None,
            schema=self.schema or None,
            parameters=self.parameters,
            wait_timeout="0s",
            **extra,
        )
        self.log.info(
            "SQL statement %s submitted to warehouse %s", statement["statement_id"], self.warehouse_id
        )
        store = context.get("task_state_store")
        if store is not None:
            store.set(STATE_KEY, str(statement["statement_id"]))
        return statement

    def _remembered(self, context: Context) -> str | None:
        store = context.get("task_state_store")
        found = store.get(STATE_KEY) if store is not None else None
        if not found:  # Airflow < 3.3 has no state store; XCom of an earlier try may still be there
            found = context["ti"].xcom_pull(task_ids=self.task_id, key=XCOM_STATEMENT_ID)
            if isinstance(found, list):
                found = found[0] if found else None
        return str(found) if found else None

    def _earlier_try(self, context: Context) -> dict[str, Any] | None:
        """The statement of an earlier try when it is running or succeeded; None to execute anew."""
        if int(getattr(context["ti"], "try_number", 1) or 1) <= 1:
            return None
        statement_id = self._remembered(context)
        if not statement_id:
            return None
        try:
            statement = self.hook.get_statement(statement_id)
        except DatabricksNotFoundError:
            return None
        state = statement["status"]["state"]
        if state in _SUCCESSFUL:
            self.log.info(
                "SQL statement %s of an earlier try already %s: not executing it again", statement_id, state
            )
            return statement
        if state not in STATEMENT_TERMINAL_STATES:
            self.log.info("Re-attaching to SQL statement %s of an earlier try (%s)", statement_id, state)
            return statement
        self.log.info("SQL statement %s of an earlier try ended %s: executing it again", statement_id, state)
        return None

    def _wait(self, statement: dict[str, Any]) -> dict[str, Any]:
        statement_id = str(statement["statement_id"])
        deadline = time.monotonic() + self.timeout
        last = None
        while (state := statement["status"]["state"]) not in STATEMENT_TERMINAL_STATES:
            if state != last:
                self.log.info("SQL statement %s is %s", statement_id, state)
                last = state
            left = deadline - time.monotonic()
            if left <= 0:
                self._cancel(f"still {state} after {self.timeout}s")
                raise DatabricksSqlError(
                    f"{self.task_id}: SQL statement {statement_id} was still {state} after {self.timeout}s:"
                    " canceled",
                    state="CANCELED",
                    error_code="DEADLINE_EXCEEDED",
                    sql_state=None,
                )
            time.sleep(min(self.polling_period_seconds, left))
            statement = self.hook.get_statement(statement_id)
        return statement

    def _finish(self, event: Mapping[str, Any]) -> None:
        statement_id, state = event.get("statement_id"), event.get("state")
        if event.get("status") == "success" or state in _SUCCESSFUL:
            self.log.info("SQL statement %s %s", statement_id, state)
            return
        if event.get("status") == "error":
            raise DbxError(
                f"{self.task_id}: could not follow SQL statement {statement_id}: {event.get('message')}"
            )
        code = f"[{event['error_code']}] " if event.get("error_code") else ""
        raise DatabricksSqlError(
            f"{self.task_id}: SQL statement {statement_id} {state}: {code}{event.get('message') or 'no message'}",
            state=str(state),
            error_code=event.get("error_code"),
            sql_state=event.get("sql_state"),
        )

    def _cancel(self, why: str) -> None:
        if not self.statement_id:
            return
        self.log.warning("%s: canceling SQL statement %s", why, self.statement_id)
        try:
            self.hook.cancel_statement(self.statement_id)
        except DbxError as err:
            self.log.warning("Could not cancel SQL statement %s: %s", self.statement_id, err)
