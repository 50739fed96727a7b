"""Start, watch and stop the processes of a local setup: the emulator, `airflow standalone`.

Shared by `scripts/dev.py` (the demo and the local UI) and the end-to-end tests. Standard library
only: `scripts/dev.py` imports this under whatever `python3` runs it, before any venv exists.
Programs run from the venv whose `bin` directory is passed in (default: the running Python's).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags_examples"
ADMIN_TOKEN = "dbx-emulator-admin-token"  # the emulator's default admin token


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def default_bin_dir() -> Path:
    """The `bin` directory of the venv running this code (not resolved: a venv's python is a link)."""
    return Path(sys.executable).parent


@dataclass
class Emulator:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    log_file: Path


def start_emulator(
    data_dir: Path,
    log_file: Path,
    extra_env: dict[str, str] | None = None,
    time_scale: float = 0.2,
    python: Path | str | None = None,
    startup_timeout: float = 60,
) -> Emulator:
    """Start `python -m airflow_dbx_provider.emulator` on a free port; wait for its "listening on" line.

    time_scale 0.2: a simulated 5 s cluster start takes 1 s, which keeps the demo short.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    # The admin token by file (mode 0600), never on the command line where every process sees it.
    token_file = data_dir / "admin_token"
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(ADMIN_TOKEN + "\n")
    os.chmod(token_file, 0o600)
    env = {**os.environ, **(extra_env or {})}
    log = log_file.open("w")
    process = subprocess.Popen(
        [
            str(python or sys.executable),
            "-u",
            "-m",
            "airflow_dbx_provider.emulator",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--time-scale",
            str(time_scale),
            f"--token-file={token_file}",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,  # Ctrl-C in the terminal reaches us only; we stop it ourselves
    )
    assert process.stdout is not None
    url = _read_listening_url(process.stdout, log, startup_timeout)
    if url is None:
        stop_process(process, "emulator")
        raise SystemExit(f"[dev] the emulator did not start; see {log_file}")
    # Keep draining stdout into the log so the emulator never blocks on a full pipe.
    _drain_in_background(process.stdout, log)
    return Emulator(process, url, data_dir, log_file)


def _read_listening_url(stdout: IO[str], log: IO[str], timeout: float) -> str | None:
    """Copy stdout lines into `log` until one says "listening on URL"; None on EOF or timeout."""
    found: list[str] = []

    def read() -> None:
        for line in stdout:
            log.write(line)
            log.flush()
            match = re.search(r"listening on (https?://\S+)", line)
            if match:
                found.append(match.group(1).rstrip("/"))
                return

    # A thread, so that a silent emulator cannot block us past the timeout on readline().
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return found[0] if found else None


def _drain_in_background(stdout: IO[str], sink: IO[str]) -> None:
    def pump() -> None:
        for line in stdout:
            sink.write(line)
            sink.flush()

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


def airflow_env(
    airflow_home: Path,
    emulator_url: str,
    base: dict[str, str] | None = None,
    bin_dir: Path | None = None,
    orders_api_url: str | None = None,
) -> dict[str, str]:
    """The environment every Airflow process of the demo, the UI and the e2e tests shares.

    On top of `base` (default: this process's environment); `bin_dir` is the venv whose `airflow`
    runs (default: the running Python's); `orders_api_url` becomes the `orders_api_default`
    connection the example pipeline reads its source from.
    """
    bin_dir = bin_dir or default_bin_dir()
    env = dict(os.environ if base is None else base)
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(proxy, None)  # everything here is on 127.0.0.1
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "VIRTUAL_ENV": str(bin_dir.parent),
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
    if orders_api_url:
        env["AIRFLOW_CONN_ORDERS_API_DEFAULT"] = json.dumps({"conn_type": "http", "host": orders_api_url})
    return env


def start_orders_api(
    log_file: Path, extra_env: dict[str, str] | None = None, python: Path | str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The example pipeline's demo orders API (`python -m orders_api` in dags_examples/) on a free
    port of 127.0.0.1; returns the process and its base URL (…/v1) once it answers."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = log_file.open("wb")
    process = subprocess.Popen(
        [str(python or sys.executable), "-u", "-m", "orders_api", "--host", "127.0.0.1", "--port", str(port)],
        cwd=DAGS_FOLDER,
        env={**os.environ, **(extra_env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/v1"
    if not wait_http(f"{url}/health", timeout=30, process=process):
        stop_process(process, "orders API")
        raise SystemExit(f"[dev] the orders API did not start; see {log_file}")
    return process, url


def start_standalone(env: dict[str, str], port: int, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`airflow standalone` (the first `airflow` on env's PATH) on `port`, logging to `log_path`.

    Returns the process and its base URL. It gets a session of its own, so a Ctrl-C in the
    terminal reaches only us; stop it with SIGINT to its leader
    (`stop_process(..., leader_only=True)`), which stops every component.
    """
    airflow = shutil.which("airflow", path=env.get("PATH"))
    if airflow is None:
        raise SystemExit(f"[dev] no `airflow` on PATH={env.get('PATH')}")
    env = {
        **env,
        "AIRFLOW__API__PORT": str(port),
        # Task processes report to the api-server's execution API: it moves with the port.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [airflow, "standalone"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, f"http://127.0.0.1:{port}"


def wait_http(
    url: str,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    progress_log: Path | None = None,
    stall_timeout: float | None = None,
    report_every: float | None = None,
    report: Callable[[str], None] = say,
) -> bool:
    """Wait until a GET of `url` answers 200; False when it does not come.

    Gives up when `process` exits, after `timeout` seconds (0: no limit), or, given
    `progress_log` and `stall_timeout`, once that log has not grown for `stall_timeout` seconds:
    a slow start that is still making progress is waited for, a stuck one is not. With
    `report_every`, says that often what it is waiting for and the log's last line.
    """
    started = time.monotonic()
    last_growth = last_report = started
    size = _size(progress_log)
    while True:
        if process is not None and process.poll() is not None:
            report(f"process exited ({process.returncode}) before {url} answered")
            return False
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        now = time.monotonic()
        new_size = _size(progress_log)
        if new_size != size:
            size, last_growth = new_size, now
        if timeout and now - started >= timeout:
            report(f"{url} did not answer within {timeout:.0f}s")
            return False
        if stall_timeout is not None and progress_log is not None and now - last_growth >= stall_timeout:
            report(f"{url} did not answer, and {progress_log} has not grown for {stall_timeout:.0f}s")
            return False
        if report_every is not None and now - last_report >= report_every:
            last_report = now
            quiet = f", its log quiet for {now - last_growth:.0f}s" if now - last_growth >= 5 else ""
            last_line = f"; last log line: {_last_line(progress_log)}" if progress_log else ""
            report(f"waiting for {url} ({now - started:.0f}s{quiet}){last_line}")
        time.sleep(1)


def _size(path: Path | None) -> int:
    if path is None:
        return 0
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _last_line(path: Path, limit: int = 160) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 4096))
            lines = [line for line in handle.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no log yet)"
    if not lines:
        return "(empty)"
    line = lines[-1].strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


def read_admin_password(airflow_home: Path, timeout: float = 60) -> str:
    """airflow standalone writes the generated admin password to this file on first start."""
    path = airflow_home / "simple_auth_manager_passwords.json.generated"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError, ValueError):
            return str(json.loads(path.read_text())["admin"])
        time.sleep(0.5)
    return f"(see {path})"
