"""Prepare a workspace before a job runs: an input file in DBFS and an API key in Secrets.

Both set-up tasks are idempotent (overwrite the file, create the scope only if missing, put the
secret again), so the DAG can run on every deploy. A notebook run then proves the job side can
read both: the file through `dbutils.fs` / the `/dbfs` mount, the key through `dbutils.secrets`.

Never pass secrets as job parameters: they show up in the run page and in Airflow's XCom.
"""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Variable, task

from airflow_dbx_provider.exceptions import DatabricksResourceConflictError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.operators import DatabricksSubmitRunOperator

CONN_ID = "databricks_default"
HERE = Path(__file__).resolve().parent
INPUT_FILE = HERE / "data" / "customers.csv"
DBFS_INPUT = "/examples/input/customers.csv"  # the DBFS API takes absolute paths; notebooks say dbfs:/...
NOTEBOOK_PATH = "/Shared/dbx_examples/read_input"
SECRET_SCOPE = "dbx_examples"
SECRET_KEY = "sample_source_api_key"

with DAG(
    dag_id="setup_dbfs_and_secrets",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["databricks", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def upload_input() -> str:
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        # dbfs_upload streams in chunks (create/add-block/close), so large files are fine too.
        hook.dbfs_upload(DBFS_INPUT, INPUT_FILE.read_bytes(), overwrite=True)
        return f"dbfs:{DBFS_INPUT}"

    @task
    def store_api_key() -> str:
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        if SECRET_SCOPE not in {scope["name"] for scope in hook.list_secret_scopes()}:
            try:
                hook.create_secret_scope(SECRET_SCOPE)
            except DatabricksResourceConflictError:
                pass  # another run created it between our list and create
        default = os.environ.get("ORDERS_API_KEY", "dbx-sample-source-demo-key")
        hook.put_secret(SECRET_SCOPE, SECRET_KEY, string_value=Variable.get(SECRET_KEY, default=default))
        return f"{SECRET_SCOPE}/{SECRET_KEY}"  # the name, never the value

    @task
    def import_notebook() -> str:
        hook = DatabricksHook(databricks_conn_id=CONN_ID)
        hook.workspace_mkdirs(str(Path(NOTEBOOK_PATH).parent))
        source = (HERE / "notebooks" / "read_input.py").read_bytes()
        hook.workspace_import(NOTEBOOK_PATH, source, format="SOURCE", language="PYTHON", overwrite=True)
        return NOTEBOOK_PATH

    use_them = DatabricksSubmitRunOperator(
        task_id="read_input_in_a_notebook",
        databricks_conn_id=CONN_ID,
        run_name="read the prepared input",
        # How often to check the run (default 30 s); short runs deserve a shorter period.
        polling_period_seconds=3,
        tasks=[
            {
                "task_key": "read_input",
                "new_cluster": {
                    "spark_version": "15.4.x-scala2.12",
                    "node_type_id": "i3.xlarge",
                    "num_workers": 1,
                },
                "notebook_task": {
                    "notebook_path": NOTEBOOK_PATH,
                    "base_parameters": {"input_path": f"dbfs:{DBFS_INPUT}", "secret_scope": SECRET_SCOPE},
                },
            }
        ],
    )

    [upload_input(), store_api_key(), import_notebook()] >> use_them
