"""The server process: CLI startup line and signals, TLS, port 0, context manager."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer
from airflow_dbx_provider.emulator.cli import build_parser, config_from_args, parse_principal


def test_cli_prints_one_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_dbx_provider.emulator", "--port", "0", "--data-dir", str(tmp_path),
         "--principal", "bob@example.com:bob-token:user", "--no-rate-limits"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.removeprefix("listening on ")
        me = requests.get(
            url + "/api/2.0/preview/scim/v2/Me", headers={"Authorization": "Bearer bob-token"}, timeout=5
        )
        assert me.json()["userName"] == "bob@example.com"
        assert me.headers["X-Databricks-Org-Id"] == "1234567890123456"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert proc.stdout.read() == ""
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)


def test_cli_flags_build_the_config(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["--token", "t0", "--time-scale", "0.5", "--rate-limit", "runs_read=7", "--principal", "sp1:tok:sp:secret",
         "--fault", "jobs:503:0.5", "--strict-versions", "--tls"]
    )  # fmt: skip
    config = config_from_args(args)
    assert config.admin_token == "t0" and config.time_scale == 0.5 and config.tls and config.strict_versions
    assert config.rate_limits["runs_read"] == 7
    assert config.principals[0].kind == "service_principal" and config.principals[0].client_secret == "secret"
    assert parse_principal("root@x:tk:admin").is_admin


def test_tls_self_signed(tmp_path: Path) -> None:
    with EmulatorServer(EmulatorConfig(data_dir=tmp_path, tls=True)) as server:
        assert server.url.startswith("https://127.0.0.1:")
        cert = str(server.config.cert_file)
        response = requests.get(
            server.url + "/api/2.2/jobs/list",
            headers={"Authorization": f"Bearer {server.admin_token}"},
            verify=cert,
            timeout=5,
        )
        assert response.status_code == 200
        assert server.state is not None and server.state.base_url == server.url


def test_two_servers_on_port_zero(tmp_path: Path) -> None:
    with (
        EmulatorServer(EmulatorConfig(data_dir=tmp_path / "a")) as a,
        EmulatorServer(EmulatorConfig(data_dir=tmp_path / "b")) as b,
    ):
        assert a.port != b.port and a.port > 0
        assert requests.get(a.url + "/_emulator/health", timeout=5).ok
        assert requests.get(b.url + "/_emulator/health", timeout=5).ok
