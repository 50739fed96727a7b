"""API calls needed to watch N concurrent runs to completion, deferred: our trigger vs the official one.

Both triggers run inside one asyncio loop (as in one triggerer process) against the same local
emulator, one after the other, with the same polling period. Runs are one-task ``spark_jar_task``
runs, which the emulator simulates (no subprocess), stretched by ``--time-scale``.

    .venv/bin/python bench/bench_watch_runs.py --n 100 500 --poll 1 --time-scale 5

Calls are counted by the emulator (``runs/get``, ``runs/list``, ``runs/get-output`` during the watch);
detection latency is the time from a run's ``end_time`` to its trigger event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-watch-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_proxy, None)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer  # noqa: E402
from airflow_dbx_provider.hooks.databricks import DatabricksHook  # noqa: E402

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
WATCH_ENDPOINTS = ("runs/get", "runs/list", "runs/get-output")


def _requests(server: EmulatorServer) -> dict[str, int]:
    counts = dict.fromkeys(WATCH_ENDPOINTS, 0)
    for name, by_status in server.counters()["requests"].items():
        path = name.split(" ", 1)[1]
        for endpoint in WATCH_ENDPOINTS:
            if path.endswith("/jobs/" + endpoint):
                counts[endpoint] += sum(by_status.values())
    return counts


def _submit(hook: DatabricksHook, n: int) -> list[int]:
    task = {"task_key": "jar", "new_cluster": CLUSTER, "spark_jar_task": {"main_class_name": "Main"}}
    return [hook.submit_run({"run_name": f"bench-{i}", "tasks": [task]}) for i in range(n)]


def _ours(run_id: int, poll: float) -> Any:
    from airflow_dbx_provider.triggers import DatabricksRunTrigger

    return DatabricksRunTrigger(run_id, "bench_ours", polling_period_seconds=poll)


def _official(run_id: int, poll: float) -> Any:
    from airflow.providers.databricks.triggers.databricks import DatabricksExecutionTrigger

    return DatabricksExecutionTrigger(run_id, "bench_official", polling_period_seconds=poll)


async def _watch(triggers: list[Any]) -> dict[int, float]:
    fired: dict[int, float] = {}

    async def one(trigger: Any) -> None:
        async for event in trigger.run():
            fired[int(event.payload["run_id"])] = time.time() * 1000
            return

    await asyncio.gather(*(one(t) for t in triggers))
    return fired


def measure(server: EmulatorServer, name: str, n: int, poll: float) -> dict[str, Any]:
    server.reset()
    hook = DatabricksHook("bench_ours")
    run_ids = _submit(hook, n)
    before = _requests(server)
    factory = _ours if name == "ours" else _official
    started = time.monotonic()
    fired = asyncio.run(_watch([factory(r, poll) for r in run_ids]))
    wall = time.monotonic() - started
    after = _requests(server)
    calls = {k: after[k] - before[k] for k in WATCH_ENDPOINTS}
    latencies, durations = [], []
    for run_id in run_ids:
        run = hook.get_run(run_id)
        latencies.append((fired[run_id] - run["end_time"]) / 1000)
        durations.append((run["end_time"] - run["start_time"]) / 1000)
    return {
        "impl": name,
        "n": n,
        "calls": calls,
        "total_calls": sum(calls.values()),
        "wall_s": wall,
        "run_s_median": statistics.median(durations),
        "latency_s_median": statistics.median(latencies),
        "latency_s_p95": sorted(latencies)[int(0.95 * (len(latencies) - 1))],
        "latency_s_max": max(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--poll", type=float, default=1.0, help="polling_period_seconds of both triggers")
    parser.add_argument("--time-scale", type=float, default=5.0, help="emulator time scale (5 -> ~25 s runs)")
    parser.add_argument(
        "--ours-rps",
        type=float,
        default=None,
        help="requests_per_second of our connection (default: the hook's client-side limit, 30/s)",
    )
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="bench-watch-emulator-"))
    config = EmulatorConfig(port=0, data_dir=data_dir, time_scale=args.time_scale, rate_limit_enabled=False)
    with EmulatorServer(config) as server:
        host, port = server.url.removeprefix("http://").split(":")
        ours_conn: dict[str, Any] = {"conn_type": "dbx", "host": server.url, "password": server.admin_token}
        if args.ours_rps:
            ours_conn["extra"] = {"requests_per_second": args.ours_rps}
        os.environ["AIRFLOW_CONN_BENCH_OURS"] = json.dumps(ours_conn)
        os.environ["AIRFLOW_CONN_BENCH_OFFICIAL"] = json.dumps(
            {
                "conn_type": "databricks",
                "host": host,
                "port": int(port),
                "schema": "http",
                "password": server.admin_token,
            }
        )
        results = []
        for n in args.n:
            for impl in ("ours", "official"):
                result = measure(server, impl, n, args.poll)
                results.append(result)
                print(
                    f"N={n:<4} {impl:<9} calls={result['total_calls']:>6} {result['calls']}  "
                    f"runs ~{result['run_s_median']:.1f}s  latency median {result['latency_s_median']:.2f}s "
                    f"p95 {result['latency_s_p95']:.2f}s max {result['latency_s_max']:.2f}s  wall {result['wall_s']:.1f}s",
                    flush=True,
                )
            ours, official = results[-2], results[-1]
            print(
                f"N={n:<4} official/ours calls: {official['total_calls'] / max(ours['total_calls'], 1):.1f}x; "
                f"median latency ours {ours['latency_s_median']:.2f}s vs official {official['latency_s_median']:.2f}s",
                flush=True,
            )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
