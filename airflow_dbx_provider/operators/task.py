"""One Databricks task as one Airflow task: ``DatabricksNotebookOperator`` and ``DatabricksTaskOperator``.

The official provider's operators of the same names. Standalone, each submits a one-task run
(``runs/submit``, carrying our idempotency token, so a retry re-attaches), waits for it (sync or
deferred, through the shared poller) and explains a failure like every run operator here. Inside a
``DatabricksWorkflowTaskGroup`` each is one task of the group's job and follows that task in the
group's run (:mod:`~airflow_dbx_provider.operators.workflow_member`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.job_schema import COMPUTE_FIELDS
from airflow_dbx_provider.operators.job_spec import validate_job_spec
from airflow_dbx_provider.operators.run_lifecycle import DatabricksRunLifecycleOperator
from airflow_dbx_provider.operators.workflow_member import WorkflowMemberMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

MAX_TASK_KEY_LENGTH = 100


class DatabricksTaskBaseOperator(WorkflowMemberMixin, DatabricksRunLifecycleOperator):
    """Base of the one-task operators: compute, task key, Databricks-native retries, submit and wait.

    :param databricks_task_key: the Databricks ``task_key`` (default: md5 of ``dag_id__task_id``,
        as the official provider; also when the given one is over 100 characters).
    :param existing_cluster_id: / :param new_cluster: the compute (one of them, or in ``task_config``).
    :param job_cluster_key: only inside a ``DatabricksWorkflowTaskGroup`` (a key of its
        ``job_clusters``): a standalone task with it is refused before any API call.
    :param max_retries: / :param min_retry_interval_millis: / :param retry_on_timeout: the task's
        Databricks-native retries.
    :param workflow_run_metadata: inside a workflow group, the launch task's ``{conn_id, job_id,
        run_id}`` (set by the group); members follow their task of that run and never cancel it.
    :param caller: accepted for the official signature (a label for its logs).
    """

    def __init__(
        self,
        *,
        caller: str = "DatabricksTaskBaseOperator",
        databricks_task_key: str = "",
        existing_cluster_id: str = "",
        job_cluster_key: str = "",
        new_cluster: dict[str, Any] | None = None,
        polling_period_seconds: float = 5,
        workflow_run_metadata: dict[str, Any] | None = None,
        max_retries: int | str | None = None,
        min_retry_interval_millis: int | str | None = None,
        retry_on_timeout: bool | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(polling_period_seconds=polling_period_seconds, **kwargs)
        self.caller = caller
        self._databricks_task_key = databricks_task_key
        self.existing_cluster_id = existing_cluster_id
        self.job_cluster_key = job_cluster_key
        self.new_cluster = new_cluster or {}
        self.workflow_run_metadata = workflow_run_metadata
        self.max_retries = max_retries
        self.min_retry_interval_millis = min_retry_interval_millis
        self.retry_on_timeout = retry_on_timeout
        self._spec: dict[str, Any] = {}
        if self._databricks_workflow_task_group is not None:
            self.cancel_on_kill = False  # the run is the group's: killing one member leaves it alone

    @property
    def databricks_task_key(self) -> str:
        key = self._databricks_task_key
        if key and len(key) <= MAX_TASK_KEY_LENGTH:
            return key
        return hashlib.md5(f"{self.dag_id}__{self.task_id}".encode(), usedforsecurity=False).hexdigest()

    def task_base_json(self) -> dict[str, Any]:
        """The task's kind and settings (without task_key and compute)."""
        raise NotImplementedError

    def _retry_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        if self.max_retries is not None:
            settings["max_retries"] = int(self.max_retries)
        if self.min_retry_interval_millis is not None:
            settings["min_retry_interval_millis"] = int(self.min_retry_interval_millis)
        if self.retry_on_timeout is not None:
            value = self.retry_on_timeout
            if isinstance(value, str):
                value = value.strip().lower() in ("true", "1", "yes")
            settings["retry_on_timeout"] = bool(value)
        return settings

    def _compute(self, task: dict[str, Any]) -> dict[str, Any]:
        if self.new_cluster and self.existing_cluster_id:
            raise DatabricksConfigError("give one of new_cluster and existing_cluster_id, not both")
        if self.new_cluster:
            return {"new_cluster": self.new_cluster}
        if self.existing_cluster_id:
            return {"existing_cluster_id": self.existing_cluster_id}
        if self.job_cluster_key:
            raise DatabricksConfigError(
                f"job_cluster_key {self.job_cluster_key!r} needs a Databricks workflow (the job's"
                " job_clusters); a standalone task needs new_cluster or existing_cluster_id"
            )
        if any(field in task for field in COMPUTE_FIELDS):
            return {}
        raise DatabricksConfigError("give new_cluster or existing_cluster_id (the compute the task runs on)")

    def build_spec(self) -> dict[str, Any]:
        """The ``runs/submit`` body: one task, keyed ``databricks_task_key``."""
        task = dict(self.task_base_json())
        task.update(self._compute(task))
        task.update(self._retry_settings())
        task["task_key"] = self.databricks_task_key
        return {"run_name": self.databricks_task_key, "tasks": [task]}

    def execute(self, context: Context) -> Any:
        if self._databricks_workflow_task_group is not None:
            return self.execute_in_workflow(context)
        return super().execute(context)

    def prepare(self, context: Context) -> None:
        spec = self.build_spec()
        validate_job_spec(spec, kind="submit")
        self._spec = spec

    def launch(self, context: Context, token: str) -> int:
        return self.hook.submit_run({**self._spec, "idempotency_token": token})


