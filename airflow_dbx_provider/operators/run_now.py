"""Runs of saved jobs (``jobs/run-now``)."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.operators.run_lifecycle import DatabricksRunLifecycleOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else jsonlib.dumps(value, default=str)


class DatabricksRunNowOperator(DatabricksRunLifecycleOperator):
    """Run a saved job (by ``job_id`` or exact ``job_name``), wait for it and explain a failure.

    :param job_parameters: job-level parameters (values become strings).
    :param notebook_params: / :param python_params: task parameters of the legacy kinds.
    :param forward_dag_params: send the DAG run's ``params`` as job parameters (explicit
        ``job_parameters`` win on a clash).
    :param repair_on_retry: on a retry after a failed run, repair that run (rerun its failed tasks)
        instead of launching a new one.

    XComs and return value as :class:`DatabricksSubmitRunOperator`.
    """

    template_fields: Sequence[str] = (
        "job_id",
        "job_name",
        "job_parameters",
        "notebook_params",
        "python_params",
        "idempotency_token",
        "databricks_conn_id",
    )
    template_fields_renderers = {"job_parameters": "json", "notebook_params": "json"}

    def __init__(
        self,
        *,
        job_id: int | str | None = None,
        job_name: str | None = None,
        job_parameters: dict[str, Any] | None = None,
        notebook_params: dict[str, Any] | None = None,
        python_params: list[str] | None = None,
        forward_dag_params: bool = False,
        repair_on_retry: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_job_ref(job_id, job_name)
        self.job_id = job_id
        self.job_name = job_name
        self.job_parameters = job_parameters
        self.notebook_params = notebook_params
        self.python_params = python_params
        self.forward_dag_params = forward_dag_params
        self.repair_on_retry = repair_on_retry
        self._resolved_job_id: int | None = None
        self._params: dict[str, Any] = {}

    def prepare(self, context: Context) -> None:
        _check_job_ref(self.job_id, self.job_name)
        if self.job_id not in (None, ""):
            try:
                self._resolved_job_id = int(str(self.job_id))
            except ValueError:
                raise DatabricksConfigError(f"job_id must be an integer, got {self.job_id!r}") from None
        job_parameters = dict(self.job_parameters or {})
        if self.forward_dag_params:
            dag_params = context.get("params") or {}
            job_parameters = {**dict(dag_params), **job_parameters}
        self._params = {
            "job_parameters": {k: _param_text(v) for k, v in job_parameters.items()} or None,
            "notebook_params": {k: _param_text(v) for k, v in (self.notebook_params or {}).items()} or None,
            "python_params": [str(p) for p in self.python_params] if self.python_params else None,
        }
        if self._resolved_job_id is None:
            job_id = self.hook.find_job_id_by_name(str(self.job_name))
            if job_id is None:
                raise DatabricksConfigError(f"job_name {self.job_name!r}: no job of that name exists")
            self._resolved_job_id = job_id

    def launch(self, context: Context, token: str) -> int:
        assert self._resolved_job_id is not None
        answer = self.hook.run_now(self._resolved_job_id, idempotency_token=token, **self._params)
        return int(answer["run_id"])

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


def _check_job_ref(job_id: Any, job_name: Any) -> None:
    has_id = job_id not in (None, "")
    has_name = job_name not in (None, "")
    if has_id == has_name:
        raise DatabricksConfigError(
            "give exactly one of job_id and job_name"
            + (f" (got job_id={job_id!r} and job_name={job_name!r})" if has_id else "")
        )
