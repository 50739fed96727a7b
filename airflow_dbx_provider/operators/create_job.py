"""Create a saved job, or reset it in place when a job of that name exists (an idempotent upsert)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_dbx_provider.exceptions import DatabricksJobSpecError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.operators.job_spec import validate_job_spec
from airflow_dbx_provider.runs.hook_mixin import DatabricksHookMixin
from airflow_dbx_provider.runs.links import XCOM_JOB_ID

if TYPE_CHECKING:
    from airflow.sdk import Context


class DatabricksCreateJobOperator(DatabricksHookMixin, BaseOperator):
    """Upsert a job by name from its JSON; returns (and pushes as ``job_id``) the job id.

    :param json: JobSettings (``name`` is required: it is the upsert key).
    :param access_control_list: when given, replaces the job's permissions
        (``access_control_list`` inside ``json`` is honoured the same way).

    Two tasks upserting the same new name at the same moment can both create it; the next
    upsert then fails with an "ambiguous name" error rather than picking one.
    """

    template_fields: Sequence[str] = ("json", "access_control_list", "databricks_conn_id")
    template_fields_renderers = {"json": "json"}
    ui_color = "#1CB1C2"

    def __init__(
        self,
        *,
        json: dict[str, Any],
        databricks_conn_id: str = DEFAULT_CONN_ID,
        access_control_list: list[dict[str, Any]] | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.json = json
        self._use_connection(databricks_conn_id, hook_params)
        self.access_control_list = access_control_list

    def execute(self, context: Context) -> int:
        validate_job_spec(self.json, kind="job")
        settings = dict(self.json)
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
