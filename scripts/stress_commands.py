#!/usr/bin/env python3
"""Run the README's long-running commands N times in a row and report each outcome (not in CI).

    python3 scripts/stress_commands.py [--runs 10] [--skip-ui] [--skip-demo]

`demo`: `scripts/dev.py demo` must exit 0 every time. `airflow-ui`: `scripts/dev.py airflow-ui`
must print its ready banner ("Ctrl-C stops everything"), then stop cleanly (exit 0) on SIGINT, and
leave no process of its session behind. Prints one line per run and a summary; exits 1 on any
failure. Logs: .demo/stress/.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOGS = REPO / ".demo" / "stress"
READY = "Ctrl-C stops everything"


def run_demo(index: int) -> tuple[bool, float, str]:
    log = LOGS / f"demo-{index}.log"
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.call(
            [sys.executable, "scripts/dev.py", "demo"], cwd=REPO, stdout=out, stderr=subprocess.STDOUT
        )
    return code == 0, time.monotonic() - started, f"exit {code}, log {log.relative_to(REPO)}"


def run_ui(index: int, timeout: float) -> tuple[bool, float, str]:
    log = LOGS / f"airflow-ui-{index}.log"
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/dev.py", "airflow-ui", "--port", "8089"],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        ready = False
        while time.monotonic() < deadline and process.poll() is None:
            if READY in log.read_text(errors="replace"):
                ready = True
                break
            time.sleep(1)
        up = time.monotonic() - started
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in its terminal sends
        try:
            code = process.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
    leftovers = subprocess.run(
        ["pgrep", "-s", str(process.pid)], capture_output=True, text=True
    ).stdout.split()
    ok = ready and code == 0 and not leftovers
    detail = f"ready in {up:.0f}s, exit {code}" if ready else f"not ready (exit {process.returncode})"
    if leftovers:
        detail += f", {len(leftovers)} processes left"
    return ok, time.monotonic() - started, f"{detail}, log {log.relative_to(REPO)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-ui", action="store_true")
    parser.add_argument("--ui-timeout", type=float, default=600, help="seconds to wait for the ready banner")
    args = parser.parse_args()
    LOGS.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[bool]] = {}
    for name, skip, once in (
        ("demo", args.skip_demo, run_demo),
        ("airflow-ui", args.skip_ui, lambda i: run_ui(i, args.ui_timeout)),
    ):
        if skip:
            continue
        for index in range(1, args.runs + 1):
            ok, seconds, detail = once(index)
            results.setdefault(name, []).append(ok)
            print(
                f"{name} {index}/{args.runs}: {'ok' if ok else 'FAILED'} in {seconds:.0f}s ({detail})",
                flush=True,
            )
    for name, oks in results.items():
        print(f"{name}: {sum(oks)}/{len(oks)} succeeded")
    return 0 if all(all(oks) for oks in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
