"""Airflow names the tests use that moved between 3.1 and 3.3 (the package supports >=3.1)."""

from __future__ import annotations

try:  # Airflow >= 3.2
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.exceptions import TaskDeferralTimeout, TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferralTimeout, TaskDeferred  # type: ignore[no-redef]
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

try:  # Airflow >= 3.2
    from airflow.sdk.serde import deserialize
except ImportError:  # Airflow 3.1
    from airflow.serialization.serde import deserialize  # type: ignore[no-redef]

__all__ = ["DagBag", "TaskDeferralTimeout", "TaskDeferred", "deserialize"]
