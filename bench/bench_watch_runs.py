"""API calls and detection latency of watching N deferred runs: our trigger vs the official one.

Both triggers run inside one asyncio loop (as in one triggerer process) against the same emulator,
which runs in its own process, one after the other, with the same polling period. Each run is
submitted and deferred at once, as an operator would (so watching starts while runs are still
being submitted, at 30 runs/s, under the runs/submit limit). Runs are one-task ``spark_jar_task``
runs, which the emulator simulates, stretched by ``--time-scale``.

Scenarios (``--scenarios``): ``limits`` (the emulator's default per-family rate limits, as a
workspace has), ``no-limits``, and ``slow`` (limits on, every runs/list and runs/get answer 100 ms
late). Our poller's cycles are timed too (how long a cycle takes and how many list calls it makes:
a cycle that takes longer than the polling period would delay detection). Calls are counted by the emulator (runs/get, runs/list, runs/get-output during the watch,
429 answers counted apart). The floor is what a listing must cost: the sum over our poller's cycles
of ceil(watched runs / 25); ``ceil(N/25) x cycles`` is printed too. Latency runs from a run's
``end_time`` to its trigger event; a trigger that raised or sent an error event is a failed watch.

    .venv/bin/nox -s bench -- bench/bench_watch_runs.py --n 100 500 1000 --poll 1 --time-scale 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from emulator_process import EmulatorProcess  # noqa: E402

from airflow_dbx_provider.hooks.databricks import DatabricksHook  # noqa: E402
from airflow_dbx_provider.hooks.rate_limit import reset_rate_limiters  # noqa: E402

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
WATCH_ENDPOINTS = ("runs/get", "runs/list", "runs/get-output")
SUBMIT_RATE = 30.0  # runs/s, under the runs/submit limit (35/s)
SLOW_SECONDS = 0.1
SCENARIOS = ("limits", "no-limits", "slow")


def _requests(server: EmulatorProcess) -> dict[str, int]:
    """Requests to the watch endpoints so far, plus ``429``: how many of them were throttled."""
    counts = dict.fromkeys((*WATCH_ENDPOINTS, "429"), 0)
    for name, by_status in server.counters()["requests"].items():
        path = name.split(" ", 1)[1]
        for endpoint in WATCH_ENDPOINTS:
            if path.endswith("/jobs/" + endpoint):
                counts[endpoint] += sum(by_status.values())
                counts["429"] += by_status.get("429", 0)
    return counts


_CYCLES: list[tuple[float, int]] = []  # (seconds, list calls) of each of our poller's cycles


def _time_cycles() -> None:
    """Wrap the poller's cycle to record its duration and list calls (a few clock reads a cycle)."""
    from airflow_dbx_provider.triggers.poller import RunStatePoller

    original = RunStatePoller.cycle

    async def timed(self: RunStatePoller) -> None:
        lists, started = self.calls["list"], time.perf_counter()
        try:
            await original(self)
        finally:
            _CYCLES.append((time.perf_counter() - started, self.calls["list"] - lists))

    RunStatePoller.cycle = timed  # type: ignore[method-assign]


def _ours(run_id: int, poll: float) -> Any:
    from airflow_dbx_provider.triggers import DatabricksRunTrigger

    return DatabricksRunTrigger(run_id, "bench_ours", polling_period_seconds=poll)


def _official(run_id: int, poll: float) -> Any:
    from airflow.providers.databricks.triggers.databricks import DatabricksExecutionTrigger

    return DatabricksExecutionTrigger(run_id, "bench_official", polling_period_seconds=poll)


async def _submit_and_watch(hook: DatabricksHook, impl: str, n: int, poll: float) -> dict[str, Any]:
    """Submit at SUBMIT_RATE in a thread; each run's trigger starts as soon as its run exists."""
    loop = asyncio.get_running_loop()
    factory = _ours if impl == "ours" else _official
    fired: dict[int, float] = {}
    failed = 0
    watches: list[asyncio.Task[None]] = []
    run_ids: list[int] = []

    async def one(trigger: Any) -> None:
        nonlocal failed
        try:
            async for event in trigger.run():
                if event.payload.get("status") != "error":  # ours reports errors as events
                    fired[int(event.payload["run_id"])] = time.time() * 1000
                else:
                    failed += 1
                return
        except Exception:  # the official trigger raises once its retries are exhausted
            failed += 1

    def start(run_id: int) -> None:
        watches.append(loop.create_task(one(factory(run_id, poll))))

    def submit_all() -> None:
        task = {"task_key": "jar", "new_cluster": CLUSTER, "spark_jar_task": {"main_class_name": "Main"}}
        started = time.monotonic()
        for i in range(n):
            time.sleep(max(0.0, started + i / SUBMIT_RATE - time.monotonic()))
            run_id = hook.submit_run({"run_name": f"bench-{i}", "tasks": [task]})
            run_ids.append(run_id)
            loop.call_soon_threadsafe(start, run_id)

    await loop.run_in_executor(None, submit_all)
    await asyncio.sleep(0)
    await asyncio.gather(*watches)
    cycles = floor = 0
    if impl == "ours":
        from airflow_dbx_provider.triggers import poller

        for shared in poller._POLLERS.get(loop, {}).values():
            cycles += shared.calls["cycles"]
            floor += shared.calls["floor"]
    return {"fired": fired, "failed": failed, "run_ids": run_ids, "cycles": cycles, "floor": floor}


