#!/usr/bin/env python3
"""Developer entry point (standard library only, Python 3.11+).

    python3 scripts/dev.py demo         # the example pipeline end to end, offline, then what it wrote
    python3 scripts/dev.py test [ARGS]  # pytest with ARGS passed through
    python3 scripts/dev.py airflow-ui   # Airflow UI + the emulator + the example DAGs, until Ctrl-C

Every subcommand first makes sure `.venv` exists and holds this project (`pip install uv`, then
`uv pip install -e '.[dev]'`); the install is skipped while pyproject.toml is unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
VENV_BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = VENV_BIN / "python"
DEMO_DIR = REPO / ".demo"
DAGS_FOLDER = REPO / "dags_examples"
ADMIN_TOKEN = "dbx-emulator-admin-token"
PIPELINE_DAG = "ingest_transform_delta"
# The demo runs the pipeline twice: a first window, then an overlapping one, to show the MERGE.
DEMO_WINDOWS = [("2024-01-01", "2024-01-07"), ("2024-01-05", "2024-01-10")]


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


# --------------------------------------------------------------------------- venv


def ensure_venv(venv_dir: Path = VENV, requirements: Sequence[str] = (f"{REPO}[dev]",)) -> Path:
    """Create `venv_dir` and install the project into it (editable), unless nothing changed since.

    Returns the venv's python. The install is skipped while pyproject.toml and `requirements`
    are what they were at the last successful install (a stamp file in the venv).
    """
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs under any python3 first)
        sys.exit(f"Python 3.11+ is required, this is {sys.version.split()[0]}")
    bin_dir = venv_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    if not python.exists():
        say(f"creating {venv_dir.relative_to(REPO)}")
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    stamp = venv_dir / ".dev-install-stamp"
    digest = hashlib.sha256(
        (REPO / "pyproject.toml").read_bytes() + repr(list(requirements)).encode()
    ).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == digest:
        return python
    uv = bin_dir / "uv"
    if not uv.exists():
        say(f"installing uv into {venv_dir.relative_to(REPO)}")
        run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv"])
    say(f"installing into {venv_dir.relative_to(REPO)} with uv: {' '.join(requirements)}")
    started = time.monotonic()
    editable = [arg for req in requirements for arg in (("-e", req) if req.startswith(str(REPO)) else (req,))]
    run([str(uv), "pip", "install", "--quiet", "--python", str(python), *editable])
    say(f"installed in {time.monotonic() - started:.0f}s")
    stamp.write_text(digest + "\n")
    return python


def run(cmd: Sequence[str], env: dict[str, str] | None = None, check: bool = True) -> int:
    code = subprocess.call(list(cmd), cwd=REPO, env=env)
    if check and code != 0:
        raise SystemExit(f"[dev] failed ({code}): {' '.join(cmd)}")
    return code


# --------------------------------------------------------------------------- processes


@dataclass
class Emulator:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    log_file: Path


def start_emulator(
    data_dir: Path, log_file: Path, extra_env: dict[str, str] | None = None, time_scale: float = 0.2
) -> Emulator:
    """Start `python -m airflow_dbx_provider.emulator` on a free port; wait for its "listening on" line.

    time_scale 0.2: a simulated 5 s cluster start takes 1 s, which keeps the demo short.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(extra_env or {})}
    log = log_file.open("w")
    process = subprocess.Popen(
        [
            str(PYTHON),
            "-u",
            "-m",
            "airflow_dbx_provider.emulator",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,  # Ctrl-C in the terminal reaches us only; we stop it ourselves
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    url = None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        log.write(line)
        log.flush()
        found = re.search(r"listening on (https?://\S+)", line)
        if found:
            url = found.group(1).rstrip("/")
            break
    if url is None:
        stop_process(process, "emulator")
        raise SystemExit(f"[dev] the emulator did not start; see {log_file}")
    # Keep draining stdout into the log so the emulator never blocks on a full pipe.
    _drain_in_background(process, log)
    return Emulator(process, url, data_dir, log_file)


def _drain_in_background(process: subprocess.Popen[str], sink: object) -> None:
    import threading

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            sink.write(line)  # type: ignore[attr-defined]
            sink.flush()  # type: ignore[attr-defined]

    threading.Thread(target=pump, daemon=True).start()


def stop_process(
    process: subprocess.Popen[str] | subprocess.Popen[bytes],
    name: str,
    sig: int = signal.SIGTERM,
    leader_only: bool = False,
    timeout: float = 30,
) -> None:
    """Signal the process (group) we started; escalate to SIGTERM, then SIGKILL, on the whole group.

    `leader_only`: `airflow standalone` shuts its components down itself on SIGINT, and
    signalling them all at once as well can leave it hanging.
    """
    if process.poll() is not None:
        return
    steps = [(sig, leader_only), (signal.SIGTERM, False), (signal.SIGKILL, False)]
    for number, (step_signal, only_leader) in enumerate(steps):
        with contextlib.suppress(ProcessLookupError):
            if only_leader:
                os.kill(process.pid, step_signal)
            else:
                os.killpg(process.pid, step_signal)
        try:
            process.wait(timeout=timeout if number < len(steps) - 1 else 10)
            break
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in {timeout:.0f}s, sending {signal.Signals(steps[number + 1][0]).name}")
    # Components that outlived their parent still belong to the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def airflow_env(airflow_home: Path, emulator_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every Airflow process of the demo and the UI shares (on top of `base`)."""
    env = dict(os.environ if base is None else base)
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(proxy, None)  # everything here is on 127.0.0.1
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "VIRTUAL_ENV": str(VENV),
            "NO_PROXY": "127.0.0.1,localhost",
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            # The hook reads the emulator URL as the workspace host and the password as the token.
            "AIRFLOW_CONN_DATABRICKS_DEFAULT": json.dumps(
                {"conn_type": "dbx", "host": emulator_url, "password": ADMIN_TOKEN}
            ),
        }
    )
    return env


