"""The "Databricks run" extra link: the run page of the run a task started or watched."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink
from airflow.sdk.execution_time.xcom import XCom

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

XCOM_RUN_ID = "run_id"
XCOM_RUN_PAGE_URL = "run_page_url"
XCOM_JOB_ID = "job_id"
XCOM_TASK_OUTPUTS = "task_outputs"


class DatabricksRunPageLink(BaseOperatorLink):
    """Reads the ``run_page_url`` XCom of the task instance (empty until a run is known)."""

    name = "Databricks run"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return XCom.get_value(key=XCOM_RUN_PAGE_URL, ti_key=ti_key) or ""


def push_run_page_url(context: Any, url: str | None) -> None:
    """Push the URL, and the link's own XCom right away so the UI shows it while the run is going."""
    if not url:
        return
    ti = context["ti"]
    ti.xcom_push(key=XCOM_RUN_PAGE_URL, value=url)
    ti.xcom_push(key=DatabricksRunPageLink().xcom_key, value=url)
