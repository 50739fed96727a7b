"""Runs of saved jobs (``jobs/run-now``)."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.operators.idempotency import ExpectedRun
from airflow_dbx_provider.operators.official_args import merge_named
from airflow_dbx_provider.operators.run_lifecycle import DatabricksRunLifecycleOperator
from airflow_dbx_provider.runs.ids import positive_id
from airflow_dbx_provider.runs.state import RunState

if TYPE_CHECKING:
    from airflow.sdk import Context

#: run-now parameter slots that take a key → value map (values are sent as strings).
MAP_PARAMS = ("job_parameters", "notebook_params", "python_named_params", "sql_params")
#: run-now parameter slots that take a list of strings.
LIST_PARAMS = ("python_params", "jar_params", "spark_submit_params", "dbt_commands")
#: Legacy slots Databricks refuses next to ``job_parameters`` (DAG params are not forwarded then).
LEGACY_PARAMS = tuple(p for p in (*MAP_PARAMS, *LIST_PARAMS) if p != "job_parameters")


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else jsonlib.dumps(value, default=str)


class DatabricksRunNowOperator(DatabricksRunLifecycleOperator):
    """Run a saved job (by ``job_id`` or exact ``job_name``), wait for it and explain a failure.

    Arguments as the official provider's operator of the same name: ``json`` (the run-now body)
    with the named arguments over its top-level keys.

    :param job_id: / :param job_name: exactly one (in ``json`` or named); a name must match one job.
    :param job_parameters: job-level parameters (values become strings).
    :param notebook_params: / :param python_params: / :param python_named_params: /
        :param jar_params: / :param spark_submit_params: / :param sql_params: /
        :param dbt_commands: task parameters of the legacy kinds.
    :param forward_dag_params: when no ``job_parameters`` nor legacy slot is given, send the DAG
        run's ``params`` (those not ``None``) as job parameters, as the official operator does.
    :param cancel_previous_runs: cancel the job's active runs before this one starts (on a retry:
        after re-attaching, every active run but ours).
    :param repair_run: when the run fails, repair it once in place (rerun its failed tasks) and
        keep following it, instead of failing.
    :param databricks_repair_reason_new_settings: ``{reason: new_settings}``; when given, repair only
        if the run's state message contains a reason, after ``jobs/update`` with its settings.
    :param repair_on_retry: on a retry after a failed run, repair that run (rerun its failed tasks)
        instead of launching a new one.

    XComs and return value as :class:`DatabricksSubmitRunOperator`.
    """

    template_fields: Sequence[str] = (
        "json",
        "job_id",
        "job_name",
        "job_parameters",
        "dbt_commands",
        "notebook_params",
        "python_params",
        "python_named_params",
        "jar_params",
        "spark_submit_params",
        "sql_params",
        "idempotency_token",
        "performance_target",
        "databricks_conn_id",
    )
    template_fields_renderers = {"json": "json", "job_parameters": "json", "notebook_params": "json"}

    def __init__(
        self,
        *,
        job_id: int | str | None = None,
        job_name: str | None = None,
        job_parameters: dict[str, Any] | None = None,
        json: Any | None = None,
        dbt_commands: list[str] | None = None,
        notebook_params: dict[str, Any] | None = None,
        python_params: list[str] | None = None,
        jar_params: list[str] | None = None,
        spark_submit_params: list[str] | None = None,
        python_named_params: dict[str, Any] | None = None,
        sql_params: dict[str, Any] | None = None,
        performance_target: str | None = None,
        repair_run: bool = False,
        databricks_repair_reason_new_settings: dict[str, Any] | None = None,
        cancel_previous_runs: bool = False,
        forward_dag_params: bool = True,
        repair_on_retry: bool = False,
        openlineage_inject_parent_job_info: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.json = json
        self.job_id = job_id
        self.job_name = job_name
        self.job_parameters = job_parameters
        self.dbt_commands = dbt_commands
        self.notebook_params = notebook_params
        self.python_params = python_params
        self.jar_params = jar_params
        self.spark_submit_params = spark_submit_params
        self.python_named_params = python_named_params
        self.sql_params = sql_params
        self.performance_target = performance_target
        self.repair_run = repair_run
        self.databricks_repair_reason_new_settings = databricks_repair_reason_new_settings or {}
        self.cancel_previous_runs = cancel_previous_runs
        self.forward_dag_params = forward_dag_params
        self.repair_on_retry = repair_on_retry
        # Accepted for the official signature; OpenLineage injection is not offered here (yet).
        self.openlineage_inject_parent_job_info = openlineage_inject_parent_job_info
        if json is None or isinstance(json, Mapping):
            body = dict(json or {})
            _check_job_ref(job_id or body.get("job_id"), job_name or body.get("job_name"))
        self._resolved_job_id: int | None = None
        self._params: dict[str, Any] = {}
        self._launched = False

    # ---- the request -------------------------------------------------------------------------
    def _payload(self, context: Context) -> dict[str, Any]:
        """``json`` with the named arguments over it, parameters as strings, DAG params forwarded."""
        named = {name: getattr(self, name) for name in ("job_id", "job_name", *MAP_PARAMS, *LIST_PARAMS)}
        named["performance_target"] = self.performance_target
        named["idempotency_token"] = self.idempotency_token
        payload = merge_named(self.json, named)
        for name in MAP_PARAMS:
            if payload.get(name) is not None:
                payload[name] = {str(k): _param_text(v) for k, v in dict(payload[name]).items()}
        for name in LIST_PARAMS:
            if payload.get(name) is not None:
                payload[name] = [str(p) for p in payload[name]]
        if (
            self.forward_dag_params
            and not payload.get("job_parameters")
            and not any(name in payload for name in LEGACY_PARAMS)
        ):
            forwarded = {k: v for k, v in dict(context.get("params") or {}).items() if v is not None}
            if forwarded:
                payload["job_parameters"] = {k: _param_text(v) for k, v in forwarded.items()}
        return payload

    def prepare(self, context: Context) -> None:
        payload = self._payload(context)
        job_id, job_name = payload.pop("job_id", None), payload.pop("job_name", None)
        _check_job_ref(job_id, job_name)
        token = payload.pop("idempotency_token", None)
        if token and not self.idempotency_token:
            self.idempotency_token = token
        if job_id not in (None, ""):
            self._resolved_job_id = positive_id(job_id, "job_id")
        else:
            found = self.hook.find_job_id_by_name(str(job_name))  # raises when the name is ambiguous
            if found is None:
                raise DatabricksConfigError(f"job_name {job_name!r}: no job of that name exists")
            self._resolved_job_id = found
        self._params = payload

    def expected_run(self) -> ExpectedRun:
        return ExpectedRun(job_id=self._resolved_job_id)

    def launch(self, context: Context, token: str) -> int:
        assert self._resolved_job_id is not None
        job_id = self._resolved_job_id
        first_try = int(getattr(context["ti"], "try_number", 1) or 1) <= 1
        cancel_first = self.cancel_previous_runs and not self._launched
        if cancel_first and first_try:
            self.log.info("cancel_previous_runs: canceling the active runs of job %s", job_id)
            self.hook.cancel_all_runs(job_id)
        answer = self.hook.run_now(job_id, idempotency_token=token, **self._params)
        run_id = int(answer["run_id"])
        if cancel_first and not first_try:
            self._cancel_other_runs(job_id, run_id)
        self._launched = True
        return run_id

    def _cancel_other_runs(self, job_id: int, own_run_id: int) -> None:
        """A retry re-attached to (or relaunched) its own run: cancel the job's other active runs."""
        for run in list(self.hook.list_runs(job_id=job_id, active_only=True)):
            if int(run["run_id"]) != own_run_id:
                self.log.info("cancel_previous_runs: canceling run %s of job %s", run["run_id"], job_id)
                self.hook.cancel_run(int(run["run_id"]))

    # ---- repairs -----------------------------------------------------------------------------
    def repair(self, run: Mapping[str, Any]) -> bool:
        if not self.repair_on_retry:
            return False
        run_id = int(run["run_id"])
        history = self.hook.get_run(run_id, include_history=True).get("repair_history") or []
        latest = history[-1]["id"] if len(history) > 1 else None
        repair_id = self.hook.repair_run(run_id, rerun_all_failed_tasks=True, latest_repair_id=latest)
        self.log.info(
            "Repairing run %s of an earlier try (repair %s): rerunning its failed tasks", run_id, repair_id
        )
        return True

    def repair_failed_run(self, summary: Mapping[str, Any]) -> bool:
        """``repair_run``: repair the failed run in place once per try, as the official operator does."""
        if not self.repair_run:
            return False
        state = RunState.from_dict(summary["run_state"])
        reasons = self.databricks_repair_reason_new_settings
        reason = next((r for r in reasons if r in (state.state_message or "")), None)
        if reasons and reason is None:
            self.log.info("repair_run: %r matches no repair reason; not repairing", state.state_message)
            return False
        run_id = int(summary["run_id"])
        run = self.hook.get_run(run_id, include_history=True)
        history = run.get("repair_history") or []
        repairs = sum(1 for item in history if item.get("type") == "REPAIR")
        context_try = int(getattr(self, "_try_number", 1))
        if repairs >= context_try:
            return False  # this try already repaired it once
        job_id = run.get("job_id") or summary.get("job_id")
        if reason is not None and job_id is not None:
            self.hook.update_job(int(job_id), new_settings=dict(reasons[reason]))
            self.log.info("repair_run: updated job %s with the settings for %r", job_id, reason)
        latest = history[-1]["id"] if len(history) > 1 else None
        job_parameters = self._params.get("job_parameters") if self._params else None
        repair_id = self.hook.repair_run(
            run_id, rerun_all_failed_tasks=True, latest_repair_id=latest, job_parameters=job_parameters
        )
        self.log.warning(
            "Run %s %s; repair_run is set: repairing it (repair %s), rerunning its failed tasks",
            run_id,
            state.describe(),
            repair_id,
        )
        return True

    def execute(self, context: Context) -> Any:
        self._try_number = int(getattr(context["ti"], "try_number", 1) or 1)
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        self._try_number = int(getattr(context["ti"], "try_number", 1) or 1)
        if self.repair_run and not self._params:
            payload = self._payload(context)
            self._params = {k: v for k, v in payload.items() if k == "job_parameters"}
        return super().execute_complete(context, event)


def _check_job_ref(job_id: Any, job_name: Any) -> None:
    has_id = job_id not in (None, "")
    has_name = job_name not in (None, "")
    if has_id == has_name:
        raise DatabricksConfigError(
            "give exactly one of job_id and job_name"
            + (f" (got job_id={job_id!r} and job_name={job_name!r})" if has_id else "")
        )
