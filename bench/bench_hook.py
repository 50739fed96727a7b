"""Calls per second of `get_run`: our hook vs the official provider's, against two `requests.Session` ceilings.

Real workspaces are HTTPS only, and the official hook opens a new TLS connection for every call
(`requests.request` without a session); ours keeps one pooled `requests.Session`. The ceilings are a
bare `requests.Session` loop with `trust_env=True` (requests' default: proxies, netrc and CA bundle
read from the environment on every call) and with `trust_env=False`. All clients talk to the same
emulator, which runs in its own process (rate limits off), over HTTPS (self-signed certificate) and
plain HTTP, interleaved in rounds so that machine noise hits them alike. Our client-side rate limiter
is lifted (`requests_per_second`): the official hook has none, and what is measured is the transport.
Each client gets its median rate with the min-max over rounds, and its client CPU per call (this
process's CPU time over the calls made): on a shared machine the rates move with whatever else runs,
the CPU per call much less, so it shows where each client stands against the ceiling.

    .venv/bin/nox -s bench -- bench/bench_hook.py [--seconds 3] [--rounds 3] [--schemes https http]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="dbx-bench-airflow-")
os.environ.setdefault("AIRFLOW_HOME", _AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_proxy, None)

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from emulator_process import EmulatorProcess  # noqa: E402

OURS = "ours: DatabricksHook"
OFFICIAL = "official DatabricksHook 7.x"
CEILING_ENV = "requests.Session (trust_env=True)"
CEILING_NO_ENV = "requests.Session (trust_env=False)"


def calls_per_second(call: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Run `call` back to back for about `seconds`: the rate of completed calls, and the client CPU
    (microseconds of this process's CPU time) per call."""
    call()  # warm-up: connection set-up and lazy imports are not what we measure
    count = 0
    cpu = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        call()
        count += 1
    rate = count / (time.perf_counter() - started)
    return rate, (time.process_time() - cpu) / count * 1e6


def _clients(server: EmulatorProcess, scheme: str) -> dict[str, Callable[[], object]]:
    from airflow.providers.databricks.hooks.databricks import DatabricksHook as OfficialHook

    from airflow_dbx_provider.hooks.databricks import DatabricksHook

    cert = server.cert
    ours = DatabricksHook.from_settings(
        host=server.url, token=server.token, ca_bundle=cert, requests_per_second=100_000
    )
    cluster_id = ours.create_cluster(
        {
            "cluster_name": "bench",
            "spark_version": "15.4.x-scala2.12",
            "node_type_id": "i3.xlarge",
            "num_workers": 1,
        }
    )
    task = {
        "task_key": "jar",
        "existing_cluster_id": cluster_id,
        "spark_jar_task": {"main_class_name": "Bench"},
    }
    run_id = ours.submit_run({"run_name": "bench", "tasks": [task]})

    # The official hook reads an Airflow connection; requests honours REQUESTS_CA_BUNDLE.
    parts = urlsplit(server.url)
    conn_id = f"bench_official_{scheme}"
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
        {
            "conn_type": "databricks",
            "host": parts.hostname,
            "port": parts.port,
            "schema": scheme,
            "password": server.token,
        }
    )
    if cert:
        os.environ["REQUESTS_CA_BUNDLE"] = cert
    official = OfficialHook(databricks_conn_id=conn_id)

    raw_url = f"{server.url}/api/2.2/jobs/runs/get"

    def session(trust_env: bool) -> Callable[[], object]:
        s = requests.Session()
        s.trust_env = trust_env
        s.verify = cert or True
        s.headers["Authorization"] = f"Bearer {server.token}"
        return lambda: s.get(raw_url, params={"run_id": run_id}).json()

    return {
        CEILING_ENV: session(True),
        CEILING_NO_ENV: session(False),
        OURS: lambda: ours.get_run(run_id),
        OFFICIAL: lambda: official.get_run(run_id),
    }


def measure(scheme: str, seconds: float, rounds: int) -> dict[str, dict[str, float]]:
    """Per client: median, min and max calls/s over the rounds, and the median CPU us per call."""
    with EmulatorProcess(tls=scheme == "https", rate_limits=False) as server:
        clients = _clients(server, scheme)
        rates: dict[str, list[float]] = {name: [] for name in clients}
        cpus: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(rounds):
            for name, call in clients.items():
                rate, cpu = calls_per_second(call, seconds)
                rates[name].append(rate)
                cpus[name].append(cpu)
    os.environ.pop("REQUESTS_CA_BUNDLE", None)
    return {
        name: {
            "median": statistics.median(rates[name]),
            "min": min(rates[name]),
            "max": max(rates[name]),
            "cpu_us_per_call": statistics.median(cpus[name]),
        }
        for name in clients
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per client")
    parser.add_argument("--schemes", nargs="+", default=["https", "http"], choices=["https", "http"])
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {}
    for scheme in args.schemes:
        result = report[scheme] = measure(scheme, args.seconds, args.rounds)
        median = {name: r["median"] for name, r in result.items()}
        print(
            f"get_run over {scheme.upper()}, {args.rounds} interleaved rounds of {args.seconds:g} s: "
            "median calls/s (min-max), client CPU per call"
        )
        for name, r in result.items():
            print(
                f"  {name:<36} {r['median']:8.1f} calls/s ({r['min']:.0f}-{r['max']:.0f})"
                f"  {r['cpu_us_per_call']:6.0f} us CPU/call"
            )
        print(
            f"  ours / official: {median[OURS] / median[OFFICIAL]:.2f}x   "
            f"ours / ceiling trust_env=False: {median[OURS] / median[CEILING_NO_ENV]:.2f}   "
            f"ours / ceiling trust_env=True: {median[OURS] / median[CEILING_ENV]:.2f}   "
            f"CPU/call ours / ceiling trust_env=False: "
            f"{result[OURS]['cpu_us_per_call'] / result[CEILING_NO_ENV]['cpu_us_per_call']:.2f}",
            flush=True,
        )
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
