"""Deferred task instances made directly in the metadata DB, as a deferring operator leaves them.

One DAG run of the ``bench_triggerer`` DAG (see :data:`DAG_SOURCE`) gets one task instance per
trigger, map indexes 0..N-1 of task ``watch``, each DEFERRED with its own trigger row, plus, at
index N, the event-loop lag probe. A triggerer picks these up as it would after N operators
deferred. Import this only after ``AIRFLOW__*`` is set in ``os.environ`` (it imports Airflow).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from airflow.models.dagbag import DBDagBag
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.models.trigger import Trigger
from airflow.sdk import timezone
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState, TaskInstanceState
from airflow.utils.types import DagRunTriggeredByType, DagRunType
from sqlalchemy import delete, func, select

DAG_ID = "bench_triggerer"
TASK_ID = "watch"
DAG_SOURCE = f'''
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("{DAG_ID}", schedule=None, catchup=False):
    EmptyOperator(task_id="{TASK_ID}")
'''


def clear() -> None:
    with create_session() as session:
        session.execute(delete(TaskInstance).where(TaskInstance.dag_id == DAG_ID))
        session.execute(delete(DagRun).where(DagRun.dag_id == DAG_ID))
        session.execute(delete(Trigger))


def seed(triggers: list[tuple[str, dict[str, Any]]], run_id: str) -> int:
    """One deferred task instance per ``(classpath, kwargs)``; returns the DAG run's id."""
    with create_session() as session:
        dag = DBDagBag().get_latest_version_of_dag(DAG_ID, session=session)
        assert dag is not None, "the bench DAG is not serialized"
        now = timezone.utcnow()
        dag_run = dag.create_dagrun(
            run_id=run_id,
            logical_date=None,
            run_after=now,
            run_type=DagRunType.MANUAL,
            triggered_by=DagRunTriggeredByType.TEST,
            state=DagRunState.RUNNING,
            session=session,
        )
        session.flush()
        task = dag.get_task(TASK_ID)
        version_id = dag_run.created_dag_version_id
        if version_id is None:
            version_id = session.scalar(
                select(TaskInstance.dag_version_id).where(TaskInstance.run_id == run_id).limit(1)
            )
        rows = [Trigger(classpath=classpath, kwargs=kwargs) for classpath, kwargs in triggers]
        session.add_all(rows)
        session.flush()
        for index, row in enumerate(rows):
            ti = TaskInstance(task, dag_version_id=version_id, run_id=run_id, map_index=index)
            ti.state = TaskInstanceState.DEFERRED
            ti.trigger_id = row.id
            ti.next_method = "execute_complete"
            ti.try_number = 1
            session.add(ti)
        return int(dag_run.id)


def deferred_left(run_id: str, exclude_index: int) -> int:
    with create_session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(TaskInstance)
                .where(
                    TaskInstance.dag_id == DAG_ID,
                    TaskInstance.run_id == run_id,
                    TaskInstance.map_index >= 0,
                    TaskInstance.map_index != exclude_index,
                    TaskInstance.state == TaskInstanceState.DEFERRED,
                )
            )
            or 0
        )


def outcomes(run_id: str, exclude_index: int) -> Counter[str]:
    """How each watched task instance was woken: ``event:<status>``, ``failed`` or its state."""
    counts: Counter[str] = Counter()
    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == DAG_ID,
                TaskInstance.run_id == run_id,
                TaskInstance.map_index >= 0,
                TaskInstance.map_index != exclude_index,
            )
        )
        for ti in tis:
            if ti.state == TaskInstanceState.DEFERRED:
                counts["still deferred"] += 1
            elif ti.next_method == "__fail__":
                counts["trigger failed"] += 1
            else:
                event = (ti.next_kwargs or {}).get("event")
                status = None
                if isinstance(event, dict):  # ours: "status"; the official: a RunState JSON
                    status = event.get("status") or ("run_state" if "run_state" in event else None)
                counts[f"event:{status or 'other'}"] += 1
    return counts
