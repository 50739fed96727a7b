"""One-time runs (``jobs/runs/submit``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.operators.job_spec import validate_job_spec
from airflow_dbx_provider.operators.run_lifecycle import DatabricksRunLifecycleOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class DatabricksSubmitRunOperator(DatabricksRunLifecycleOperator):
    """Submit a one-time run, wait for it and explain a failure in the task log.

    :param json: the ``runs/submit`` body; named arguments below override its keys.
    :param tasks: the run's tasks.
    :param run_name: shown in the Databricks UI (default ``<dag_id>.<task_id>``).
    :param timeout_seconds: Databricks-side timeout of the run (0 = none).

    Pushes XComs ``run_id``, ``run_page_url``, ``job_id``, ``task_outputs``; returns
    ``{run_id, result_state, task_outputs, run_page_url}``.
    """

    template_fields: Sequence[str] = (
        "json",
        "tasks",
        "run_name",
        "timeout_seconds",
        "idempotency_token",
        "databricks_conn_id",
    )
    template_fields_renderers = {"json": "json", "tasks": "json"}

    def __init__(
        self,
        *,
        json: dict[str, Any] | None = None,
        tasks: list[dict[str, Any]] | None = None,
        run_name: str | None = None,
        timeout_seconds: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.json = json
        self.tasks = tasks
        self.run_name = run_name
        self.timeout_seconds = timeout_seconds
        self._spec: dict[str, Any] = {}

    def build_spec(self) -> dict[str, Any]:
        """The rendered request body (without the idempotency token)."""
        spec = dict(self.json or {})
        for key, value in (
            ("tasks", self.tasks),
            ("run_name", self.run_name),
            ("timeout_seconds", self.timeout_seconds),
        ):
            if value is not None:
                spec[key] = value
        spec.setdefault("run_name", f"{self.dag_id}.{self.task_id}")
        return spec

    def prepare(self, context: Context) -> None:
        spec = self.build_spec()
        validate_job_spec(spec, kind="submit")
        token = spec.pop("idempotency_token", None)
        if token and not self.idempotency_token:
            self.idempotency_token = token
        self._spec = spec

    def launch(self, context: Context, token: str) -> int:
        return self.hook.submit_run({**self._spec, "idempotency_token": token})