def measure(server: EmulatorProcess, scenario: str, impl: str, n: int, poll: float) -> dict[str, Any]:
    server.reset()
    server.admin("POST", "/_emulator/rate-limits", {"enabled": scenario != "no-limits"})
    reset_rate_limiters()  # no AIMD state carried over from the previous side
    if scenario == "slow":
        rules = [{"target": t, "kind": "slow", "probability": 1.0} for t in ("runs/list", "runs/get")]
        server.admin("POST", "/_emulator/faults", {"rules": rules, "slow_seconds": SLOW_SECONDS})
    hook = DatabricksHook("bench_ours")
    _CYCLES.clear()
    before = _requests(server)
    started = time.monotonic()
    watched = asyncio.run(_submit_and_watch(hook, impl, n, poll))
    wall = time.monotonic() - started
    after = _requests(server)
    server.admin("DELETE", "/_emulator/faults")
    calls = {k: after[k] - before[k] for k in WATCH_ENDPOINTS}
    latencies, durations = [], []
    for run_id in watched["run_ids"]:
        run = hook.get_run(run_id, retry_deadline_seconds=60)
        durations.append((run["end_time"] - run["start_time"]) / 1000)
        if run_id in watched["fired"]:
            latencies.append((watched["fired"][run_id] - run["end_time"]) / 1000)
    hook.close()
    return {
        "scenario": scenario,
        "impl": impl,
        "n": n,
        "calls": calls,
        "total_calls": sum(calls.values()),
        "cycles": watched["cycles"],
        "floor": watched["floor"],
        "floor_n_cycles": math.ceil(n / 25) * watched["cycles"],
        "throttled_429": after["429"] - before["429"],
        "failed_watches": watched["failed"],
        "wall_s": wall,
        "run_s_median": statistics.median(durations),
        "latency_s_median": statistics.median(latencies) if latencies else float("nan"),
        "latency_s_p95": _pct(latencies, 0.95),
        "latency_s_max": max(latencies, default=float("nan")),
        "cycle_s_p50": _pct([c for c, _ in _CYCLES], 0.5),
        "cycle_s_p95": _pct([c for c, _ in _CYCLES], 0.95),
        "lists_per_cycle_max": max((n for _, n in _CYCLES), default=0),
    }


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[int(q * (len(values) - 1))] if values else float("nan")


def _line(r: dict[str, Any]) -> str:
    floor = (
        f" floor={r['floor']} (ceil(N/25)x{r['cycles']} cycles={r['floor_n_cycles']};"
        f" cycle p50 {r['cycle_s_p50']:.3f}s p95 {r['cycle_s_p95']:.3f}s,"
        f" <= {r['lists_per_cycle_max']} lists)"
        if r["impl"] == "ours"
        else ""
    )
    return (
        f"{r['scenario']:<9} N={r['n']:<4} {r['impl']:<8} calls={r['total_calls']:>6} "
        f"(list {r['calls']['runs/list']}, get {r['calls']['runs/get']}){floor}  429s={r['throttled_429']}  "
        f"failed={r['failed_watches']}  runs ~{r['run_s_median']:.1f}s  latency p50 {r['latency_s_median']:.2f}s "
        f"p95 {r['latency_s_p95']:.2f}s max {r['latency_s_max']:.2f}s  wall {r['wall_s']:.0f}s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--poll", type=float, default=1.0, help="polling_period_seconds of both triggers")
    parser.add_argument("--time-scale", type=float, default=2.0, help="emulator time scale (2 -> ~10 s runs)")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--impls", nargs="+", default=["ours", "official"], choices=["ours", "official"])
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = parser.parse_args()

    results = []
    _time_cycles()
    with EmulatorProcess(time_scale=args.time_scale) as server:
        host, port = server.url.removeprefix("http://").split(":")
        os.environ["AIRFLOW_CONN_BENCH_OURS"] = json.dumps(
            {"conn_type": "dbx", "host": server.url, "password": server.token}
        )
        os.environ["AIRFLOW_CONN_BENCH_OFFICIAL"] = json.dumps(
            {
                "conn_type": "databricks",
                "host": host,
                "port": int(port),
                "schema": "http",
                "password": server.token,
            }
        )
        for scenario in args.scenarios:
            for n in args.n:
                for impl in args.impls:
                    result = measure(server, scenario, impl, n, args.poll)
                    results.append(result)
                    print(_line(result), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