# --------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    started = time.monotonic()
    ensure_venv()
    emulator_dir = DEMO_DIR / "emulator"
    airflow_home = DEMO_DIR / "airflow"
    logs = DEMO_DIR / "logs"
    # A fresh workspace every time, so the printed table history is the story of this demo only.
    shutil.rmtree(emulator_dir, ignore_errors=True)
    logs.mkdir(parents=True, exist_ok=True)
    airflow_home.mkdir(parents=True, exist_ok=True)

    say("starting the Databricks emulator")
    # Throttle every 4th call to the sample orders API, so the fetch notebook's backoff shows in its log.
    emulator = start_emulator(
        emulator_dir,
        logs / "emulator.log",
        {"DBX_SAMPLE_SOURCE_THROTTLE_EVERY": "4", "DBX_SAMPLE_SOURCE_RETRY_AFTER": "1"},
    )
    failures: list[str] = []
    try:
        say(f"emulator at {emulator.url} (log: {emulator.log_file.relative_to(REPO)})")
        env = airflow_env(airflow_home, emulator.url)
        say("airflow db migrate")
        if run_logged([str(VENV_BIN / "airflow"), "db", "migrate"], env, logs / "db-migrate.log") != 0:
            failures.append("airflow db migrate")
            return 1
        for start, end in DEMO_WINDOWS:
            conf = json.dumps({"start_date": start, "end_date": end})
            say(f"airflow dags test {PIPELINE_DAG} -c '{conf}'")
            log_path = logs / f"dags-test-{start}_{end}.log"
            t0 = time.monotonic()
            code = run_logged(
                [str(VENV_BIN / "airflow"), "dags", "test", PIPELINE_DAG, "-c", conf], env, log_path
            )
            outcome = "succeeded" if code == 0 else f"FAILED (exit {code})"
            say(f"  {outcome} in {time.monotonic() - t0:.0f}s (log: {log_path.relative_to(REPO)})")
            if code != 0:
                failures.append(f"dag run for {start}..{end}")
                break
        if not failures:
            report = subprocess.call(
                [
                    str(PYTHON),
                    str(REPO / "scripts" / "demo_report.py"),
                    "--emulator-url",
                    emulator.url,
                    "--data-dir",
                    str(emulator.data_dir),
                    "--token",
                    ADMIN_TOKEN,
                ],
                cwd=REPO,
                env=env,
            )
            if report != 0:
                failures.append("the report's checks")
    finally:
        say("stopping the emulator")
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


