"""One-time runs (``jobs/runs/submit``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.operators.idempotency import ExpectedRun
from airflow_dbx_provider.operators.job_spec import validate_job_spec
from airflow_dbx_provider.operators.official_args import merge_named
from airflow_dbx_provider.operators.run_lifecycle import DatabricksRunLifecycleOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


#: The legacy single-task submit form's task types (top level of the body).
LEGACY_TASK_FIELDS = (
    "spark_jar_task",
    "notebook_task",
    "spark_python_task",
    "spark_submit_task",
    "pipeline_task",
    "dbt_task",
)
#: Named arguments merged over ``json``, as the official operator does.
NAMED_FIELDS = (
    "tasks",
    *LEGACY_TASK_FIELDS,
    "new_cluster",
    "existing_cluster_id",
    "libraries",
    "environments",
    "run_name",
    "timeout_seconds",
    "idempotency_token",
    "access_control_list",
    "git_source",
    "performance_target",
)


class DatabricksSubmitRunOperator(DatabricksRunLifecycleOperator):
    """Submit a one-time run, wait for it and explain a failure in the task log.

    Arguments as the official provider's operator of the same name.

    :param json: the ``runs/submit`` body (a mapping, a JSON text or a dict literal); every named
        argument below that is not ``None`` overrides its top-level key.
    :param tasks: the run's tasks.
    :param notebook_task: / :param spark_jar_task: / :param spark_python_task: /
        :param spark_submit_task: / :param pipeline_task: / :param dbt_task: the legacy single-task
        form, with ``new_cluster`` or ``existing_cluster_id`` and ``libraries`` at the top level.
    :param run_name: shown in the Databricks UI (default ``<dag_id>.<task_id>``).
    :param timeout_seconds: Databricks-side timeout of the run (0 = none).
    :param git_source: / :param access_control_list: / :param environments: /
        :param performance_target: sent as given.

    Pushes XComs ``run_id``, ``run_page_url``, ``job_id``, ``task_outputs``; returns
    ``{run_id, result_state, task_outputs, run_page_url}``.
    """

    template_fields: Sequence[str] = (
        "json",
        "tasks",
        *LEGACY_TASK_FIELDS,
        "new_cluster",
        "existing_cluster_id",
        "libraries",
        "environments",
        "access_control_list",
        "git_source",
        "performance_target",
        "run_name",
        "timeout_seconds",
        "idempotency_token",
        "databricks_conn_id",
    )
    template_fields_renderers = {"json": "json", "tasks": "json"}

    def __init__(
        self,
        *,
        json: Any | None = None,
        tasks: list[dict[str, Any]] | None = None,
        spark_jar_task: dict[str, Any] | None = None,
        notebook_task: dict[str, Any] | None = None,
        spark_python_task: dict[str, Any] | None = None,
        spark_submit_task: dict[str, Any] | None = None,
        pipeline_task: dict[str, Any] | None = None,
        dbt_task: dict[str, Any] | None = None,
        new_cluster: dict[str, Any] | None = None,
        existing_cluster_id: str | None = None,
        libraries: list[dict[str, Any]] | None = None,
        environments: list[dict[str, Any]] | None = None,
        run_name: str | None = None,
        timeout_seconds: int | None = None,
        access_control_list: list[dict[str, Any]] | None = None,
        git_source: dict[str, Any] | None = None,
        performance_target: str | None = None,
        openlineage_inject_parent_job_info: bool = False,
        openlineage_inject_transport_info: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.json = json
        self.tasks = tasks
        self.spark_jar_task = spark_jar_task
        self.notebook_task = notebook_task
        self.spark_python_task = spark_python_task
        self.spark_submit_task = spark_submit_task
        self.pipeline_task = pipeline_task
        self.dbt_task = dbt_task
        self.new_cluster = new_cluster
        self.existing_cluster_id = existing_cluster_id
        self.libraries = libraries
        self.environments = environments
        self.run_name = run_name
        self.timeout_seconds = timeout_seconds
        self.access_control_list = access_control_list
        self.git_source = git_source
        self.performance_target = performance_target
        # Accepted for the official signature; OpenLineage injection is not offered here (yet).
        self.openlineage_inject_parent_job_info = openlineage_inject_parent_job_info
        self.openlineage_inject_transport_info = openlineage_inject_transport_info
        self._spec: dict[str, Any] = {}

    def build_spec(self) -> dict[str, Any]:
        """The rendered request body: ``json`` with the named arguments over it."""
        named = {field: getattr(self, field) for field in NAMED_FIELDS}
        spec = merge_named(self.json, named)
        spec.setdefault("run_name", f"{self.dag_id}.{self.task_id}")
        if "dbt_task" in spec and "git_source" not in spec:
            raise DatabricksConfigError(
                "dbt_task needs git_source (Databricks checks dbt projects out of git)"
            )
        pipeline = spec.get("pipeline_task")
        if isinstance(pipeline, dict) and "pipeline_name" in pipeline:
            raise DatabricksConfigError(
                "pipeline_task.pipeline_name is not supported here: give pipeline_task.pipeline_id"
            )
        return spec

    def prepare(self, context: Context) -> None:
        spec = self.build_spec()
        validate_job_spec(spec, kind="submit")
        token = spec.pop("idempotency_token", None)
        if token and not self.idempotency_token:
            self.idempotency_token = token
        self._spec = spec

    def expected_run(self) -> ExpectedRun:
        tasks = self._spec.get("tasks")
        keys = frozenset(str(t.get("task_key")) for t in tasks) if isinstance(tasks, list) else None
        name = self._spec.get("run_name")
        return ExpectedRun(run_name=name if isinstance(name, str) else None, task_keys=keys)

    def launch(self, context: Context, token: str) -> int:
        return self.hook.submit_run({**self._spec, "idempotency_token": token})
