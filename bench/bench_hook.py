"""Calls per second of `get_run` over HTTPS: our hook vs the official provider's hook.

Real workspaces are HTTPS only, and the official hook opens a new TLS connection for every call
(`requests.request` without a session); ours keeps one pooled `requests.Session`. Both talk to the
same emulator (TLS, self-signed certificate, rate limits off) in one run, interleaved in rounds so
that machine noise hits both alike. A raw `requests.Session` loop is the ceiling. Our client-side
rate limiter is lifted (`requests_per_second`) for this measurement: the official hook has none,
and what is measured here is the transport.

    python bench/bench_hook.py [--seconds 3] [--rounds 3]
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
from urllib.parse import urlsplit

import requests

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="dbx-bench-airflow-")
os.environ.setdefault("AIRFLOW_HOME", _AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
    os.environ.pop(_proxy, None)


def calls_per_second(call: Callable[[], object], seconds: float) -> float:
    """Run `call` back to back for about `seconds`; the rate of completed calls."""
    call()  # warm-up: connection set-up and lazy imports are not what we measure
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        call()
        count += 1
    return count / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per client")
    args = parser.parse_args(argv)

    from airflow.providers.databricks.hooks.databricks import DatabricksHook as OfficialHook

    from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer
    from airflow_dbx_provider.hooks.databricks import DatabricksHook

    server = EmulatorServer(EmulatorConfig(tls=True, rate_limit_enabled=False))
    server.start()
    try:
        cert = str(server.config.cert_file)
        url = server.url
        token = server.admin_token
        ours = DatabricksHook.from_settings(
            host=url, token=token, ca_bundle=cert, requests_per_second=100_000
        )
        run_id = ours.submit_run(
            {
                "run_name": "bench",
                "tasks": [
                    {
                        "task_key": "jar",
                        "existing_cluster_id": ours.create_cluster(
                            {
                                "cluster_name": "bench",
                                "spark_version": "15.4.x-scala2.12",
                                "node_type_id": "i3.xlarge",
                                "num_workers": 1,
                            }
                        ),
                        "spark_jar_task": {"main_class_name": "Bench"},
                    }
                ],
            }
        )

        # The official hook reads an Airflow connection; requests honours REQUESTS_CA_BUNDLE.
        parts = urlsplit(url)
        os.environ["AIRFLOW_CONN_BENCH_OFFICIAL"] = json.dumps(
            {
                "conn_type": "databricks",
                "host": parts.hostname,
                "port": parts.port,
                "schema": "https",
                "password": token,
            }
        )
        os.environ["REQUESTS_CA_BUNDLE"] = cert
        official = OfficialHook(databricks_conn_id="bench_official")

        session = requests.Session()
        session.verify = cert
        session.headers["Authorization"] = f"Bearer {token}"
        raw_url = f"{url}/api/2.2/jobs/runs/get"

        clients: dict[str, Callable[[], object]] = {
            "raw requests.Session (ceiling)": lambda: session.get(raw_url, params={"run_id": run_id}).json(),
            "airflow-dbx-provider DatabricksHook": lambda: ours.get_run(run_id),
            "official DatabricksHook 7.x": lambda: official.get_run(run_id),
        }
        results: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(args.rounds):
            for name, call in clients.items():
                results[name].append(calls_per_second(call, args.seconds))
    finally:
        server.stop()

    median = {name: statistics.median(rates) for name, rates in results.items()}
    ours_rate = median["airflow-dbx-provider DatabricksHook"]
    official_rate = median["official DatabricksHook 7.x"]
    ceiling = median["raw requests.Session (ceiling)"]
    print(f"get_run over HTTPS, {args.rounds} interleaved rounds of {args.seconds:.0f} s, median calls/s")
    for name, rate in median.items():
        print(f"  {name:<40} {rate:8.1f} calls/s")
    print(f"  ours / official: {ours_rate / official_rate:.2f}x   ours / ceiling: {ours_rate / ceiling:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