def ensure_browser() -> None:
    """Debian's Chromium and ChromeDriver for the UI test, installed when we may (root + apt-get)."""
    if shutil.which("chromium") and shutil.which("chromedriver"):
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        say("chromium/chromedriver missing and not root: the browser test will be skipped")
        return
    say("installing Debian's chromium and chromium-driver for the browser test")
    quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if run(["apt-get", "update", "-qq"], env=quiet, check=False) == 0:
        run(["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], env=quiet, check=False)


# The oldest Airflow we support (pyproject: apache-airflow>=3.1). A full test run also runs the
# Airflow-facing suites on it, in a venv of its own, so "works on every supported version" is
# checked, not assumed. (3.2.2 as resolved today fails a trivial dag.test() inside Airflow itself.)
OLDEST_AIRFLOW = "3.1.8"
OLDEST_AIRFLOW_SUITES = ["tests/hooks", "tests/operators", "tests/sensors", "tests/triggers"]


def cmd_test(args: argparse.Namespace, pytest_args: list[str]) -> int:
    """Lint (ruff), type-check (mypy), the whole pytest suite, then the Airflow-facing suites on
    the oldest supported Airflow; any failure fails the command. With pytest arguments, only pytest."""
    ensure_venv()
    ensure_browser()
    if pytest_args:
        return run([str(PYTHON), "-m", "pytest", *pytest_args], check=False)
    bin_dir = str(VENV_BIN)
    checks = [
        [f"{bin_dir}/ruff", "check", "."],
        [f"{bin_dir}/ruff", "format", "--check", "."],
        [f"{bin_dir}/mypy", "airflow_dbx_provider"],
    ]
    failed = [" ".join(cmd[:2]) for cmd in checks if run(cmd, check=False) != 0]
    if run([str(PYTHON), "-m", "pytest"], check=False) != 0:
        failed.append("pytest")
    oldest = ensure_venv(
        REPO / f".venv-airflow-{OLDEST_AIRFLOW}", [f"{REPO}[test]", f"apache-airflow=={OLDEST_AIRFLOW}"]
    )
    say(f"the Airflow-facing suites on Airflow {OLDEST_AIRFLOW}")
    if run([str(oldest), "-m", "pytest", "-p", "no:cacheprovider", *OLDEST_AIRFLOW_SUITES], check=False) != 0:
        failed.append(f"pytest on Airflow {OLDEST_AIRFLOW}")
    if failed:
        say(f"failed: {', '.join(failed)}")
        return 1
    return 0


# --------------------------------------------------------------------------- airflow-ui


def cmd_airflow_ui(args: argparse.Namespace) -> int:
    ensure_venv()
    ui_dir = DEMO_DIR / "ui"
    airflow_home = ui_dir / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    emulator = start_emulator(ui_dir / "emulator", ui_dir / "emulator.log")
    standalone: subprocess.Popen[bytes] | None = None
    try:
        log_path = ui_dir / "standalone.log"
        say(f"starting airflow standalone (log: {log_path.relative_to(REPO)})")
        standalone, base = start_standalone(airflow_env(airflow_home, emulator.url), args.port, log_path)
        if not wait_http(f"{base}/api/v2/monitor/health", timeout=180, process=standalone):
            _tail(log_path)
            return 1
        password = read_admin_password(airflow_home)
        print(
            f"\n  Airflow UI:  {base}\n  user:        admin\n  password:    {password}\n"
            f"  emulator:    {emulator.url} (token {ADMIN_TOKEN})\n\n  Ctrl-C stops everything.\n",
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
        stop_process(emulator.process, "emulator")


def start_standalone(env: dict[str, str], port: int, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`airflow standalone` on `port`, logging to `log_path`; returns the process and its base URL.

    It gets a session of its own, so a Ctrl-C in the terminal reaches only us; stop it with
    SIGINT to its leader (`stop_process(..., leader_only=True)`), which stops every component.
    """
    env = {
        **env,
        "AIRFLOW__API__PORT": str(port),
        # Task processes report to the api-server's execution API: it moves with the port.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "airflow"), "standalone"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, f"http://127.0.0.1:{port}"


def wait_http(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            say(f"process exited ({process.returncode}) before {url} answered")
            return False
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        time.sleep(1)
    say(f"{url} did not answer within {timeout:.0f}s")
    return False


def read_admin_password(airflow_home: Path, timeout: float = 60) -> str:
    """airflow standalone writes the generated admin password to this file on first start."""
    path = airflow_home / "simple_auth_manager_passwords.json.generated"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError, ValueError):
            return str(json.loads(path.read_text())["admin"])
        time.sleep(0.5)
    return f"(see {path})"


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
    sub.add_parser("test", help="run pytest (extra arguments are passed through)", add_help=False)
    ui = sub.add_parser("airflow-ui", help="airflow standalone + emulator + example DAGs, until Ctrl-C")
    ui.add_argument("--port", type=int, default=8080)
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
