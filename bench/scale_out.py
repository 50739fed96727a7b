"""Scale-out on a real metadata DB: N deferred runs, two triggerers, one SIGKILLed mid-way.

A private PostgreSQL cluster (``bench/pg_cluster.py``), Airflow with the LocalExecutor as separate
processes: a scheduler, an api-server (the execution API the workers call), a dag-processor and two
triggerers (A and B), and the emulator in its own process. One DAG with a mapped
``DatabricksSubmitRunOperator(deferrable=True)`` of N (see :data:`DAG_SOURCE`) is triggered once.
When ``--kill-at`` of the tasks have succeeded and triggerer A holds triggers, A's whole process
group (supervisor and TriggerRunner) gets SIGKILL, as when its machine dies. Its triggers are
taken over by B once A's heartbeat is older than ``[triggerer] triggerer_health_check_threshold``.

Checked at the end (each line PASS or FAIL, exit 1 on any FAIL):

- every task instance succeeded on its first try, and its task log holds one completion line;
- every trigger fired one persisted event: one resume per task instance; event lines per run in
  the trigger logs, by triggerer (A may have logged an event it died before writing to the DB);
- no duplicate remote run (the emulator's ``runs_created`` == N) and no orphan (no active run);
- each triggerer process started one shared poller for the workspace (its log line, by pid);
- the survivor's CPU seconds per minute and RSS while it watched, for the deployment advice.

    .venv/bin/python bench/scale_out.py --n 500

Takes about 10-20 min on 2 shared cores at N=500 (about 2 task executions per second there), so it
does not fit CI's 8-minute budget: it is a documented command, with its last result in the README.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from airflow_stack import airflow_cli, airflow_env, process_usage, start_component, stop_component, wait_for
from emulator_process import EmulatorProcess
from pg_cluster import PostgresCluster, free_port, psycopg2_site

DAG_ID = "scale_out"
DAG_SOURCE = """
import os

from airflow.sdk import DAG

from airflow_dbx_provider.operators import DatabricksSubmitRunOperator

N = int(os.environ.get("SCALE_OUT_N", "500"))
TASK = {
    "task_key": "jar",
    "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1},
    "spark_jar_task": {"main_class_name": "Main"},
}

with DAG("scale_out", schedule=None, catchup=False, max_active_tasks=N):
    DatabricksSubmitRunOperator.partial(
        task_id="watch",
        databricks_conn_id="dbx_bench",
        tasks=[TASK],
        deferrable=True,
        polling_period_seconds=float(os.environ.get("SCALE_OUT_POLL", "2")),
    ).expand(run_name=[f"scale-out-{i}" for i in range(N)])
"""
EVENT_LINE = re.compile(r"Databricks run (\d+): run \d+ ")
DONE_LINE = re.compile(r"Databricks run (\d+) succeeded")
POLLER_LINE = re.compile(r"Started the shared Databricks run poller for (\S+) \(pid (\d+)\)")


def _sql(env: dict[str, str], query: str) -> list[tuple[str, ...]]:
    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    port = url.rsplit(":", 1)[1].split("/")[0]
    out = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "airflow",
            "-d",
            "airflow",
            "-At",
            "-F",
            "\t",
            "-c",
            query,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


def _ti_states(env: dict[str, str]) -> Counter[str]:
    rows = _sql(
        env,
        f"select coalesce(state, 'none'), count(*) from task_instance where dag_id = '{DAG_ID}' group by 1",
    )
    return Counter({state: int(count) for state, count in rows})


def _triggers_by_triggerer(env: dict[str, str]) -> dict[str, int]:
    rows = _sql(env, "select coalesce(triggerer_id::text, 'unassigned'), count(*) from trigger group by 1")
    return {job: int(count) for job, count in rows}


def _triggerer_job_ids(env: dict[str, str]) -> list[str]:
    return [r[0] for r in _sql(env, "select id from job where job_type = 'TriggererJob' order by id")]


class Watch(threading.Thread):
    """CPU and RSS of a component's process tree once a second, with the pids seen in it."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, int, float]] = []
        self.pids: set[int] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            usage = process_usage(self.pid)
            if usage:
                self.pids.update(usage)
                self.samples.append(
                    (time.time(), sum(u[1] for u in usage.values()), sum(u[2] for u in usage.values()))
                )
            self.stop.wait(1.0)


