"""A real ``airflow triggerer`` watching N deferred Databricks runs: ours vs the official trigger.

The harness, on one machine: the emulator in its own process; a private PostgreSQL cluster as the
metadata DB (``bench/pg_cluster.py``); N remote runs submitted first (rate limits off while
submitting), then N deferred task instances with their trigger rows written to the DB
(``bench/triggerer_seed.py``), as N deferring operators would leave them, and one more that runs
an event-loop lag probe (``bench/lag_probe.py``). A fresh ``airflow triggerer`` (its supervisor
process plus the TriggerRunner subprocess that runs the triggers' event loop) is started before
each measurement and stopped after it. The watch window runs from the rows' commit until no
watched task instance is deferred any more.

Reported per measurement: peak RSS (runner subprocess, and runner + supervisor), its increase over
the idle triggerer, CPU seconds per minute of the window (runner, supervisor), event-loop lag
p50/p99 from the probe (how late a 50 ms sleep wakes in the runner's loop), API calls per minute
(the emulator's counters: runs/get + runs/list + runs/get-output) and 429 answers, and how the
task instances were woken (events by status, failed triggers). Ours and the official alternate
within each round; the summary is median (min-max) over rounds.

    .venv/bin/python bench/bench_triggerer.py --n 1000 --rounds 2 --poll 10 --time-scale 6

Needs Debian's ``postgresql`` package; psycopg2 is installed into a cache folder on first use.
Takes about 3 min per measurement at N=1,000 on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from airflow_stack import (
    airflow_cli,
    airflow_env,
    process_usage,
    start_component,
    stop_component,
    wait_for,
)
from emulator_process import EmulatorProcess
from pg_cluster import PostgresCluster, psycopg2_site

WATCH_ENDPOINTS = ("runs/get", "runs/list", "runs/get-output")
CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
OURS = "airflow_dbx_provider.triggers.run.DatabricksRunTrigger"
OFFICIAL = "airflow.providers.databricks.triggers.databricks.DatabricksExecutionTrigger"


def _calls(server: EmulatorProcess) -> dict[str, int]:
    counts = dict.fromkeys(("calls", "429"), 0)
    for name, by_status in server.counters()["requests"].items():
        path = name.split(" ", 1)[1]
        if any(path.endswith("/jobs/" + e) for e in WATCH_ENDPOINTS):
            counts["calls"] += sum(by_status.values())
            counts["429"] += by_status.get("429", 0)
    return counts


def _submit(n: int) -> list[int]:
    from airflow_dbx_provider.hooks.databricks import DatabricksHook

    hook = DatabricksHook("bench_ours")
    task = {"task_key": "jar", "new_cluster": CLUSTER, "spark_jar_task": {"main_class_name": "Main"}}
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: hook.submit_run({"run_name": f"bench-{i}", "tasks": [task]}), range(n)))
    hook.close()
    return ids


def _trigger_rows(impl: str, run_ids: list[int], poll: float) -> list[tuple[str, dict[str, Any]]]:
    if impl == "ours":
        return [
            (OURS, {"run_id": r, "databricks_conn_id": "bench_ours", "polling_period_seconds": poll})
            for r in run_ids
        ]
    return [
        (OFFICIAL, {"run_id": r, "databricks_conn_id": "bench_official", "polling_period_seconds": poll})
        for r in run_ids
    ]


class Sampler(threading.Thread):
    """RSS and CPU of the triggerer and its runner subprocess, once a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, dict[int, tuple[str, int, float]]]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.time(), process_usage(self.pid)))
            self.stop.wait(1.0)

    def split(self, sample: dict[int, tuple[str, int, float]]) -> tuple[tuple[int, float], tuple[int, float]]:
        """((rss, cpu) of the supervisor, (rss, cpu) of its children: the TriggerRunner)."""
        sup = sample.get(self.pid, ("", 0, 0.0))
        kids = [v for pid, v in sample.items() if pid != self.pid]
        return (sup[1], sup[2]), (sum(k[1] for k in kids), sum(k[2] for k in kids))


