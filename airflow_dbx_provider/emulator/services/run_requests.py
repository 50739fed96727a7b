"""Typed arguments of the run commands (run-now, submit, repair, runs/list).

Handlers build these from the wire (coercing numbers and booleans, dropping nulls); the runs
service and run queries apply the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_dbx_provider.job_schema import TASK_KINDS

# Per-task-kind parameter overrides accepted by run-now and repair.
OVERRIDE_FIELDS = (
    "notebook_params",
    "python_params",
    "jar_params",
    "python_named_params",
    "spark_submit_params",
    "sql_params",
    "pipeline_params",
    "dbt_commands",
)
# A legacy single-task runs/submit body (Airflow's notebook operator) carries these at the top.
LEGACY_TOP_LEVEL = (
    *TASK_KINDS,
    "new_cluster",
    "existing_cluster_id",
    "libraries",
    "timeout_seconds",
    "max_retries",
)


@dataclass(frozen=True)
class RunNow:
    job_id: int
    idempotency_token: str | None = None
    only: list[str] | None = None  # task keys to run; None runs them all
    job_parameters: dict[str, Any] = field(default_factory=dict)
    queue: dict[str, Any] | None = None  # overrides the job's queue setting
    overriding: dict[str, Any] = field(default_factory=dict)  # OVERRIDE_FIELDS that were given


@dataclass(frozen=True)
class Submit:
    run_name: str
    tasks: list[Any]  # raw task specs; validated by job_settings.normalize_tasks
    job_clusters: list[Any] = field(default_factory=list)
    timeout_seconds: int = 0
    access_control_list: list[dict[str, Any]] | None = None
    idempotency_token: str | None = None
    run_as: Any = None  # {"user_name" | "service_principal_name": ...}; checked by the jobs service


@dataclass(frozen=True)
class Repair:
    run_id: int
    rerun_tasks: list[str] = field(default_factory=list)
    rerun_all_failed_tasks: bool = False
    rerun_dependent_tasks: bool = False
    latest_repair_id: int | None = None
    overriding: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunFilter:
    """runs/list: one page of a principal's runs, newest first."""

    limit: int = 20
    job_id: int | None = None
    active_only: bool = False
    completed_only: bool = False
    page_token: str | None = None
    run_type: str | None = None
    start_time_from: int | None = None
    start_time_to: int | None = None
    expand_tasks: bool = False
