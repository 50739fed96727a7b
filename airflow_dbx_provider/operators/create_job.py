"""Create a saved job, or reset it in place when a job of that name exists (an idempotent upsert)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_dbx_provider.exceptions import DatabricksJobSpecError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.operators.job_spec import validate_job_spec
from airflow_dbx_provider.operators.official_args import OfficialRetryArgsMixin, merge_named
from airflow_dbx_provider.runs.defaults import DEFAULT_POLLING_PERIOD_SECONDS
from airflow_dbx_provider.runs.links import XCOM_JOB_ID

if TYPE_CHECKING:
    from airflow.sdk import Context

#: JobSettings fields the official operator takes as named arguments (merged over ``json``).
JOB_SETTINGS_FIELDS = (
    "name",
    "description",
    "tags",
    "tasks",
    "job_clusters",
    "environments",
    "email_notifications",
    "webhook_notifications",
    "notification_settings",
    "timeout_seconds",
    "schedule",
    "trigger",
    "max_concurrent_runs",
    "git_source",
    "performance_target",
)


class DatabricksCreateJobOperator(OfficialRetryArgsMixin, BaseOperator):
    """Upsert a job by name from its JSON; returns (and pushes as ``job_id``) the job id.

    Also importable as ``DatabricksCreateJobsOperator``, the official provider's name, with its
    arguments: every JobSettings field below that is not ``None`` overrides the key of ``json``.

    :param json: JobSettings (a mapping, a JSON text or a dict literal); ``name`` is required once
        merged: it is the upsert key.
    :param name: / :param description: / :param tags: / :param tasks: / :param job_clusters: /
        :param environments: / :param email_notifications: / :param webhook_notifications: /
        :param notification_settings: / :param timeout_seconds: / :param schedule: / :param trigger: /
        :param max_concurrent_runs: / :param git_source: / :param performance_target: JobSettings fields.
    :param access_control_list: when given, replaces the job's permissions, on create and on reset
        (``access_control_list`` inside ``json`` is honoured the same way).
    :param databricks_retry_limit: / :param databricks_retry_delay: / :param databricks_retry_args:
        mapped onto the retry deadline (see :mod:`~airflow_dbx_provider.operators.official_args`).
    :param polling_period_seconds: accepted for the official signature (nothing is polled).

    Two tasks upserting the same new name at the same moment can both create it; the next
    upsert then fails with an "ambiguous name" error rather than picking one.
    """

    template_fields: Sequence[str] = (
        "json",
        *JOB_SETTINGS_FIELDS,
        "access_control_list",
        "databricks_conn_id",
    )
    template_fields_renderers = {"json": "json"}
    ui_color = "#1CB1C2"

    def __init__(
        self,
        *,
        json: Any | None = None,
        name: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        tasks: list[dict[str, Any]] | None = None,
        job_clusters: list[dict[str, Any]] | None = None,
        environments: list[dict[str, Any]] | None = None,
        email_notifications: dict[str, Any] | None = None,
        webhook_notifications: dict[str, Any] | None = None,
        notification_settings: dict[str, Any] | None = None,
        timeout_seconds: int | None = None,
        schedule: dict[str, Any] | None = None,
        trigger: dict[str, Any] | None = None,
        max_concurrent_runs: int | None = None,
        git_source: dict[str, Any] | None = None,
        access_control_list: list[dict[str, Any]] | None = None,
        performance_target: str | None = None,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        polling_period_seconds: float = DEFAULT_POLLING_PERIOD_SECONDS,
        databricks_retry_limit: int | None = None,
        databricks_retry_delay: float | None = None,
        databricks_retry_args: dict[Any, Any] | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.json = json
        self.name = name
        self.description = description
        self.tags = tags
        self.tasks = tasks
        self.job_clusters = job_clusters
        self.environments = environments
        self.email_notifications = email_notifications
        self.webhook_notifications = webhook_notifications
        self.notification_settings = notification_settings
        self.timeout_seconds = timeout_seconds
        self.schedule = schedule
        self.trigger = trigger
        self.max_concurrent_runs = max_concurrent_runs
        self.git_source = git_source
        self.performance_target = performance_target
        self.polling_period_seconds = polling_period_seconds
        self._use_connection(databricks_conn_id, hook_params)
        self._use_official_retry_args(databricks_retry_limit, databricks_retry_delay, databricks_retry_args)
        self.access_control_list = access_control_list

    def merged_json(self) -> dict[str, Any]:
        """``json`` with the named JobSettings fields over it (the official precedence)."""
        return merge_named(self.json, {field: getattr(self, field) for field in JOB_SETTINGS_FIELDS})

    def execute(self, context: Context) -> int:
        spec = self.merged_json()
        validate_job_spec(spec, kind="job")
        settings = dict(spec)
        acl = settings.pop("access_control_list", None)
        if self.access_control_list is not None:
            acl = self.access_control_list
        name = settings.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DatabricksJobSpecError("name is missing (the job name is the upsert key)", field="name")
        job_id = self.hook.find_job_id_by_name(name)
        if job_id is None:
            job_id = self.hook.create_job(settings)
            self.log.info("Created job %r: job_id %s", name, job_id)
        else:
            self.hook.reset_job(job_id, settings)
            self.log.info("Job %r exists (job_id %s): reset its settings", name, job_id)
        if acl is not None:
            self.hook.set_job_permissions(job_id, acl)
            self.log.info("Set %d permission entries on job %s", len(acl), job_id)
        context["ti"].xcom_push(key=XCOM_JOB_ID, value=job_id)
        return job_id


#: The official provider's name for the same operator (an alias, not a copy).
DatabricksCreateJobsOperator = DatabricksCreateJobOperator