def measure(
    server: EmulatorProcess, env: dict[str, str], home: Path, impl: str, n: int, poll: float, timeout: float
) -> dict[str, Any]:
    import triggerer_seed

    server.reset()
    server.admin("POST", "/_emulator/rate-limits", {"enabled": False})
    run_ids = _submit(n)
    server.admin("POST", "/_emulator/rate-limits", {"enabled": True})
    triggerer_seed.clear()

    tag = f"{impl}-{int(time.time())}"
    probe_out, stop_file = home / f"lag-{tag}.txt", home / f"stop-{tag}"
    proc = start_component(env, ["triggerer"], home / f"triggerer-{tag}.log")
    sampler = Sampler(proc.pid)
    try:
        wait_for(lambda: len(process_usage(proc.pid)) >= 2, 60, "the triggerer's runner subprocess")
        time.sleep(5)  # imports done, first DB round trips made
        sampler.start()
        time.sleep(2)
        idle = sampler.split(sampler.samples[-1][1])
        rows = _trigger_rows(impl, run_ids, poll)
        rows.append(("lag_probe.LoopLagProbeTrigger", {"path": str(probe_out), "stop_path": str(stop_file)}))
        before = _calls(server)
        started = time.time()
        triggerer_seed.seed(rows, run_id=tag)
        wait_for(lambda: triggerer_seed.deferred_left(tag, n) == 0, timeout, "every watched run's event", 2.0)
        ended = time.time()
        after = _calls(server)
        stop_file.touch()
        time.sleep(2)
    finally:
        sampler.stop.set()
        stop_component(proc)
    outcome = triggerer_seed.outcomes(tag, n)
    window = [(t, sampler.split(s)) for t, s in sampler.samples if started - 1.0 <= t <= ended + 1.0]
    (sup0, run0), (sup1, run1) = window[0][1], window[-1][1]
    minutes = (window[-1][0] - window[0][0]) / 60
    lags = []
    if probe_out.exists():
        for line in probe_out.read_text().splitlines():
            t, lag = map(float, line.split())
            if started <= t <= ended:
                lags.append(lag)
    lags.sort()
    return {
        "impl": impl,
        "n": n,
        "poll": poll,
        "window_s": ended - started,
        "rss_idle_mb": (idle[0][0] + idle[1][0]) / 2**20,
        "rss_peak_mb": max(s[0][0] + s[1][0] for _, s in window) / 2**20,
        "rss_runner_peak_mb": max(s[1][0] for _, s in window) / 2**20,
        "cpu_runner_s_per_min": (run1[1] - run0[1]) / minutes,
        "cpu_supervisor_s_per_min": (sup1[1] - sup0[1]) / minutes,
        "lag_p50_ms": _pct(lags, 0.50) * 1000,
        "lag_p99_ms": _pct(lags, 0.99) * 1000,
        "lag_max_ms": (lags[-1] if lags else float("nan")) * 1000,
        "calls_per_min": (after["calls"] - before["calls"]) / ((ended - started) / 60),
        "throttled_429": after["429"] - before["429"],
        "outcome": dict(outcome),
    }


def _pct(values: list[float], q: float) -> float:
    return values[int(q * (len(values) - 1))] if values else float("nan")


def _line(r: dict[str, Any]) -> str:
    return (
        f"{r['impl']:<8} N={r['n']} poll={r['poll']:g}s window {r['window_s']:.0f}s  "
        f"RSS peak {r['rss_peak_mb']:.0f} MB (runner {r['rss_runner_peak_mb']:.0f}, idle total {r['rss_idle_mb']:.0f})  "
        f"CPU s/min runner {r['cpu_runner_s_per_min']:.1f} supervisor {r['cpu_supervisor_s_per_min']:.1f}  "
        f"lag p50 {r['lag_p50_ms']:.1f} ms p99 {r['lag_p99_ms']:.1f} ms max {r['lag_max_ms']:.0f} ms  "
        f"calls/min {r['calls_per_min']:.0f} 429s {r['throttled_429']}  {r['outcome']}"
    )


def _summary(results: list[dict[str, Any]]) -> None:
    keys = (
        "rss_peak_mb",
        "rss_runner_peak_mb",
        "cpu_runner_s_per_min",
        "cpu_supervisor_s_per_min",
        "lag_p50_ms",
        "lag_p99_ms",
        "calls_per_min",
        "throttled_429",
        "window_s",
    )
    for impl in ("ours", "official"):
        rs = [r for r in results if r["impl"] == impl]
        if not rs:
            continue
        parts = []
        for key in keys:
            values = [r[key] for r in rs]
            parts.append(f"{key} {statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})")
        print(f"summary {impl} x{len(rs)}: " + ", ".join(parts), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--poll", type=float, default=10.0, help="polling_period_seconds of both triggers")
    parser.add_argument(
        "--time-scale", type=float, default=6.0, help="emulator time scale (6: runs of ~65 s)"
    )
    parser.add_argument("--impls", nargs="+", default=["ours", "official"], choices=["ours", "official"])
    parser.add_argument("--timeout", type=float, default=600, help="longest watch window, seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench-triggerer-"))
    dags = home / "dags"
    dags.mkdir()
    results = []
    with EmulatorProcess(time_scale=args.time_scale) as server, PostgresCluster() as pg:
        host, port = server.url.removeprefix("http://").split(":")
        connections = {
            "bench_ours": {"conn_type": "dbx", "host": server.url, "password": server.token},
            "bench_official": {
                "conn_type": "databricks",
                "host": host,
                "port": int(port),
                "schema": "http",
                "password": server.token,
            },
        }
        env = airflow_env(
            home,
            pg.url,
            dags,
            connections=connections,
            pythonpath=[psycopg2_site()],
            extra={
                "AIRFLOW__TRIGGERER__CAPACITY": str(args.n + 100),
                # ~N lines per poll would cost the official side more than its polling does
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            },
        )
        os.environ.update(env)
        sys.path.insert(0, str(psycopg2_site()))
        import triggerer_seed  # imports Airflow: after the environment is set

        (dags / "bench_triggerer.py").write_text(triggerer_seed.DAG_SOURCE)
        airflow_cli(env, "db", "migrate")
        airflow_cli(env, "dags", "reserialize")
        for round_no in range(args.rounds):
            order = args.impls if round_no % 2 == 0 else list(reversed(args.impls))
            for impl in order:
                result = measure(server, env, home, impl, args.n, args.poll, args.timeout)
                results.append(result)
                print(_line(result), flush=True)
    _summary(results)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
