"""Operators that create jobs, start, watch and cancel Databricks runs, and run SQL on warehouses."""

from airflow_dbx_provider.operators.cancel_run import DatabricksCancelRunOperator
from airflow_dbx_provider.operators.copy_into import DatabricksCopyIntoOperator
from airflow_dbx_provider.operators.create_job import (
    DatabricksCreateJobOperator,
    DatabricksCreateJobsOperator,
)
from airflow_dbx_provider.operators.job_spec import validate_job_spec
from airflow_dbx_provider.operators.run_now import DatabricksRunNowOperator
from airflow_dbx_provider.operators.sql import (
    DatabricksSqlOperator,
    DatabricksStartWarehouseOperator,
    DatabricksStopWarehouseOperator,
)
from airflow_dbx_provider.operators.sql_statements import DatabricksSQLStatementsOperator
from airflow_dbx_provider.operators.submit_run import DatabricksSubmitRunOperator
from airflow_dbx_provider.operators.task import (
    DatabricksNotebookOperator,
    DatabricksTaskBaseOperator,
    DatabricksTaskOperator,
)
from airflow_dbx_provider.operators.workflow import DatabricksWorkflowTaskGroup
from airflow_dbx_provider.operators.workspace import DatabricksImportNotebookOperator
from airflow_dbx_provider.runs.links import DatabricksRunPageLink

__all__ = [
    "DatabricksCancelRunOperator",
    "DatabricksCopyIntoOperator",
    "DatabricksCreateJobOperator",
    "DatabricksCreateJobsOperator",
    "DatabricksImportNotebookOperator",
    "DatabricksNotebookOperator",
    "DatabricksRunNowOperator",
    "DatabricksRunPageLink",
    "DatabricksSQLStatementsOperator",
    "DatabricksSqlOperator",
    "DatabricksStartWarehouseOperator",
    "DatabricksStopWarehouseOperator",
    "DatabricksSubmitRunOperator",
    "DatabricksTaskBaseOperator",
    "DatabricksTaskOperator",
    "DatabricksWorkflowTaskGroup",
    "validate_job_spec",
]
