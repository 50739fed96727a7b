"""Print what the demo pipeline wrote, and check it (run by `scripts/dev.py demo` inside .venv).

Reads the Delta table straight from the emulator's DBFS folder with `deltalake`, the job's
runs from the emulator's Jobs API, and the DAG's revenue report (revenue per day and country)
through the SQL Statement Execution API on the DAG's warehouse. Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import requests
from deltalake import DeltaTable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: dags_examples/
from airflow_dbx_provider.emulator.clean_exit import exit_without_finalizers
from dags_examples.orders_api.data import orders_for_window

JOB_NAME = "Multi-Step Pipeline"
TABLE = "delta/orders"  # dbfs:/delta/orders
BAD_ROWS_PER_DAY = 3  # the sample API breaks three rows a day


def heading(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 72 - len(text)))


def api(base: str, token: str, path: str, **params: Any) -> dict[str, Any]:
    response = requests.get(
        f"{base}/api/2.2/{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def show_runs(base: str, token: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Print each run of the job; return the failed ones and the (start, end) windows they covered."""
    heading(f"Databricks job runs of {JOB_NAME!r}")
    jobs = api(base, token, "jobs/list", name=JOB_NAME).get("jobs", [])
    if len(jobs) != 1:
        return [f"expected exactly one job named {JOB_NAME!r}, found {len(jobs)}"], []
    job_id = jobs[0]["job_id"]
    problems, windows = [], []
    runs = api(base, token, "jobs/runs/list", job_id=job_id, limit=25).get("runs", [])
    for summary in sorted(runs, key=lambda r: r["run_id"]):
        run = api(base, token, "jobs/runs/get", run_id=summary["run_id"])
        state = run["state"]
        params = {p["name"]: p.get("value", p.get("default")) for p in run.get("job_parameters", [])}
        windows.append((params.get("start_date", "?"), params.get("end_date", "?")))
        print(
            f"run {run['run_id']}  {state.get('result_state', state['life_cycle_state']):<8} window {windows[-1]}"
        )
        print(f"  {run['run_page_url']}")
        for task in sorted(run.get("tasks", []), key=lambda t: t.get("start_time", 0)):
            seconds = max(0, task.get("end_time", 0) - task.get("start_time", 0)) / 1000
            result = task["state"].get("result_state", task["state"]["life_cycle_state"])
            print(f"    {task['task_key']:<16} {result:<8} {seconds:5.1f}s  {task.get('run_page_url', '')}")
        if state.get("result_state") != "SUCCESS":
            problems.append(f"run {run['run_id']} ended {state.get('result_state')}")
    if not runs:
        problems.append("the job has no runs")
    return problems, windows


