"""The emulator in its own process for benchmarks (so its CPU is not the client's), plus admin calls.

with EmulatorProcess(tls=True, rate_limits=False) as server:
    server.url, server.token, server.cert, server.reset(), server.counters(), server.slow(0.1)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ADMIN_TOKEN = "bench-admin-token"


class EmulatorProcess:
    def __init__(self, *, tls: bool = False, rate_limits: bool = True, time_scale: float = 1.0) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="bench-emulator-"))
        self.args = [
            sys.executable,
            "-m",
            "airflow_dbx_provider.emulator",
            "--port",
            "0",
            "--data-dir",
            str(self.data_dir / "data"),
            "--token",
            ADMIN_TOKEN,
            "--time-scale",
            str(time_scale),
        ]
        if tls:
            self.args += ["--tls", "--tls-dir", str(self.data_dir / "tls")]
        if not rate_limits:
            self.args.append("--no-rate-limits")
        self.tls = tls
        self.token = ADMIN_TOKEN
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None

    @property
    def cert(self) -> str | None:
        return str(self.data_dir / "tls" / "emulator-cert.pem") if self.tls else None

    def __enter__(self) -> EmulatorProcess:
        env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
        if os.environ.get("BENCH_EMULATOR_SRC"):
            env["PYTHONPATH"] = os.environ["BENCH_EMULATOR_SRC"]
        self._proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=self.data_dir,
        )
        assert self._proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self._proc.stdout.readline()
            if line.startswith("listening on "):
                self.url = line.split(" ", 2)[2].strip()
                break
            if not line and self._proc.poll() is not None:
                raise RuntimeError(f"the emulator exited with {self._proc.returncode}")
        else:
            raise RuntimeError("the emulator did not start within 60 s")
        stdout = self._proc.stdout
        threading.Thread(target=lambda: [None for _ in stdout], daemon=True).start()  # drain
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import ssl

        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        context = ssl.create_default_context(cafile=self.cert) if self.tls else None
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
        with opener.open(request, timeout=60) as response:
            return json.loads(response.read() or b"{}")

    def reset(self) -> None:
        self.admin("POST", "/_emulator/reset")

    def counters(self) -> dict[str, Any]:
        return dict(self.admin("GET", "/_emulator/counters"))

    def slow(self, seconds: float) -> None:
        """Every API response takes ``seconds`` longer (0: back to normal)."""
        if seconds > 0:
            self.admin(
                "POST",
                "/_emulator/faults",
                {"target": "*", "kind": "slow", "probability": 1.0, "slow_seconds": seconds},
            )
        else:
            self.admin("DELETE", "/_emulator/faults")
