"""Requests per second of the emulator for runs/get and runs/list with many active runs.

    .venv/bin/nox -s bench -- bench/bench_emulator.py [--runs 1000] [--threads 4] [--seconds 5] [--in-process]

By default the emulator runs as a separate process (`python -m airflow_dbx_provider.emulator`)
so the client threads do not share its GIL. Runs stay active because their only task is a
simulated `sql_task` and time runs 100x slower than real time.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests

TOKEN = "bench-admin-token"


def _start_subprocess(data_dir: str) -> tuple[str, Callable[[], None]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_dbx_provider.emulator", "--port", "0", "--data-dir", data_dir,
         "--token", TOKEN, "--no-rate-limits", "--time-scale", "100"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"emulator did not start: {line!r}")

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=30)

    return line.removeprefix("listening on "), stop


def _start_in_process(data_dir: str) -> tuple[str, Callable[[], None]]:
    from pathlib import Path

    from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer

    server = EmulatorServer(
        EmulatorConfig(data_dir=Path(data_dir), admin_token=TOKEN, rate_limit_enabled=False, time_scale=100)
    ).start()
    return server.url, server.stop


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    return session


def create_runs(url: str, count: int, threads: int) -> list[int]:
    body = {
        "run_name": "bench",
        "tasks": [{"task_key": "q", "sql_task": {"warehouse_id": "w", "query": {"query_id": "1"}}}],
    }
    local = threading.local()

    def submit(_: int) -> int:
        if not hasattr(local, "session"):
            local.session = _session()
        response = local.session.post(url + "/api/2.2/jobs/runs/submit", json=body, timeout=30)
        response.raise_for_status()
        return int(response.json()["run_id"])

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(submit, range(count)))


def measure(
    url: str,
    name: str,
    request: Callable[[requests.Session], requests.Response],
    threads: int,
    seconds: float,
) -> dict[str, float]:
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        session = _session()
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = request(session)
            latencies[index].append(time.perf_counter() - started)
            if response.status_code != 200:
                errors[index] += 1

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - started
    samples = sorted(x for per_thread in latencies for x in per_thread)
    return {
        "requests": len(samples),
        "rps": len(samples) / elapsed,
        "p50_ms": samples[len(samples) // 2] * 1000 if samples else 0.0,
        "p99_ms": samples[int(len(samples) * 0.99)] * 1000 if samples else 0.0,
        "errors": sum(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dbx-bench-") as data_dir:
        url, stop = (_start_in_process if args.in_process else _start_subprocess)(data_dir)
        try:
            started = time.monotonic()
            run_ids = create_runs(url, args.runs, args.threads)
            create_s = time.monotonic() - started
            active = _session().get(url + "/_emulator/counters", timeout=30).json()["active_runs"]
            rng = random.Random(1)
            results = {
                "runs/get": measure(
                    url, "runs/get",
                    lambda s: s.get(url + "/api/2.2/jobs/runs/get", params={"run_id": rng.choice(run_ids)}, timeout=30),
                    args.threads, args.seconds,
                ),
                "runs/list": measure(
                    url, "runs/list",
                    lambda s: s.get(url + "/api/2.2/jobs/runs/list", params={"limit": 25, "active_only": "true"}, timeout=30),
                    args.threads, args.seconds,
                ),
            }  # fmt: skip
        finally:
            stop()
    mode = "in-process" if args.in_process else "subprocess"
    print(
        f"emulator {mode}; {args.runs} runs created in {create_s:.1f}s ({args.runs / create_s:.0f}/s); active runs: {active}"
    )
    print(f"{args.threads} client threads, keep-alive sessions, {args.seconds:.0f}s per endpoint")
    print(f"{'endpoint':<12}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, row in results.items():
        print(
            f"{name:<12}{row['requests']:>10.0f}{row['rps']:>10.0f}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}{row['errors']:>8.0f}"
        )


if __name__ == "__main__":
    main()
