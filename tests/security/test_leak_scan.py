"""No token, OAuth client secret or workspace secret value in any log, XCom, rendered field,
exception text or emulator log, across representative flows.

Flows: the DAGs of tests/dags/reliability_security.py through ``dag.test()`` (submit sync and
deferred, create job + templated run-now deferred, a failing run), notebooks that read a secret
with ``dbutils.secrets.get``, OAuth M2M hook calls (sync and async, token expiry and refresh, a 403,
a 404), a wrong PAT (401). Captured: every log record of this process (a root handler at DEBUG),
everything written to this process's stdout/stderr, the Airflow task logs under $AIRFLOW_HOME/logs,
the XCom and RenderedTaskInstanceFields tables, every exception raised (str, repr, traceback,
attributes), the emulator's own stdout/stderr (it runs as a subprocess) and every file in its data
dir except the SQLite store that holds the secrets by design. Each secret is searched as is and
base64-encoded (standard and URL-safe, and the OAuth ``client_id:secret`` basic-auth form).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_dbx_provider.exceptions import DatabricksRunFailedError, DbxError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from airflow_dbx_provider.hooks.databricks_async import DatabricksAsyncHook
from airflow_dbx_provider.hooks.rate_limit import reset_rate_limiters
from airflow_dbx_provider.operators import DatabricksSubmitRunOperator
from tests.dags.reliability_security import KEY, NOTEBOOKS, SCOPE, notebook
from tests.reliability.helpers import load_dag, ti_states, wait_for
from tests.security.conftest import ADMIN_PAT, OAUTH_SECRET, OAUTH_SP, SECRET_VALUE

WRONG_PAT = "dapi-LEAKCANARY-wrong-pat-0d9e71"
SECRETS = {
    "admin PAT": ADMIN_PAT,
    "wrong PAT": WRONG_PAT,
    "OAuth client secret": OAUTH_SECRET,
    "secret value": SECRET_VALUE,
}


def forms(name: str, value: str) -> dict[str, str]:
    raw = value.encode()
    found = {
        name: value,
        f"{name} (base64)": base64.b64encode(raw).decode(),
        f"{name} (base64url)": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    if value == OAUTH_SECRET:
        found[f"{name} (basic auth)"] = base64.b64encode(f"{OAUTH_SP}:{value}".encode()).decode()
    return found


NEEDLES = {label: text for name, value in SECRETS.items() for label, text in forms(name, value).items()}


def leaks(texts: dict[str, str]) -> list[str]:
    return [
        f"{needle} in {where}"
        for where, text in texts.items()
        for needle, value in NEEDLES.items()
        if value in text
    ]


class Everything(logging.Handler):
    """Every record at any level, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(
                self.format(record) + repr(record.args) + repr(record.__dict__.get("event", ""))
            )
        except Exception as exc:  # a record that cannot be formatted is still scanned raw
            self.lines.append(f"{record.msg!r} {record.args!r} ({exc})")


