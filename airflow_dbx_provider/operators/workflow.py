"""``DatabricksWorkflowTaskGroup``: the Airflow tasks of a group become one Databricks job, run once per DAG run.

As the official provider's group of the same name and arguments. On leaving the ``with`` block
the group adds a ``launch`` task before its roots. At run time ``launch``:

1. builds the job from its members (each member's :meth:`_convert_to_databricks_workflow_task`;
   Airflow dependencies inside the group become ``depends_on``, trigger rules ``run_if``), named
   ``<dag_id>.<group_id>``, validates it locally and upserts it by name (``jobs/create`` or
   ``jobs/reset``, as the create-job operator);
2. starts one run with ``jobs/run-now`` carrying an idempotency token derived from the launch task
   instance, so a retried or killed launch re-attaches to the run it started instead of starting a
   second one (a run that was skipped before any task ran, e.g. at ``max_concurrent_runs``, is
   replaced on the next try);
3. returns ``{conn_id, job_id, run_id}`` (the official XCom) and pushes ``run_id``, ``job_id`` and
   ``run_page_url``.

Each member then follows its own task of that run and, on a later try, repairs it in place
(:mod:`~airflow_dbx_provider.operators.workflow_member`). Neither ``launch`` nor a member
cancels the group's run when killed: the run is the DAG run's, and a retry re-attaches to it.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, TaskGroup

from airflow_dbx_provider.exceptions import DatabricksConfigError, DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.api import EP
from airflow_dbx_provider.operators.idempotency import (
    ExpectedRun,
    base_token,
    generation_token,
    started_before,
    token_key,
    verify_run,
)
from airflow_dbx_provider.operators.job_spec import validate_job_spec
from airflow_dbx_provider.operators.official_args import OfficialRetryArgsMixin
from airflow_dbx_provider.runs.links import XCOM_JOB_ID, XCOM_RUN_ID, DatabricksRunPageLink, push_run_page_url
from airflow_dbx_provider.runs.state import RunState

if TYPE_CHECKING:
    from types import TracebackType

    from airflow.sdk import Context

LAUNCH_TASK_ID = "launch"


@dataclass
class WorkflowRunMetadata:
    """The official provider's record of the group's run, kept for imports; ``launch`` pushes the
    same fields as a plain dict (the official XCom shape)."""

    conn_id: str
    job_id: int
    run_id: int


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, mappings merged key by key, anything else replaced (lists too)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _flatten(node: Any) -> list[Any]:
    """The operators of a task group, nested groups included, in definition order."""
    if isinstance(node, TaskGroup):
        return [op for child in node.children.values() for op in _flatten(child)]
    return [node]


class _CreateDatabricksWorkflowOperator(OfficialRetryArgsMixin, BaseOperator):
    """The group's ``launch`` task: upsert the job of the group's members and start its run.

    Arguments as the group's (see :class:`DatabricksWorkflowTaskGroup`); ``tasks_to_convert`` maps
    task ids to the member operators (filled by the group).
    """

    template_fields: Sequence[str] = (
        "databricks_conn_id",
        "access_control_list",
        "existing_clusters",
        "extra_job_params",
        "jar_params",
        "job_clusters",
        "max_concurrent_runs",
        "notebook_params",
        "python_params",
        "spark_submit_params",
    )
    caller = "_CreateDatabricksWorkflowOperator"
    operator_extra_links = (DatabricksRunPageLink(),)
    ui_color = "#1CB1C2"

    def __init__(
        self,
        task_id: str,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        access_control_list: list[dict[str, Any]] | None = None,
        existing_clusters: list[str] | None = None,
        extra_job_params: dict[str, Any] | None = None,
        jar_params: list[str] | None = None,
        job_clusters: list[dict[str, Any]] | None = None,
        max_concurrent_runs: int = 1,
        notebook_params: dict[str, Any] | None = None,
        python_params: list[Any] | None = None,
        spark_submit_params: list[Any] | None = None,
        tasks_to_convert: dict[str, BaseOperator] | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        self._use_connection(databricks_conn_id, hook_params)
        self._use_official_retry_args(None, None, None)
        self.access_control_list = access_control_list
        self.existing_clusters = existing_clusters or []
        self.extra_job_params = extra_job_params or {}
        self.jar_params = jar_params or []
        self.job_clusters = job_clusters or []
        self.max_concurrent_runs = max_concurrent_runs
        self.notebook_params = notebook_params or {}
        self.python_params = python_params or []
        self.spark_submit_params = spark_submit_params or []
        self.tasks_to_convert: dict[str, BaseOperator] = dict(tasks_to_convert or {})
        self.relevant_upstreams: list[str] = []

    def add_task(self, task_id: str, task: BaseOperator) -> None:
        """Add a member (the group does it for each of its operators)."""
        self.tasks_to_convert[task_id] = task
        if task_id not in self.relevant_upstreams:
            self.relevant_upstreams.append(task_id)

    @property
    def job_name(self) -> str:
        if self.task_group is None:
            raise DatabricksConfigError("the launch task must be in a DatabricksWorkflowTaskGroup")
        return f"{self.dag_id}.{self.task_group.group_id}"

    def create_workflow_json(self, context: Context | None = None) -> dict[str, Any]:
        """The job's settings: the members as tasks, the group's clusters and limits, then
        ``extra_job_params`` merged over them (nested mappings key by key)."""
        tasks = [
            task._convert_to_databricks_workflow_task(  # type: ignore[attr-defined]
                relevant_upstreams=self.relevant_upstreams, task_dict=self.tasks_to_convert, context=context
            )
            for task in self.tasks_to_convert.values()
        ]
        spec: dict[str, Any] = {
            "name": self.job_name,
            "email_notifications": {"no_alert_for_skipped_runs": False},
            "timeout_seconds": 0,
            "tasks": tasks,
            "format": "MULTI_TASK",
            "job_clusters": self.job_clusters,
            "max_concurrent_runs": int(self.max_concurrent_runs),
        }
        if self.access_control_list is not None:
            spec["access_control_list"] = self.access_control_list
        return deep_merge(spec, self.extra_job_params or {})

    def _upsert_job(self, spec: dict[str, Any]) -> int:
        settings = dict(spec)
        acl = settings.pop("access_control_list", None)
        name = str(settings["name"])
        job_id = self.hook.find_job_id_by_name(name)
        if job_id is None:
            job_id = self.hook.create_job(settings)
            self.log.info("Created workflow job %r: job_id %s", name, job_id)
        else:
            self.hook.reset_job(job_id, settings)
            self.log.info("Workflow job %r exists (job_id %s): reset its settings", name, job_id)
        if acl:  # as the official: an empty list keeps the job's current permissions
            self.hook.set_job_permissions(job_id, acl)
        return int(job_id)

    def _run_params(self) -> dict[str, Any]:
        params = {
            "notebook_params": self.notebook_params,
            "jar_params": self.jar_params,
            "python_params": self.python_params,
            "spark_submit_params": self.spark_submit_params,
        }
        return {name: value for name, value in params.items() if value}

    def _start_or_attach(self, context: Context, job_id: int) -> tuple[int, dict[str, Any]]:
        """run-now with the task instance's token; a later try walks past runs skipped before starting."""
        ti = context["ti"]
        key, _source = token_key(self.hook.settings.secrets)
        base = base_token(ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", -1), key=key)
        try_number = int(getattr(ti, "try_number", 1) or 1)
        generation = 0
        while True:
            token = generation_token(base, generation)
            requested_ms = int(time.time() * 1000)
            run_id = int(self.hook.run_now(job_id, idempotency_token=token, **self._run_params())["run_id"])
            run = self.hook.get_run(run_id)
            verify_run(  # a run returned for our token must be one this task would have started
                run,
                ExpectedRun(job_id=job_id),
                pre_existing=try_number > 1 or started_before(run, requested_ms),
                whoami=lambda: self.hook.call(EP.SCIM_ME).get("userName"),
            )
            state = RunState.of_run(run)
            if state.life_cycle_state != "SKIPPED":
                return run_id, run
            if generation >= try_number - 1:
                raise DbxError(
                    f"Databricks run {run_id} of workflow job {job_id} {state.describe()}"
                    " (raise max_concurrent_runs or enable the job's queue)"
                )
            generation += 1

    def execute(self, context: Context) -> dict[str, Any]:
        if not getattr(self.task_group, "is_databricks", False):
            raise DatabricksConfigError("the launch task must be in a DatabricksWorkflowTaskGroup")
        spec = self.create_workflow_json(context)
        validate_job_spec(spec, kind="job", what=f"workflow job {self.job_name!r}")
        self.log.debug("Workflow job spec: %s", json.dumps(spec, default=str))
        job_id = self._upsert_job(spec)
        run_id, run = self._start_or_attach(context, job_id)
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RUN_ID, value=run_id)
        ti.xcom_push(key=XCOM_JOB_ID, value=job_id)
        push_run_page_url(context, run.get("run_page_url"))
        self.log.info("Workflow run %s of job %s: %s", run_id, job_id, run.get("run_page_url"))
        return {"conn_id": self.databricks_conn_id, "job_id": job_id, "run_id": run_id}


