"""Facts of the Databricks job schema that both sides of this package check.

The operators validate job JSON before any API call and the emulator rejects what Databricks
rejects; the property test in tests/bad_input requires them to agree, so they share these
tables. Plain data, no Airflow import: the emulator uses it too.
"""

from __future__ import annotations

#: The task types a JobSettings/SubmitTask may carry (exactly one per task).
TASK_KINDS = (
    "notebook_task",
    "spark_jar_task",
    "spark_python_task",
    "spark_submit_task",
    "python_wheel_task",
    "pipeline_task",
    "sql_task",
    "dbt_task",
    "run_job_task",
    "condition_task",
    "for_each_task",
    "clean_rooms_notebook_task",
    "dashboard_task",
    "power_bi_task",
    "gen_ai_compute_task",
)

#: The ways a task names its compute (at most one per task).
COMPUTE_FIELDS = ("existing_cluster_id", "new_cluster", "job_cluster_key", "environment_key")