def show_table(table_dir: Path, windows: list[tuple[str, str]]) -> list[str]:
    heading("Delta table dbfs:/" + TABLE)
    if not (table_dir / "_delta_log").is_dir():
        return [f"no Delta table at {table_dir}"]
    table = DeltaTable(str(table_dir))
    frame = table.to_pandas()
    print(f"location: {table_dir}")
    print(
        f"version:  {table.version()}   rows: {len(frame)}   distinct order_id: {frame['order_id'].nunique()}"
    )
    print("\nschema:")
    for field in pa.schema(table.schema().to_arrow()):  # deltalake hands out arro3 types
        print(f"  {field.name:<14} {field.type}{'' if field.nullable else '  NOT NULL'}")
    print("\nrows per order_date:")
    print(frame.groupby("order_date").size().to_string())
    print("\nsample:")
    columns = ["order_id", "order_ts", "sku", "quantity", "unit_price", "amount", "country", "status"]
    print(frame.sort_values("order_id")[columns].head(5).to_string(index=False))

    heading("Delta version history")
    for entry in sorted(table.history(), key=lambda e: e["version"]):
        metrics = entry.get("operationMetrics") or {}
        changed = {
            k.removeprefix("num_target_rows_"): v
            for k, v in metrics.items()
            if k in ("num_target_rows_inserted", "num_target_rows_updated", "num_target_rows_deleted")
        }
        when = dt.datetime.fromtimestamp(entry["timestamp"] / 1000, dt.UTC).strftime("%H:%M:%S")
        print(
            f"  v{entry['version']}  {when}  {entry['operation']:<14} {json.dumps(changed) if changed else ''}"
        )

    problems = []
    if frame["order_id"].duplicated().any():
        problems.append("duplicate order_id rows in the table")
    if windows:
        days = {
            dt.date.fromisoformat(start) + dt.timedelta(days=offset)
            for start, end in windows
            for offset in range((dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1)
        }
        expected = sum(len(orders_for_window(day, day)) - BAD_ROWS_PER_DAY for day in days)
        print(
            f"\nexpected {expected} rows ({len(days)} days of orders minus {BAD_ROWS_PER_DAY} bad rows a day)"
        )
        if len(frame) != expected:
            problems.append(f"table has {len(frame)} rows, expected {expected}")
    return problems


def sql_rows(base: str, token: str, warehouse_id: str, statement: str) -> list[list[Any]]:
    """Execute ``statement`` and wait for its rows (INLINE JSON, first chunk: the report is small)."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {"statement": statement, "warehouse_id": warehouse_id, "wait_timeout": "30s"}
    response = requests.post(f"{base}/api/2.0/sql/statements", json=body, headers=headers, timeout=60)
    response.raise_for_status()
    result = response.json()
    for _ in range(600):
        if result["status"]["state"] not in ("PENDING", "RUNNING"):
            break
        time.sleep(0.1)
        result = requests.get(
            f"{base}/api/2.0/sql/statements/{result['statement_id']}", headers=headers, timeout=30
        ).json()
    if result["status"]["state"] != "SUCCEEDED":
        raise RuntimeError(f"{statement[:60]}...: {result['status']}")
    return list((result.get("result") or {}).get("data_array") or [])


def show_revenue_report(base: str, token: str) -> list[str]:
    """The rows of the DAG's revenue_report task, queried again the same way."""
    from dags_examples.ingest_transform_delta import REVENUE_REPORT_SQL, WAREHOUSE_NAME, table_name_for

    table = table_name_for("dbfs:/" + TABLE)
    heading(f"SQL report: revenue per day and country ({table})")
    headers = {"Authorization": f"Bearer {token}"}
    warehouses = requests.get(f"{base}/api/2.0/sql/warehouses", headers=headers, timeout=30).json()
    ids = [w["id"] for w in warehouses.get("warehouses", []) if w.get("name") == WAREHOUSE_NAME]
    if not ids:
        return [f"no SQL warehouse named {WAREHOUSE_NAME!r}: the DAG's SQL tasks did not run"]
    rows = sql_rows(base, token, ids[0], REVENUE_REPORT_SQL.format(table=table))
    print(f"  {'day':<12} {'country':<8} {'orders':>7} {'revenue':>12}")
    for day, country, orders, revenue in rows:
        print(f"  {day:<12} {country:<8} {orders:>7} {revenue:>12}")
    return [] if rows else ["the revenue report has no rows"]


def show_rejects(dbfs_root: Path) -> None:
    heading("Rejected rows (dbfs:/staging/orders/<window>/rejects.jsonl)")
    for path in sorted(dbfs_root.glob("staging/orders/*/rejects.jsonl")):
        lines = [json.loads(line) for line in path.read_text().splitlines() if line]
        reasons: dict[str, int] = {}
        for line in lines:
            for reason in line["reasons"]:
                reasons[reason] = reasons.get(reason, 0) + 1
        print(f"  {path.parent.name}: {len(lines)} rows {reasons}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emulator-url", required=True)
    parser.add_argument("--data-dir", required=True, type=Path)
    args = parser.parse_args()
    token = os.environ.get("DATABRICKS_TOKEN", "")  # from the environment, never from argv
    if not token:
        raise SystemExit("set DATABRICKS_TOKEN to the workspace token")
    dbfs_root = args.data_dir / "dbfs"
    problems, windows = show_runs(args.emulator_url, token)
    problems += show_table(dbfs_root / TABLE, windows)
    show_rejects(dbfs_root)
    problems += show_revenue_report(args.emulator_url, token)
    heading("Result")
    for problem in problems:
        print(f"  FAILED: {problem}")
    if not problems:
        print("  all checks passed: every run succeeded, no duplicate keys, row count as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    # It read the Delta table with deltalake: leave without the interpreter shutdown that Arrow's
    # native threads can abort (exit 134 after a report that passed).
    exit_without_finalizers(main())
