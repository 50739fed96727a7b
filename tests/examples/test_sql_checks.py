"""The example pipeline's SQL tail: its table registered, checked by common-sql, reported on."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from decimal import Decimal
from typing import Any

import pytest

from dags_examples.orders_api import orders_for_window

BAD_ROWS_PER_DAY = 3


def _states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def _value(dag_run: Any, task_id: str) -> Any:
    from tests.airflow_compat import deserialize

    ti = next(ti for ti in dag_run.get_task_instances() if ti.task_id == task_id)
    return deserialize(ti.xcom_pull(task_ids=task_id))


@pytest.mark.slow
def test_checks_pass_and_the_report_sums_revenue_per_day_and_country(
    example_dagbag: Any, examples_workspace: Any
) -> None:
    table = f"dbfs:/delta/orders_{uuid.uuid4().hex[:8]}"
    conf = {"start_date": "2024-06-01", "end_date": "2024-06-02", "table_path": table, "min_rows": 10}
    dag_run = example_dagbag.get_dag("ingest_transform_delta").test(run_conf=conf)
    assert dag_run.state == "success", _states(dag_run)

    rows = _value(dag_run, "revenue_report")
    orders = orders_for_window(dt.date(2024, 6, 1), dt.date(2024, 6, 2))
    assert {(day.isoformat(), country) for day, country, _, _ in rows} <= {
        (str(o["order_ts"])[:10], str(o["country"]).upper()) for o in orders
    }
    assert sum(n for _, _, n, _ in rows) == len(orders) - 2 * BAD_ROWS_PER_DAY
    assert all(isinstance(revenue, Decimal) and revenue > 0 for *_, revenue in rows)
    assert rows == sorted(rows, key=lambda r: (r[0], r[1]))


@pytest.mark.slow
def test_a_failed_check_fails_the_dag_naming_the_check(
    example_dagbag: Any,
    examples_workspace: Any,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    table = f"dbfs:/delta/orders_{uuid.uuid4().hex[:8]}"
    conf = {"start_date": "2024-06-03", "end_date": "2024-06-03", "table_path": table, "max_rows": 5}
    dag_run = example_dagbag.get_dag("ingest_transform_delta").test(run_conf=conf)
    states = _states(dag_run)
    assert dag_run.state == "failed", states
    assert states["row_count_within_expectations"] == "failed"
    assert states["no_null_keys"] == states["positive_amounts"] == "success"
    assert states["revenue_report"] == "upstream_failed"
    out = capsys.readouterr()
    assert 'Threshold Check: "row_count_within_expectations" failed' in caplog.text + out.out + out.err
