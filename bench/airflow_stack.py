"""Airflow components as separate processes on a Postgres metadata DB, for the triggerer benchmarks.

    env = airflow_env(home, db_url, dags_folder, connections={"bench_ours": {...}})
    airflow_cli(env, "db", "migrate")
    proc = start_component(env, ["triggerer"], home / "triggerer.log")
    process_usage(proc.pid)  # RSS and CPU seconds of it and its children
    stop_component(proc)

Components run in their own session (``setsid``) so a stop reaches their children, and with
proxies stripped: they only ever talk to 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_BIN = Path(sys.executable).parent
FERNET_KEY = "0aP9cbjO1lYbB9f1tZT3ZQ4dPqY9wQ2h0c1KpN5rX6s="  # a fixed test key (urlsafe base64, 32 bytes)


def airflow_env(
    home: Path,
    db_url: str,
    dags_folder: Path,
    *,
    connections: dict[str, dict[str, Any]] | None = None,
    pythonpath: list[Path] | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper() and not k.startswith("AIRFLOW")}
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join(str(p) for p in [*(pythonpath or []), BENCH, REPO]),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__FERNET_KEY": FERNET_KEY,
            "AIRFLOW__API_AUTH__JWT_SECRET": "bench-jwt-secret-0123456789abcdef0123456789",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    for conn_id, conn in (connections or {}).items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    env.update(extra or {})
    return env


def airflow_cli(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(VENV_BIN / "airflow"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=env["AIRFLOW_HOME"],
    )
    if done.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def start_component(env: dict[str, str], args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    log = log_path.open("ab")
    return subprocess.Popen(
        [str(VENV_BIN / "airflow"), *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=env["AIRFLOW_HOME"],
        start_new_session=True,
    )


def stop_component(proc: subprocess.Popen[bytes], *, timeout: float = 20) -> None:
    """SIGTERM to the component's process group, SIGKILL to what is left after ``timeout``."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # children the component left behind
    except ProcessLookupError:
        pass
    proc.wait()


def process_usage(pid: int) -> dict[int, tuple[str, int, float]]:
    """``{pid: (name, rss_bytes, cpu_seconds)}`` of ``pid`` and its descendants (gone ones skipped)."""
    usage: dict[int, tuple[str, int, float]] = {}
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return usage
    for p in procs:
        try:
            with p.oneshot():
                cpu = p.cpu_times()
                usage[p.pid] = (" ".join(p.cmdline()[:3])[-60:], p.memory_info().rss, cpu.user + cpu.system)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            pass
    return usage


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 1.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not within {timeout:.0f} s")
