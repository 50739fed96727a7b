"""What a notebook of an ordinary user can reach (issue 11, "Notebooks must not become admin").

The emulator runs as `dbx-emulator` in its own process, started the way docker compose starts
it: the admin token in a 0600 file (`--token-file`), principals in a `--config` file, and an
`AIRFLOW_CONN_*` variable holding the admin token in the emulator's environment. bob's notebook
then reports its environment and the emulator's command line: neither may hold a secret.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ADMIN = "admin-LEAKCANARY-token-file-3e1d"
BOB = "bob-LEAKCANARY-config-token-77aa"
SP_SECRET = "sp-LEAKCANARY-client-secret-0b9c"

NOTEBOOK = """# Databricks notebook source
import json, os
cmdline = open(f"/proc/{os.getppid()}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
dbutils.notebook.exit(json.dumps({"env": dict(os.environ), "cmdline": cmdline}))
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("isolation")
    token_file = root / "admin_token"
    token_file.write_text(ADMIN + "\n")
    token_file.chmod(0o600)
    principals = root / "principals.json"
    principals.write_text(
        json.dumps(
            {
                "principals": [
                    {"name": "bob@example.com", "token": BOB},
                    {"name": "etl-sp", "kind": "service_principal", "client_secret": SP_SECRET},
                ]
            }
        )
    )
    data_dir = root / "data"
    env = {**os.environ, "AIRFLOW_CONN_DATABRICKS_DEFAULT": f"dbx://x?token={ADMIN}"}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "airflow_dbx_provider.emulator", "--port", "0",
            "--data-dir", str(data_dir), "--time-scale", "0.02", "--no-rate-limits",
            f"--token-file={token_file}", "--config", str(principals),
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line + (proc.stderr.read() if proc.stderr else "")
        yield line.split()[-1], data_dir
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _call(url: str, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs
    )


def _bobs_notebook_report(url: str) -> dict[str, Any]:
    content = base64.b64encode(NOTEBOOK.encode()).decode()
    path = "/Users/bob@example.com/report"
    response = _call(url, "POST", "/api/2.0/workspace/import", BOB,
                     json={"path": path, "format": "SOURCE", "language": "PYTHON",
                           "content": content, "overwrite": True})  # fmt: skip
    assert response.status_code == 200, response.text
    response = _call(url, "POST", "/api/2.2/jobs/runs/submit", BOB,
                     json={"run_name": "report", "tasks": [{"task_key": "t",
                           "new_cluster": {"spark_version": "15.4.x-scala2.12",
                                           "node_type_id": "i3.xlarge", "num_workers": 0},
                           "notebook_task": {"notebook_path": path}}]})  # fmt: skip
    assert response.status_code == 200, response.text
    run_id = response.json()["run_id"]
    deadline = time.monotonic() + 60
    while True:
        run = _call(url, "GET", "/api/2.2/jobs/runs/get", BOB, params={"run_id": run_id}).json()
        if run["state"]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED"):
            break
        assert time.monotonic() < deadline, run["state"]
        time.sleep(0.1)
    task_run = run["tasks"][0]["run_id"]
    output = _call(url, "GET", "/api/2.2/jobs/runs/get-output", BOB, params={"run_id": task_run}).json()
    assert "notebook_output" in output and "result" in output["notebook_output"], output
    return dict(json.loads(output["notebook_output"]["result"]))


@pytest.fixture(scope="module")
def report(emulator: tuple[str, Path]) -> dict[str, Any]:
    return _bobs_notebook_report(emulator[0])


def test_token_file_sets_the_admin_token(emulator: tuple[str, Path]) -> None:
    url, _ = emulator
    assert _call(url, "GET", "/api/2.0/preview/scim/v2/Me", ADMIN).status_code == 200
    assert _call(url, "GET", "/api/2.0/preview/scim/v2/Me", "dbx-emulator-admin-token").status_code == 403


def test_no_secret_on_the_emulators_command_line(report: dict[str, Any]) -> None:
    for secret in (ADMIN, BOB, SP_SECRET):
        assert secret not in report["cmdline"]


def test_notebook_environment_is_minimal_and_explicit(report: dict[str, Any]) -> None:
    env = report["env"]
    assert not [name for name in env if name.startswith("AIRFLOW")]
    for secret in (ADMIN, SP_SECRET):
        assert secret not in json.dumps(env)
    assert env["DATABRICKS_TOKEN"].startswith("dbxemu-nb-")  # notebook-scoped, revoked at the end
    allowed = {
        "PATH", "HOME", "TMPDIR", "TMP", "TEMP", "LANG", "LC_ALL", "PYTHONPATH", "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE", "DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_DBFS_FUSE_ROOT",
        "DATABRICKS_RUNTIME_VERSION", "REQUESTS_CA_BUNDLE", "DBX_EMULATOR_CA_BUNDLE", "VIRTUAL_ENV",
        "LC_CTYPE", "DBX_EMULATOR_TASK_ATTEMPT",
    }  # fmt: skip
    assert set(env) <= allowed, set(env) - allowed


def test_notebook_token_is_revoked_when_the_task_ends(
    emulator: tuple[str, Path], report: dict[str, Any]
) -> None:
    token = report["env"]["DATABRICKS_TOKEN"]
    assert _call(emulator[0], "GET", "/api/2.0/preview/scim/v2/Me", token).status_code == 403


def test_data_dir_and_state_database_are_private(emulator: tuple[str, Path]) -> None:
    _, data_dir = emulator
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for name in ("state.sqlite3", "state.sqlite3-wal"):
        path = data_dir / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_token_on_argv_is_deprecated(tmp_path: Path) -> None:
    from airflow_dbx_provider.emulator.cli import build_parser, config_from_args

    args = build_parser().parse_args(["--token", "abc"])
    with pytest.warns(DeprecationWarning, match="--token-file"):
        config = config_from_args(args)
    assert config.admin_token == "abc"


def test_token_file_must_not_be_world_readable(tmp_path: Path) -> None:
    from airflow_dbx_provider.emulator.cli import build_parser, config_from_args

    token_file = tmp_path / "t"
    token_file.write_text("abc")
    token_file.chmod(0o644)
    with pytest.raises(SystemExit, match="0600"):
        config_from_args(build_parser().parse_args([f"--token-file={token_file}"]))
    token_file.chmod(0o600)
    assert config_from_args(build_parser().parse_args([f"--token-file={token_file}"])).admin_token == "abc"