def _grep_logs(home: Path) -> tuple[dict[str, Counter[int]], dict[int, int], Counter[tuple[str, int]]]:
    """Event lines per triggerer job id ({job: {run_id: n}}), completion lines per run, poller starts."""
    events: dict[str, Counter[int]] = defaultdict(Counter)
    done: Counter[int] = Counter()
    pollers: Counter[tuple[str, int]] = Counter()
    for path in (home / "logs").rglob("*.log"):
        text = path.read_text(errors="replace")
        trigger_log = re.search(r"\.trigger\.(\d+)\.log$", path.name)
        if trigger_log:
            for run_id in EVENT_LINE.findall(text):
                events[trigger_log.group(1)][int(run_id)] += 1
        elif f"dag_id={DAG_ID}" in str(path):
            for run_id in DONE_LINE.findall(text):
                done[int(run_id)] += 1
        for host, pid in POLLER_LINE.findall(text):
            pollers[(host, int(pid))] += 1
    for path in home.glob("*.out"):  # the components' own output
        for host, pid in POLLER_LINE.findall(path.read_text(errors="replace")):
            pollers[(host, int(pid))] += 1
    return events, dict(done), pollers


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--poll", type=float, default=2.0, help="polling_period_seconds of the operator")
    parser.add_argument(
        "--time-scale", type=float, default=3.0, help="emulator time scale (3: runs of ~35 s)"
    )
    parser.add_argument(
        "--parallelism", type=int, default=8, help="[core] parallelism (LocalExecutor workers)"
    )
    parser.add_argument(
        "--kill-at", type=float, default=0.4, help="share of succeeded tasks when A is killed"
    )
    parser.add_argument("--timeout", type=float, default=2400, help="longest wait for the DAG run, seconds")
    args = parser.parse_args()
    n = args.n

    home = Path(tempfile.mkdtemp(prefix="scale-out-"))
    dags = home / "dags"
    dags.mkdir()
    (dags / "scale_out.py").write_text(DAG_SOURCE)
    api_port = free_port()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    watches: dict[str, Watch] = {}
    checks: list[tuple[bool, str]] = []
    started = time.time()
    with EmulatorProcess(time_scale=args.time_scale) as server, PostgresCluster() as pg:
        env = airflow_env(
            home,
            pg.url,
            dags,
            connections={"dbx_bench": {"conn_type": "dbx", "host": server.url, "password": server.token}},
            pythonpath=[psycopg2_site()],
            extra={
                "SCALE_OUT_N": str(n),
                "SCALE_OUT_POLL": str(args.poll),
                "AIRFLOW__CORE__PARALLELISM": str(args.parallelism),
                "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(n),
                "AIRFLOW__CORE__DEFAULT_POOL_TASK_SLOT_COUNT": str(n + 100),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            },
        )
        try:
            airflow_cli(env, "db", "migrate")
            print(
                f"[scale-out] Postgres on {pg.port}, Airflow home {home}, emulator {server.url}", flush=True
            )
            procs["api-server"] = start_component(
                env,
                ["api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1"],
                home / "api-server.out",
            )
            procs["dag-processor"] = start_component(env, ["dag-processor"], home / "dag-processor.out")
            procs["scheduler"] = start_component(env, ["scheduler"], home / "scheduler.out")
            job_ids: dict[str, str] = {}
            for name in ("A", "B"):  # one after the other, so each one's job id is known
                known = set(_triggerer_job_ids(env))
                procs[name] = start_component(env, ["triggerer"], home / f"triggerer-{name}.out")
                wait_for(lambda k=known: set(_triggerer_job_ids(env)) - k, 120, f"triggerer {name}'s job row")
                job_ids[name] = sorted(set(_triggerer_job_ids(env)) - known, key=int)[0]
                watches[name] = Watch(procs[name].pid)
                watches[name].start()
            wait_for(
                lambda: _sql(env, f"select 1 from serialized_dag where dag_id = '{DAG_ID}'"),
                180,
                "the DAG parsed",
            )
            airflow_cli(env, "dags", "unpause", DAG_ID)
            airflow_cli(env, "dags", "trigger", DAG_ID)
            print(
                f"[scale-out] triggerers A (job {job_ids['A']}) and B (job {job_ids['B']}); DAG triggered",
                flush=True,
            )
            deadline = time.monotonic() + args.timeout
            killed_at: float | None = None
            held_by_a: int = 0
            while time.monotonic() < deadline:
                states = _ti_states(env)
                held = _triggers_by_triggerer(env)
                print(
                    f"[scale-out] {time.time() - started:5.0f}s tasks {dict(states)} triggers {held}",
                    flush=True,
                )
                if (
                    killed_at is None
                    and states["success"] >= args.kill_at * n
                    and held.get(job_ids["A"], 0) > 0
                ):
                    held_by_a = held[job_ids["A"]]
                    os.killpg(procs["A"].pid, signal.SIGKILL)
                    killed_at = time.time()
                    watches["A"].stop.set()
                    print(f"[scale-out] SIGKILL to triggerer A holding {held_by_a} triggers", flush=True)
                if states["success"] + states["failed"] + states["upstream_failed"] >= n:
                    break
                time.sleep(5)
            finished = time.time()
        finally:
            for watch in watches.values():
                watch.stop.set()
            for proc in reversed(list(procs.values())):
                stop_component(proc)
        counters = server.counters()
        from_hook = _active_runs(server)
        states = _ti_states(env)
        tries = _sql(
            env,
            "select max(try_number), count(*) filter (where try_number > 1) "
            f"from task_instance where dag_id = '{DAG_ID}'",
        )
        xcoms = _sql(env, f"select value::text from xcom where dag_id = '{DAG_ID}' and key = 'run_id'")
    run_ids = {int(r[0].strip('"')) for r in xcoms}
    events, done, pollers = _grep_logs(home)
    checks.append(
        (killed_at is not None and held_by_a > 0, f"triggerer A was SIGKILLed holding {held_by_a} triggers")
    )
    checks.append((states["success"] == n, f"task instances: {dict(states)} (want {n} success)"))
    checks.append(
        (int(tries[0][1]) == 0, f"task instances retried: {tries[0][1]} (max try_number {tries[0][0]})")
    )
    checks.append((len(run_ids) == n, f"distinct run ids in XCom: {len(run_ids)}"))
    checks.append(
        (counters.get("runs_created") == n, f"remote runs created: {counters.get('runs_created')} (want {n})")
    )
    checks.append((from_hook == 0, f"active remote runs left: {from_hook}"))
    once = [r for r in run_ids if done.get(r) == 1]
    checks.append((len(once) == n, f"task logs with exactly one completion line: {len(once)} of {n}"))
    by_a, by_b = events.get(job_ids["A"], Counter()), events.get(job_ids["B"], Counter())
    fired = Counter({r: by_a[r] + by_b[r] for r in run_ids})
    unlogged = [r for r in run_ids if not fired[r]]
    checks.append(
        (
            all(by_b[r] <= 1 and by_a[r] <= 1 for r in run_ids),
            f"trigger event lines: A {sum(by_a.values())}, B {sum(by_b.values())}, none more than once per run "
            f"and triggerer; from both: {sum(1 for r in run_ids if by_a[r] and by_b[r])} (A logged it, then "
            f"died before the DB write); without one: {len(unlogged)} (the trigger log ends early, its "
            "task still resumed once: the DB, not the log, is the count)",
        ),
    )
    per_process: dict[str, Counter[str]] = {}
    for name in ("A", "B"):
        per_process[name] = Counter(host for (host, pid) in pollers if pid in watches[name].pids)
    checks.append(
        (
            all(list(c.values()) == [1] for c in per_process.values()),
            "shared poller starts per triggerer process and workspace: "
            + ", ".join(f"{k}: {dict(v)}" for k, v in per_process.items()),
        ),
    )
    survivor = [s for s in watches["B"].samples if killed_at is None or s[0] >= killed_at]
    if len(survivor) >= 2:
        minutes = (survivor[-1][0] - survivor[0][0]) / 60
        cpu = (survivor[-1][2] - survivor[0][2]) / minutes
        rss = max(s[1] for s in survivor) / 2**20
        print(
            f"[scale-out] survivor B after the kill: CPU {cpu:.1f} s/min, RSS peak {rss:.0f} MB", flush=True
        )
    all_b = watches["B"].samples
    print(
        f"[scale-out] N={n} wall {finished - started:.0f}s (DAG run {finished - started:.0f}s incl. start-up), "
        f"B total CPU {all_b[-1][2] - all_b[0][2]:.0f}s, peak RSS {max(s[1] for s in all_b) / 2**20:.0f} MB; "
        f"requests {_request_summary(counters)}",
        flush=True,
    )
    for ok, line in checks:
        print(f"{'PASS' if ok else 'FAIL'} {line}", flush=True)
    print(f"[scale-out] logs kept in {home}", flush=True)
    return 0 if all(ok for ok, _ in checks) else 1


def _active_runs(server: EmulatorProcess) -> int:
    page = server.admin("GET", "/api/2.2/jobs/runs/list?active_only=true&limit=25")
    return len(page.get("runs") or [])


def _request_summary(counters: dict[str, Any]) -> str:
    totals: Counter[str] = Counter()
    for name, by_status in counters.get("requests", {}).items():
        totals[name.split(" ", 1)[1].rsplit("/jobs/", 1)[-1]] += sum(by_status.values())
    return ", ".join(f"{k} {v}" for k, v in totals.most_common(6))


if __name__ == "__main__":
    raise SystemExit(main())
