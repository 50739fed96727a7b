#!/usr/bin/env python3
"""Developer entry point (standard library only, Python 3.11+).

    python3 scripts/dev.py demo         # the example pipeline end to end, offline, then what it wrote
    python3 scripts/dev.py test         # every nox session (noxfile.py): lint, types, pytest, oldest Airflow
    python3 scripts/dev.py test ARGS    # only pytest, with ARGS, in .venv
    python3 scripts/dev.py airflow-ui   # Airflow UI + the emulator + the example DAGs, until Ctrl-C

Every subcommand first brings `.venv` to exactly what uv.lock pins for the `dev` extra, with this
project editable: `python -m venv` and `pip install uv` the first time, then `uv sync --locked`,
which takes milliseconds when nothing changed. Processes are started and stopped by
tests/support/processes.py, which the end-to-end tests share.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import venv
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.support.processes: standard library only, shared with the e2e tests

from tests.support.processes import (  # noqa: E402
    ADMIN_TOKEN,
    DAGS_FOLDER,
    airflow_env,
    read_admin_password,
    say,
    start_emulator,
    start_orders_api,
    start_standalone,
    stop_process,
    wait_http,
)

VENV = REPO / ".venv"
VENV_BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = VENV_BIN / "python"
DEMO_DIR = REPO / ".demo"
PIPELINE_DAG = "ingest_transform_delta"
# The demo runs the pipeline twice: a first window, then an overlapping one, to show the MERGE.
DEMO_WINDOWS = [("2024-01-01", "2024-01-07"), ("2024-01-05", "2024-01-10")]


# --------------------------------------------------------------------------- venv


def ensure_venv(compile_bytecode: bool = False) -> Path:
    """Make .venv hold exactly what uv.lock pins for the dev extra, this project editable; return its python.

    `uv sync --locked` also fails, saying so, when pyproject.toml changed without `uv lock`.
    ``compile_bytecode`` (the demo, the UI: they start Airflow and notebook processes) compiles the
    installed packages once, so that no process compiles Airflow or pandas from source again
    where PYTHONDONTWRITEBYTECODE is set; the test command only needs nox and uv from .venv.
    """
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs under any python3 first)
        sys.exit(f"Python 3.11+ is required, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    uv = VENV_BIN / "uv"
    if not uv.exists():
        pin = _locked_version("uv")
        say(f"installing uv {pin} into .venv")
        run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"uv=={pin}"])
    started = time.monotonic()
    # UV_PROJECT_ENVIRONMENT: .venv whatever venv the caller has activated.
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    if compile_bytecode:
        env["UV_COMPILE_BYTECODE"] = "1"
    run([str(uv), "sync", "--locked", "--extra", "dev", "--quiet"], env=env)
    if time.monotonic() - started > 2:
        say(f".venv synced with uv.lock in {time.monotonic() - started:.0f}s")
    return PYTHON


def _locked_version(package: str) -> str:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    versions = [entry["version"] for entry in lock["package"] if entry["name"] == package]
    if not versions:
        raise SystemExit(f"[dev] uv.lock pins no {package}")
    return versions[0]


def run(cmd: Sequence[str], env: dict[str, str] | None = None, check: bool = True) -> int:
    code = subprocess.call(list(cmd), cwd=REPO, env=env)
    if check and code != 0:
        raise SystemExit(f"[dev] failed ({code}): {' '.join(cmd)}")
    return code


# --------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    started = time.monotonic()
    ensure_venv(compile_bytecode=True)
    emulator_dir = DEMO_DIR / "emulator"
    airflow_home = DEMO_DIR / "airflow"
    logs = DEMO_DIR / "logs"
    # A fresh workspace every time, so the printed table history is the story of this demo only.
    shutil.rmtree(emulator_dir, ignore_errors=True)
    logs.mkdir(parents=True, exist_ok=True)
    airflow_home.mkdir(parents=True, exist_ok=True)

    say("starting the Databricks emulator and the demo orders API")
    emulator = start_emulator(emulator_dir, logs / "emulator.log", python=PYTHON)
    # Throttle every 4th call to the orders API, so the fetch notebook's backoff shows in its log.
    orders_api, orders_url = start_orders_api(
        logs / "orders-api.log",
        {"ORDERS_API_THROTTLE_EVERY": "4", "ORDERS_API_RETRY_AFTER": "1"},
        python=PYTHON,
    )
    failures: list[str] = []
    try:
        say(
            f"emulator at {emulator.url} (log: {emulator.log_file.relative_to(REPO)}); orders API at {orders_url}"
        )
        env = airflow_env(airflow_home, emulator.url, bin_dir=VENV_BIN, orders_api_url=orders_url)
        say("airflow db migrate")
        if run_logged([str(VENV_BIN / "airflow"), "db", "migrate"], env, logs / "db-migrate.log") != 0:
            failures.append("airflow db migrate")
            return 1
        windows = [f"{start}:{end}" for start, end in DEMO_WINDOWS]
        say(f"the {PIPELINE_DAG} DAG through Airflow (dag.test), windows {', '.join(windows)}")
        status = logs / "dag-runs.jsonl"
        status.unlink(missing_ok=True)
        log_path = logs / "dag-runs.log"
        code = run_logged(
            [str(PYTHON), str(REPO / "scripts" / "demo_runs.py"), str(status), *windows], env, log_path
        )
        done = [json.loads(line) for line in status.read_text().splitlines()] if status.exists() else []
        for run in done:
            failed = {task: state for task, state in run["tasks"].items() if state != "success"}
            detail = f"; not successful: {failed}" if failed else ""
            say(f"  window {run['window']}: {run['state']} in {run['seconds']:.0f}s{detail}")
        say(f"  Airflow's log: {log_path.relative_to(REPO)}")
        if code != 0 or len(done) != len(windows):
            failures.append("the DAG runs")
        if not failures:
            report = subprocess.call(
                [
                    str(PYTHON),
                    str(REPO / "scripts" / "demo_report.py"),
                    "--emulator-url",
                    emulator.url,
                    "--data-dir",
                    str(emulator.data_dir),
                ],
                cwd=REPO,
                env={**env, "DATABRICKS_TOKEN": ADMIN_TOKEN},  # never in argv
            )
            if report != 0:
                failures.append("the report's checks")
    finally:
        say("stopping the emulator and the orders API")
        stop_process(orders_api, "orders API")
        stop_process(emulator.process, "emulator")
    elapsed = time.monotonic() - started
    if failures:
        say(f"demo FAILED after {elapsed:.0f}s: {', '.join(failures)}")
        return 1
    say(f"demo finished in {elapsed:.0f}s")
    return 0


def run_logged(cmd: Sequence[str], env: dict[str, str], log_path: Path) -> int:
    """Run with all output in log_path; print its tail when the command fails."""
    with log_path.open("w") as log:
        code = subprocess.call(list(cmd), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        _tail(log_path)
    return code


def _tail(path: Path, lines: int = 40) -> None:
    text = path.read_text(errors="replace").splitlines()
    print("\n".join(text[-lines:]))


# --------------------------------------------------------------------------- test


def cmd_test(args: argparse.Namespace, pytest_args: list[str]) -> int:
    """Without arguments, every nox session of noxfile.py (what CI runs); with arguments, only
    pytest with them, in the tests session's venv (which, unlike .venv, has the official clients
    that the fidelity tests compare against)."""
    ensure_venv()
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    nox = str(VENV_BIN / "nox")
    if pytest_args:
        return run([nox, "-s", "tests", "--", *pytest_args], env=env, check=False)
    failed = (
        []
        if run([nox, "-s", "lint", "typecheck", "browser"], env=env, check=False) == 0
        else ["lint/typecheck"]
    )
    # Most of the suite waits (simulated runs, real Airflow processes, polling) rather than computes,
    # so the end-to-end tests and the oldest-Airflow leg run beside it, each with its output kept in
    # a file and printed after: the three together take about as long as the suite alone.
    beside = {name: REPO / ".nox" / f"{name}.log" for name in ("e2e", "tests_oldest_airflow")}
    started: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, log_path in beside.items():
            log_path.parent.mkdir(exist_ok=True)
            with log_path.open("w") as log:
                started[name] = subprocess.Popen(
                    [nox, "-s", name],
                    cwd=REPO,
                    env={**env, "DBX_TEST_WORKERS": "2"} if name == "tests_oldest_airflow" else env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, which stop_process signals as a whole
                )
        if run([nox, "-s", "tests"], env=env, check=False) != 0:
            failed.append("tests")
        codes = {name: process.wait() for name, process in started.items()}
    finally:
        for name, process in started.items():
            if process.poll() is None:  # interrupted: stop it with us
                stop_process(process, name)
    for name, log_path in beside.items():
        say(f"{name} (ran beside the suite; log: {log_path.relative_to(REPO)}):")
        print(log_path.read_text(errors="replace"), flush=True)
        if codes[name] != 0:
            failed.append(name)
    if failed:
        say(f"failed: {', '.join(failed)}")
        return 1
    return 0


# --------------------------------------------------------------------------- airflow-ui

# A start that is still writing its log is waited for up to --start-timeout; one whose log has
# been silent this long is taken as stuck.
STALL_TIMEOUT = 300


def cmd_airflow_ui(args: argparse.Namespace) -> int:
    ensure_venv(compile_bytecode=True)
    ui_dir = DEMO_DIR / "ui"
    airflow_home = ui_dir / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    emulator = start_emulator(ui_dir / "emulator", ui_dir / "emulator.log", python=PYTHON)
    orders_api, orders_url = start_orders_api(ui_dir / "orders-api.log", python=PYTHON)
    standalone: subprocess.Popen[bytes] | None = None
    try:
        log_path = ui_dir / "standalone.log"
        say(f"starting airflow standalone (log: {log_path.relative_to(REPO)})")
        env = airflow_env(airflow_home, emulator.url, bin_dir=VENV_BIN, orders_api_url=orders_url)
        standalone, base = start_standalone(env, args.port, log_path)
        healthy = wait_http(
            f"{base}/api/v2/monitor/health",
            timeout=args.start_timeout,
            process=standalone,
            progress_log=log_path,
            stall_timeout=STALL_TIMEOUT,
            report_every=15,
        )
        if not healthy:
            _tail(log_path)
            return 1
        password = read_admin_password(airflow_home)
        print(
            f"\n  Airflow UI:  {base}\n  user:        admin\n  password:    {password}\n"
            f"  emulator:    {emulator.url} (token {ADMIN_TOKEN})\n"
            f"  DAG folder:  {DAGS_FOLDER.relative_to(REPO)}/ (add a .py file there; picked up within ~10 s)\n"
            "\n  Ctrl-C stops everything.\n",
            flush=True,
        )
        while standalone.poll() is None:
            time.sleep(1)
        say(f"airflow standalone exited ({standalone.returncode}); see {log_path}")
        return 1
    except KeyboardInterrupt:
        print()
        say("stopping")
        return 0
    finally:
        if standalone is not None:
            stop_process(standalone, "airflow standalone", signal.SIGINT, leader_only=True)
        stop_process(orders_api, "orders API")
        stop_process(emulator.process, "emulator")


# --------------------------------------------------------------------------- main


@contextlib.contextmanager
def _no_traceback_on_ctrl_c() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _install_signal_handlers() -> None:
    """Ctrl-C and SIGTERM both mean "stop what you started, then exit".

    A Python-level handler also matters for children: an *ignored* SIGINT (as in a background
    job of a script) would be inherited by `airflow standalone`, which then could not be stopped
    with SIGINT; a handled one is reset to the default on exec.
    """
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/dev.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the example pipeline through Airflow against the emulator")
    sub.add_parser("test", help="every nox session; with arguments, only pytest with them", add_help=False)
    ui = sub.add_parser("airflow-ui", help="airflow standalone + emulator + example DAGs, until Ctrl-C")
    ui.add_argument("--port", type=int, default=8080)
    ui.add_argument(
        "--start-timeout",
        type=float,
        default=900,
        metavar="SECONDS",
        help="give up when the UI is not up after this long (0: wait while Airflow keeps logging;"
        f" it is given up on after {STALL_TIMEOUT}s without a new log line either way; default 900)",
    )
    args, rest = parser.parse_known_args(argv)
    _install_signal_handlers()
    with _no_traceback_on_ctrl_c():
        if args.command == "test":
            return cmd_test(args, rest)
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "demo":
            return cmd_demo(args)
        return cmd_airflow_ui(args)


if __name__ == "__main__":
    sys.exit(main())
