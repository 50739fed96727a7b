"""SQL throughput against the emulator (its own process, rate limits off, HTTP):

- statements/s: ``SELECT 1`` one after another, (a) raw ``execute_statement`` answered inline
  (``wait_timeout``), (b) ``DatabricksSqlHook.get_first`` (execute, poll if needed, typed row);
- rows/s fetched: one ``SELECT`` of N rows (INLINE, JSON_ARRAY, chunks of at most 4 MiB), (a) the
  raw JSON rows through ``iter_statement_rows``, (b) ``DatabricksSqlHook.get_records`` (typed);
- ARROW_STREAM: asked once; the emulator serves it only with EXTERNAL_LINKS, which it does not
  implement, so the answer is reported instead of a rate.

    .venv/bin/nox -s bench -- bench/bench_sql.py [--seconds 3] [--rows 200000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

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
    args = parser.parse_args()

    from airflow_dbx_provider.exceptions import DbxError
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

        def raw_rows() -> int:
            response = api.execute_statement(query, warehouse_id, wait_timeout="50s")
            while response["status"]["state"] in ("PENDING", "RUNNING"):
                time.sleep(0.02)
                response = api.get_statement(response["statement_id"])
            return sum(1 for _ in api.iter_statement_rows(response))

        for label, call in (
            ("raw JSON rows (iter_statement_rows)", raw_rows),
            ("typed rows (DatabricksSqlHook.get_records)", lambda: len(hook.get_records(query))),
        ):
            call()  # warm-up
            rows, seconds = timed(call)
            print(f"rows/s        {label}: {rows / seconds:10,.0f}  ({rows:,} rows in {seconds:.2f} s)")

        try:
            api.execute_statement("SELECT 1", warehouse_id, format="ARROW_STREAM", disposition="INLINE")
            print("ARROW_STREAM  served")
        except DbxError as err:
            print(f"ARROW_STREAM  not served by the emulator: {err}")


if __name__ == "__main__":
    main()
