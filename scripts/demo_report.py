"""Print what the demo pipeline wrote, and check it (run by `scripts/dev.py demo` inside .venv).

Reads the Delta table straight from the emulator's DBFS folder with `deltalake`, and the job's
runs from the emulator's Jobs API. Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import requests
from deltalake import DeltaTable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: dags_examples/
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
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    dbfs_root = args.data_dir / "dbfs"
    problems, windows = show_runs(args.emulator_url, args.token)
    problems += show_table(dbfs_root / TABLE, windows)
    show_rejects(dbfs_root)
    heading("Result")
    for problem in problems:
        print(f"  FAILED: {problem}")
    if not problems:
        print("  all checks passed: every run succeeded, no duplicate keys, row count as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
