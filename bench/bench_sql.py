"""SQL throughput against the emulator (its own process, rate limits off, HTTP):

- statements/s: ``SELECT 1`` one after another, (a) raw ``execute_statement`` answered inline
  (``wait_timeout``), (b) ``DatabricksSqlHook.get_first`` (execute, poll if needed, typed row);
- rows/s fetched: one ``SELECT`` of N rows × 3 columns (chunks of at most 4 MiB), executed and
  read to the last row, per result format and disposition: INLINE JSON_ARRAY, EXTERNAL_LINKS
  JSON_ARRAY, EXTERNAL_LINKS ARROW_STREAM (as Python rows, and as Arrow tables), INLINE ARROW_STREAM
  (``attachment``, on a serverless warehouse), and ``DatabricksSqlHook.get_records`` (typed) over
  INLINE JSON vs EXTERNAL_LINKS Arrow. Rounds are interleaved (every variant once per round, the
  order rotated), and each variant reports its median (min–max) over the rounds.

    .venv/bin/nox -s bench -- bench/bench_sql.py [--seconds 3] [--rows 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="dbx-bench-airflow-")
os.environ.setdefault("AIRFLOW_HOME", _AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_proxy, None)

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from emulator_process import EmulatorProcess  # noqa: E402


def per_second(call: Callable[[], object], seconds: float) -> float:
    call()  # warm-up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        count += 1
    return count / (time.perf_counter() - start)


def timed(call: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    rows = call()
    return rows, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from airflow_dbx_provider.hooks.databricks import DatabricksHook
    from airflow_dbx_provider.hooks.sql_dbapi import DatabricksSqlHook

    with EmulatorProcess(rate_limits=False, time_scale=1.0) as server:
        api = DatabricksHook.from_settings(host=server.url, token=server.token)
        warehouse_id = api.create_warehouse({"name": "bench"})
        while api.get_warehouse(warehouse_id)["state"] != "RUNNING":
            time.sleep(0.2)
        hook = DatabricksSqlHook(warehouse_id=warehouse_id, api=api, poll_seconds=0.05, log_sql=False)

        raw = per_second(
            lambda: api.execute_statement("SELECT 1", warehouse_id, wait_timeout="10s"), args.seconds
        )
        typed = per_second(lambda: hook.get_first("SELECT 1"), args.seconds)
        print(
            f"statements/s  raw execute (inline answer): {raw:7.1f}   DatabricksSqlHook.get_first: {typed:7.1f}"
        )

        query = (
            f"SELECT id, id * 2 AS twice, concat('row-', CAST(id AS STRING)) AS label FROM range({args.rows})"
        )
        serverless = api.create_warehouse({"name": "bench-sls", "enable_serverless_compute": True})

        def finished(warehouse: str, **options: str) -> dict[str, Any]:
            response = api.execute_statement(query, warehouse, wait_timeout="50s", **options)
            while response["status"]["state"] in ("PENDING", "RUNNING"):
                time.sleep(0.02)
                response = api.get_statement(response["statement_id"])
            return response

        def rows_of(warehouse: str, **options: str) -> Callable[[], int]:
            return lambda: sum(1 for _ in api.iter_statement_rows(finished(warehouse, **options)))

        def arrow_of(warehouse: str, **options: str) -> Callable[[], int]:
            return lambda: sum(t.num_rows for t in api.iter_statement_arrow(finished(warehouse, **options)))

        arrow_hook = DatabricksSqlHook(
            warehouse_id=warehouse_id,
            api=api,
            poll_seconds=0.05,
            log_sql=False,
            result_format="ARROW_STREAM",
            result_disposition="EXTERNAL_LINKS",
        )
        ext = "EXTERNAL_LINKS"
        variants: dict[str, Callable[[], int]] = {
            "INLINE JSON_ARRAY, raw rows": rows_of(warehouse_id),
            "EXTERNAL_LINKS JSON_ARRAY, raw rows": rows_of(warehouse_id, disposition=ext),
            "EXTERNAL_LINKS ARROW_STREAM, Python rows": rows_of(
                warehouse_id, disposition=ext, format="ARROW_STREAM"
            ),
            "EXTERNAL_LINKS ARROW_STREAM, Arrow tables": arrow_of(
                warehouse_id, disposition=ext, format="ARROW_STREAM"
            ),
            "INLINE ARROW_STREAM (serverless), Arrow tables": arrow_of(serverless, format="ARROW_STREAM"),
            "get_records, INLINE JSON_ARRAY (typed)": lambda: len(hook.get_records(query)),
            "get_records, EXTERNAL_LINKS ARROW_STREAM": lambda: len(arrow_hook.get_records(query)),
        }
        rates: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        for name in names:
            assert variants[name]() == args.rows, name  # warm-up, and every variant reads every row
        for round_index in range(args.rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                rows, seconds = timed(variants[name])
                rates[name].append(rows / seconds)
        print(
            f"rows/s fetched, {args.rows:,} rows x 3 columns, median (min-max) of {args.rounds} interleaved rounds:"
        )
        for name in names:
            values = sorted(rates[name])
            print(f"  {name:48s} {statistics.median(values):10,.0f}  ({values[0]:,.0f}-{values[-1]:,.0f})")


if __name__ == "__main__":
    main()
