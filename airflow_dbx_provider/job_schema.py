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

#: Most tasks one job (or one runs/submit) may hold ("a job can contain up to 1000 tasks").
MAX_TASKS_PER_JOB = 1000
#: Longest job or run name, in UTF-8 bytes (JobSettings.name: "at most 4096 bytes").
MAX_NAME_BYTES = 4096
#: Longest idempotency_token of run-now / runs/submit, in characters.
MAX_IDEMPOTENCY_TOKEN_LENGTH = 64
#: Largest num_workers (and autoscale.max_workers) of a cluster spec. Databricks documents no exact
#: ceiling; workspaces cap clusters far below this, so anything larger is refused locally.
MAX_NUM_WORKERS = 100_000
#: timeout_seconds is an int32 number of seconds; 0 means no timeout.
MAX_TIMEOUT_SECONDS = 2**31 - 1