class DatabricksNotebookOperator(DatabricksTaskBaseOperator):
    """Run one notebook as a one-task Databricks run and wait for it.

    :param notebook_path: the notebook (absolute workspace path, or relative to the repo for GIT).
    :param source: ``WORKSPACE`` or ``GIT``; empty lets Databricks choose (GIT when ``git_source`` is set).
    :param notebook_params: the notebook's ``base_parameters`` (widgets).
    :param notebook_packages: libraries to install, e.g. ``[{"pypi": {"package": "simplejson"}}]``.
    :param git_source: the repository a ``GIT`` notebook comes from (ours; the official operator
        takes it only from a workflow group).

    The task's ``timeout_seconds`` is the Airflow ``execution_timeout`` (0 = none), as the official
    operator does. Other arguments: :class:`DatabricksTaskBaseOperator` and the run operators'.
    """

    template_fields: Sequence[str] = (
        "notebook_params",
        "workflow_run_metadata",
        "max_retries",
        "min_retry_interval_millis",
        "retry_on_timeout",
        "idempotency_token",
        "databricks_conn_id",
    )
    template_fields_renderers = {"notebook_params": "json"}

    def __init__(
        self,
        *,
        notebook_path: str,
        source: str = "",
        notebook_params: dict[str, Any] | None = None,
        notebook_packages: list[dict[str, Any]] | None = None,
        git_source: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("caller", "DatabricksNotebookOperator")
        super().__init__(**kwargs)
        self.notebook_path = notebook_path
        self.source = source
        self.notebook_params = notebook_params or {}
        self.notebook_packages = notebook_packages or []
        self.git_source = git_source

    def _timeout_seconds(self) -> int:
        if self.execution_timeout is None:
            return 0
        seconds = int(self.execution_timeout.total_seconds())
        if seconds == 0:
            raise DatabricksConfigError("execution_timeout of 0 s: use None for no timeout")
        return seconds

    def task_base_json(self) -> dict[str, Any]:
        notebook: dict[str, Any] = {
            "notebook_path": self.notebook_path,
            "base_parameters": self.notebook_params,
        }
        if self.source:
            notebook["source"] = str(self.source).upper()
        task: dict[str, Any] = {"notebook_task": notebook, "timeout_seconds": self._timeout_seconds()}
        if self.notebook_packages:
            task["libraries"] = list(self.notebook_packages)
        return task

    def workflow_task_base_json(self, group: Any, context: Context | None) -> dict[str, Any]:
        """Inside a group, as the official: the group's ``notebook_params`` win over the task's, and
        the group's ``notebook_packages`` are added to the task's."""
        task = super().workflow_task_base_json(group, context)
        notebook = task["notebook_task"]
        group_params = self._rendered(getattr(group, "notebook_params", None) or {}, context)
        notebook["base_parameters"] = {**(notebook.get("base_parameters") or {}), **group_params}
        libraries = list(task.get("libraries") or [])
        for package in getattr(group, "notebook_packages", None) or []:
            if package not in libraries:
                libraries.append(package)
        if libraries:
            task["libraries"] = libraries
        return task

    def build_spec(self) -> dict[str, Any]:
        spec = super().build_spec()
        if self.git_source:
            spec["git_source"] = self.git_source
        return spec


class DatabricksTaskOperator(DatabricksTaskBaseOperator):
    """Run one Databricks task of any kind (``task_config``: a Task object) and wait for it.

    :param task_config: the task, e.g. ``{"spark_python_task": {...}, "libraries": [...]}``;
        its ``task_key`` is replaced by ``databricks_task_key``. Its own compute field is used when
        neither ``new_cluster`` nor ``existing_cluster_id`` is given.
    """

    template_fields: Sequence[str] = (
        "databricks_conn_id",
        "task_config",
        "workflow_run_metadata",
        "max_retries",
        "min_retry_interval_millis",
        "retry_on_timeout",
        "idempotency_token",
    )
    template_fields_renderers = {"task_config": "json"}

    def __init__(self, *, task_config: dict[str, Any], **kwargs: Any) -> None:
        kwargs.setdefault("caller", "DatabricksTaskOperator")
        super().__init__(**kwargs)
        self.task_config = task_config

    def task_base_json(self) -> dict[str, Any]:
        if not isinstance(self.task_config, dict):
            raise DatabricksConfigError(
                f"task_config must be an object, got {type(self.task_config).__name__}"
            )
        return {k: v for k, v in self.task_config.items() if k != "task_key"}