@pytest.fixture
def capture_logs() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The emulator as its own process, so its stdout/stderr can be scanned too."""
    workspace = tmp_path / "workspace"
    for name, body in NOTEBOOKS.items():
        (workspace / "Shared" / "leak").mkdir(parents=True, exist_ok=True)
        (workspace / "Shared" / "leak" / f"{name}.py").write_text(
            "# Databricks notebook source\n" + body.lstrip()
        )
    principals = tmp_path / "principals.json"
    principals.write_text(
        json.dumps(
            {"principals": [{"name": OAUTH_SP, "kind": "service_principal", "client_secret": OAUTH_SECRET}]}
        )
    )
    out, err = tmp_path / "emulator.out", tmp_path / "emulator.err"
    data = tmp_path / "data"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow_dbx_provider.emulator",
                *("--port", "0", "--data-dir", str(data), "--workspace-dir", str(workspace)),
                *(
                    "--token",
                    ADMIN_PAT,
                    "--time-scale",
                    "0.05",
                    "--no-rate-limits",
                    "--config",
                    str(principals),
                ),
            ],
            stdout=stdout,
            stderr=stderr,
        )
    try:
        line = wait_for(lambda: "listening on" in out.read_text() and out.read_text(), timeout=30)
        url = line.split("listening on", 1)[1].split()[0]
        yield {"url": url, "out": out, "err": err, "data": data}
    finally:
        proc.terminate()
        proc.wait(10)


def admin(url: str, method: str, path: str, body: dict[str, Any]) -> None:
    resp = requests.request(
        method,
        f"{url}/api/2.0/{path}",
        json=body,
        headers={"Authorization": f"Bearer {ADMIN_PAT}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text


class FakeTI:
    dag_id, task_id, run_id, map_index, try_number = "leak", "fail", "manual__leak", -1, 1

    def xcom_push(self, key: str, value: Any) -> None:
        pass

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        return None


def exception_texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(vars(exc))]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_no_secret_leaks_anywhere(
    emulator_process: dict[str, Any],
    capture_logs: Everything,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.operators.support import reset_db_once

    url = emulator_process["url"]
    reset_rate_limiters()
    reset_db_once()
    conn = {"conn_type": "dbx", "host": url, "password": ADMIN_PAT}
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW_CONN_DBX_WRONG", json.dumps({**conn, "password": WRONG_PAT}))
    oauth = {
        "conn_type": "dbx",
        "host": url,
        "login": OAUTH_SP,
        "password": OAUTH_SECRET,
        "extra": {"auth_type": "oauth-m2m"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_DBX_OAUTH", json.dumps(oauth))
    admin(url, "POST", "secrets/scopes/create", {"scope": SCOPE})
    admin(url, "POST", "secrets/put", {"scope": SCOPE, "key": KEY, "string_value": SECRET_VALUE})
    admin(url, "POST", "secrets/acls/put", {"scope": SCOPE, "principal": OAUTH_SP, "permission": "READ"})
    errors: list[BaseException] = []

    # Operators through Airflow: sync, deferred, templated run-now; then a failing run.
    flows = load_dag("reliability_security.py", "security_leak_flows").test()
    assert flows.state == "success", ti_states(flows)
    failing = load_dag("reliability_security.py", "security_leak_failing").test()
    assert ti_states(failing) == {"submit_failing": "failed"}
    op = DatabricksSubmitRunOperator(
        task_id="fail", tasks=[notebook("fail", "fail")], polling_period_seconds=0.2
    )
    with pytest.raises(DatabricksRunFailedError) as failed:
        op.execute({"ti": FakeTI()})  # type: ignore[arg-type]
    errors.append(failed.value)

    # OAuth M2M hook calls: sync and async, a refresh after every token expired, a 404 and a 403.
    with DatabricksHook("dbx_oauth") as hook:
        assert hook.test_connection()[0]
        assert hook.get_secret(SCOPE, KEY) == SECRET_VALUE.encode()  # returned, never logged
        admin(url, "POST", "../../_emulator/oauth/expire-tokens", {})
        assert any(scope["name"] == SCOPE for scope in hook.list_secret_scopes())
        for call in (lambda: hook.get_run(987654), lambda: hook.put_secret(SCOPE, KEY, string_value="x")):
            with pytest.raises(DbxError) as info:
                call()
            errors.append(info.value)

    async def async_calls() -> None:
        async with DatabricksAsyncHook("dbx_oauth") as ahook:
            assert (await ahook.test_connection())[0]
            try:
                await ahook.get_run(987654)
            except DbxError as exc:
                errors.append(exc)

    asyncio.run(async_calls())
    with pytest.raises(DbxError) as wrong:
        DatabricksHook("dbx_wrong").get_run(1)
    errors.append(wrong.value)
    assert len(errors) == 5

    texts = gather_texts(emulator_process, capture_logs, capfd, errors)
    # The capture really saw the flows (a scan of nothing proves nothing).
    everything = "\n".join(texts.values())
    for expected in (
        "Databricks run",
        "read:",
        "secret read; length",
        "bad row 7",
        "Invalid access token",
    ):
        assert expected in everything, expected
    # dag.test() writes the task logs to this process's output, not under $AIRFLOW_HOME/logs.
    assert "Databricks run" in texts["stdout"] and "Databricks run" in texts["log records"]
    assert any(where.startswith("emulator file ") for where in texts), sorted(texts)
    assert leaks(texts) == []


def gather_texts(
    emulator: dict[str, Any],
    handler: Everything,
    capfd: pytest.CaptureFixture[str],
    errors: list[BaseException],
) -> dict[str, str]:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    out, err = capfd.readouterr()
    texts = {"log records": "\n".join(handler.lines), "stdout": out, "stderr": err}
    with create_session() as session:
        texts["xcom"] = "\n".join(repr(row.value) for row in session.query(XComModel).all())
        texts["rendered fields"] = "\n".join(
            repr(row.rendered_fields) for row in session.query(RenderedTaskInstanceFields).all()
        )
    assert "read:" in texts["xcom"] and "manual__" in texts["rendered fields"]
    for index, exc in enumerate(errors):
        texts[f"exception {index} ({type(exc).__name__})"] = "\n".join(exception_texts(exc))
    logs_dir = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    for path in logs_dir.rglob("*") if logs_dir.exists() else ():
        if path.is_file():
            texts[f"task log {path.relative_to(logs_dir)}"] = path.read_text(errors="replace")
    texts["emulator stdout"] = emulator["out"].read_text(errors="replace")
    texts["emulator stderr"] = emulator["err"].read_text(errors="replace")
    for path in emulator["data"].rglob("*"):
        if path.is_file() and not path.name.startswith("state.sqlite3"):
            texts[f"emulator file {path.relative_to(emulator['data'])}"] = path.read_text(errors="replace")
    return texts
