"""API calls needed to watch N concurrent runs to completion, deferred: our trigger vs the official one.

Both triggers run inside one asyncio loop (as in one triggerer process) against the same local
emulator, one after the other, with the same polling period. Runs are one-task ``spark_jar_task``
runs, which the emulator simulates (no subprocess), stretched by ``--time-scale``.

    .venv/bin/python bench/bench_watch_runs.py --n 100 500 --poll 1 --time-scale 5

The emulator enforces its default per-family rate limits (runs reads 100 req/s, ...), as a real
workspace does; ``--no-server-limits`` turns them off. Calls are counted by the emulator
(``runs/get``, ``runs/list``, ``runs/get-output`` during the watch, 429 answers included and also
counted apart); detection latency is the time from a run's ``end_time`` to its trigger event, over
the runs whose trigger fired an event (a trigger that raised, e.g. after too many 429s, counts as
a failed watch: in Airflow its task fails).
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
# ~10k "sleeping for 1.0 seconds" lines would slow the official side down (set it to INFO to see them)
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_proxy, None)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer  # noqa: E402
from airflow_dbx_provider.hooks.databricks import DatabricksHook  # noqa: E402
from airflow_dbx_provider.hooks.rate_limit import reset_rate_limiters  # noqa: E402

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
WATCH_ENDPOINTS = ("runs/get", "runs/list", "runs/get-output")
SUBMIT_RATE = 30.0  # runs/s, under the runs/submit limit (35/s)


def _requests(server: EmulatorServer) -> dict[str, int]:
    """Requests to the watch endpoints so far, plus ``429``: how many of them were throttled."""
    counts = dict.fromkeys((*WATCH_ENDPOINTS, "429"), 0)
    for name, by_status in server.counters()["requests"].items():
        path = name.split(" ", 1)[1]
        for endpoint in WATCH_ENDPOINTS:
            if path.endswith("/jobs/" + endpoint):
                counts[endpoint] += sum(by_status.values())
                counts["429"] += by_status.get("429", 0)
    return counts


def _submit(hook: DatabricksHook, n: int) -> list[int]:
    """Submit at a steady SUBMIT_RATE, so run ends spread evenly over the polling grid (no burst)."""
    task = {"task_key": "jar", "new_cluster": CLUSTER, "spark_jar_task": {"main_class_name": "Main"}}
    run_ids, started = [], time.monotonic()
    for i in range(n):
        time.sleep(max(0.0, started + i / SUBMIT_RATE - time.monotonic()))
        run_ids.append(hook.submit_run({"run_name": f"bench-{i}", "tasks": [task]}))
    return run_ids


def _ours(run_id: int, poll: float) -> Any:
    from airflow_dbx_provider.triggers import DatabricksRunTrigger

    return DatabricksRunTrigger(run_id, "bench_ours", polling_period_seconds=poll)


def _official(run_id: int, poll: float) -> Any:
    from airflow.providers.databricks.triggers.databricks import DatabricksExecutionTrigger

    return DatabricksExecutionTrigger(run_id, "bench_official", polling_period_seconds=poll)


async def _watch(triggers: list[Any]) -> tuple[dict[int, float], int]:
    """When each run's event fired (epoch ms), and how many triggers raised instead."""
    fired: dict[int, float] = {}
    failed = 0

    async def one(trigger: Any) -> None:
        nonlocal failed
        try:
            async for event in trigger.run():
                if event.payload.get("status") != "error":  # ours reports errors as events
                    fired[int(event.payload["run_id"])] = time.time() * 1000
                    return
                failed += 1
                return
        except Exception:  # the official trigger raises once its retries are exhausted
            failed += 1

    await asyncio.gather(*(one(t) for t in triggers))
    return fired, failed


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[int(q * (len(values) - 1))] if values else float("nan")


def measure(server: EmulatorServer, name: str, n: int, poll: float) -> dict[str, Any]:
    server.reset()
    reset_rate_limiters()  # no AIMD state carried over from the previous side
    hook = DatabricksHook("bench_ours")
    run_ids = _submit(hook, n)
    before = _requests(server)
    factory = _ours if name == "ours" else _official
    started = time.monotonic()
    fired, failed = asyncio.run(_watch([factory(r, poll) for r in run_ids]))
    wall = time.monotonic() - started
    after = _requests(server)
    calls = {k: after[k] - before[k] for k in WATCH_ENDPOINTS}
    latencies, durations = [], []
    for run_id in run_ids:
        run = hook.get_run(run_id)
        durations.append((run["end_time"] - run["start_time"]) / 1000)
        if run_id in fired:
            latencies.append((fired[run_id] - run["end_time"]) / 1000)
    return {
        "impl": name,
        "n": n,
        "calls": calls,
        "total_calls": sum(calls.values()),
        "throttled_429": after["429"] - before["429"],
        "failed_watches": failed,
        "wall_s": wall,
        "run_s_median": statistics.median(durations),
        "latency_s_median": statistics.median(latencies) if latencies else float("nan"),
        "latency_s_p95": _pct(latencies, 0.95),
        "latency_s_max": max(latencies, default=float("nan")),
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
        help="requests_per_second of our connection (default: none, the per-family limits)",
    )
    parser.add_argument(
        "--no-server-limits", action="store_true", help="turn the emulator's rate limits off (unrealistic)"
    )
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="bench-watch-emulator-"))
    config = EmulatorConfig(
        port=0, data_dir=data_dir, time_scale=args.time_scale, rate_limit_enabled=not args.no_server_limits
    )
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
                    f"429s={result['throttled_429']}  failed watches={result['failed_watches']}  "
                    f"runs ~{result['run_s_median']:.1f}s  latency median {result['latency_s_median']:.2f}s "
                    f"p95 {result['latency_s_p95']:.2f}s max {result['latency_s_max']:.2f}s  wall {result['wall_s']:.1f}s",
                    flush=True,
                )
            ours, official = results[-2], results[-1]
            print(
                f"N={n:<4} official/ours calls: {official['total_calls'] / max(ours['total_calls'], 1):.1f}x; "
                f"latency median ours {ours['latency_s_median']:.2f}s vs official {official['latency_s_median']:.2f}s, "
                f"p95 {ours['latency_s_p95']:.2f}s vs {official['latency_s_p95']:.2f}s; "
                f"failed watches ours {ours['failed_watches']} vs official {official['failed_watches']}",
                flush=True,
            )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