class DatabricksWorkflowTaskGroup(TaskGroup):
    """A task group whose notebook/task operators run as one Databricks job, once per DAG run.

    Arguments as the official provider's group:

    :param databricks_conn_id: the workspace connection (members use it too).
    :param existing_clusters: accepted as the official (which does not use it either); give a
        member ``existing_cluster_id`` to run it on an existing cluster.
    :param access_control_list: the job's permissions, applied on create and reset (``[]`` keeps them).
    :param extra_job_params: JobSettings merged over the generated ones (nested mappings merged).
    :param jar_params: / :param python_params: / :param spark_submit_params: / :param notebook_params:
        run-now parameters of the run; ``notebook_params`` also go into every notebook operator's
        ``base_parameters`` (winning over the task's own).
    :param job_clusters: the job's ``job_clusters``; members name one with ``job_cluster_key``.
    :param max_concurrent_runs: the job's limit (default 1, as the official).
    :param notebook_packages: libraries added to every notebook operator of the group.
    """

    is_databricks = True

    def __init__(
        self,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        access_control_list: list[dict[str, Any]] | None = None,
        existing_clusters: list[str] | None = None,
        extra_job_params: dict[str, Any] | None = None,
        jar_params: list[str] | None = None,
        job_clusters: list[dict[str, Any]] | None = None,
        max_concurrent_runs: int = 1,
        notebook_packages: list[dict[str, Any]] | None = None,
        notebook_params: dict[str, Any] | None = None,
        python_params: list[Any] | None = None,
        spark_submit_params: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.databricks_conn_id = databricks_conn_id
        self.access_control_list = access_control_list
        self.existing_clusters = existing_clusters or []
        self.extra_job_params = extra_job_params or {}
        self.jar_params = jar_params or []
        self.job_clusters = job_clusters or []
        self.max_concurrent_runs = max_concurrent_runs
        self.notebook_packages = notebook_packages or []
        self.notebook_params = notebook_params or {}
        self.python_params = python_params or []
        self.spark_submit_params = spark_submit_params or []
        super().__init__(**kwargs)

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        """Add ``launch`` before the group's roots and make every operator of the group a member."""
        roots = list(self.get_roots())
        members = _flatten(self)
        launch = _CreateDatabricksWorkflowOperator(
            dag=self.dag,
            task_group=self,
            task_id=LAUNCH_TASK_ID,
            databricks_conn_id=self.databricks_conn_id,
            access_control_list=self.access_control_list,
            existing_clusters=self.existing_clusters,
            extra_job_params=self.extra_job_params,
            jar_params=self.jar_params,
            job_clusters=self.job_clusters,
            max_concurrent_runs=self.max_concurrent_runs,
            notebook_params=self.notebook_params,
            python_params=self.python_params,
            spark_submit_params=self.spark_submit_params,
        )
        try:
            for task in members:
                if not callable(getattr(task, "_convert_to_databricks_workflow_task", None)):
                    raise DatabricksConfigError(
                        f"Task {task.task_id} cannot be part of a Databricks workflow: use"
                        " DatabricksNotebookOperator or DatabricksTaskOperator inside the group"
                    )
                task.workflow_run_metadata = launch.output
                launch.add_task(task.task_id, task)
            for root in roots:
                root.set_upstream(launch)
            # dependencies set on the group before its tasks existed (``x >> group`` before ``with``)
            for upstream_id in self.upstream_task_ids:
                launch.set_upstream(self.dag.get_task(upstream_id))
            for downstream_id in self.downstream_task_ids:
                for leaf in self.get_leaves():
                    leaf.set_downstream(self.dag.get_task(downstream_id))
        finally:
            super().__exit__(_type, _value, _tb)
