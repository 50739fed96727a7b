"""The emulator's workspace UI in headless Chromium, against a plain emulator (no Airflow).

Sign in with the admin token at the run page URL the provider prints, open a task's output and
logs, a failed task's error, the DBFS browser with a text and a binary file, the Delta table
view and the secret scopes; a job named `<script>alert(1)</script>` shows as text. Screenshots
land in .artifacts/emulator-ui-*.png. Skipped without Debian's chromium (failed under CI=true),
like every browser test (the `browser` fixture is in tests/e2e/conftest.py).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer
from tests.e2e.conftest import ARTIFACTS, wait_text

pytestmark = pytest.mark.slow

EXIT_VALUE = '{"rows": 3, "table": "dbfs:/delta/orders"}'
SECRET_VALUE = "ui-browser-LEAKCANARY-7d1e"
XSS_NAME = "<script>alert(1)</script>"
INGEST = f"""
print("ingest: reading 3 rows")
import sys
print("ingest: a warning on stderr", file=sys.stderr)
dbutils.notebook.exit({EXIT_VALUE!r})
"""
CHECK = """
print("check: validating")
raise ValueError("bad row: amount is negative")
"""


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorServer]:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "ingest.py").write_text(INGEST)
    (notebooks / "check.py").write_text(CHECK)
    config = EmulatorConfig(
        port=0, data_dir=tmp_path / "data", workspace_dir=notebooks, time_scale=0.05, rate_limit_enabled=False
    )
    with EmulatorServer(config) as server:
        yield server
        server.check_errors()


def _rest(server: EmulatorServer, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {server.admin_token}"}
    if method == "GET":
        response = requests.get(server.url + path, params=body, headers=headers, timeout=10)
    else:
        response = requests.post(server.url + path, json=body or {}, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _pipeline_run(server: EmulatorServer) -> dict[str, Any]:
    """A two-task job (ingest succeeds with an exit value, check fails), run to its end."""
    job = {
        "name": "orders pipeline",
        "parameters": [{"name": "window", "default": "2024-04-01"}],
        "tasks": [
            {
                "task_key": "ingest",
                "notebook_task": {"notebook_path": "/ingest", "base_parameters": {"n": "3"}},
            },
            {
                "task_key": "check",
                "depends_on": [{"task_key": "ingest"}],
                "notebook_task": {"notebook_path": "/check"},
            },
        ],
    }
    job_id = _rest(server, "POST", "/api/2.2/jobs/create", job)["job_id"]
    _rest(server, "POST", "/api/2.2/jobs/create", {"name": XSS_NAME})
    run_id = _rest(server, "POST", "/api/2.2/jobs/run-now", {"job_id": job_id})["run_id"]
    deadline = time.monotonic() + 20
    while True:
        run = _rest(server, "GET", "/api/2.2/jobs/runs/get", {"run_id": run_id})
        if run["state"]["life_cycle_state"] == "TERMINATED" or time.monotonic() > deadline:
            return dict(run)
        time.sleep(0.1)


def _workspace_files(server: EmulatorServer) -> None:
    """A text and a binary file over DBFS, a small Delta table, a secret scope."""
    text = base64.b64encode(b"id,amount\n1,9.5\n2,<b>3</b>\n").decode()
    _rest(
        server, "POST", "/api/2.0/dbfs/put", {"path": "/raw/orders.csv", "contents": text, "overwrite": True}
    )
    blob = base64.b64encode(bytes(range(256))).decode()
    _rest(server, "POST", "/api/2.0/dbfs/put", {"path": "/raw/blob.bin", "contents": blob, "overwrite": True})
    import pandas as pd
    from deltalake import write_deltalake

    frame = pd.DataFrame(
        {"order_id": [1, 2, 3], "customer": ["ana", "<b>bo</b>", "cy"], "amount": [9.5, 3.0, 12.25]}
    )
    table = Path(server.state.data_dir) / "dbfs" / "delta" / "orders"
    write_deltalake(str(table), frame)
    write_deltalake(str(table), frame.head(1).assign(order_id=4), mode="append")
    _rest(server, "POST", "/api/2.0/secrets/scopes/create", {"scope": "etl"})
    _rest(
        server,
        "POST",
        "/api/2.0/secrets/put",
        {"scope": "etl", "key": "api-key", "string_value": SECRET_VALUE},
    )


def _shot(driver: Any, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"emulator-ui-{name}.png"))


def test_walk_the_workspace_ui(emulator: EmulatorServer, browser: Any) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    run = _pipeline_run(emulator)
    assert run["state"]["result_state"] == "FAILED", run["state"]
    _workspace_files(emulator)
    ingest = next(t for t in run["tasks"] if t["task_key"] == "ingest")

    # The run page URL the provider prints and logs: first the sign-in form.
    browser.get(run["run_page_url"])
    browser.find_element(By.ID, "token").send_keys(emulator.admin_token)
    _shot(browser, "login")
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    assert "orders pipeline" in wait_text(browser, "run-title", "FAILED")
    wait_text(browser, "timeline", "check")
    assert "window" in wait_text(browser, "job-parameters", "2024-04-01")
    assert browser.find_element(By.ID, "repair-run").is_displayed()
    assert browser.find_element(By.ID, "who").text.startswith("admin@example.com")
    _shot(browser, "run")

    # A task's output (the dbutils.notebook.exit value) and its logs, at the task run's own URL.
    browser.find_element(By.CSS_SELECTOR, "tr[data-task-key=ingest] a.task-link").click()
    assert browser.current_url.endswith(f"#job/{run['job_id']}/run/{ingest['run_id']}")
    assert wait_text(browser, "task-output", "rows") == EXIT_VALUE
    logs = wait_text(browser, "task-logs", "ingest: reading 3 rows")
    assert "a warning on stderr" in logs
    _shot(browser, "task-output")
    browser.find_element(By.CSS_SELECTOR, "tr[data-task-key=check] a.task-link").click()
    wait_text(browser, "task-error", "bad row: amount is negative")
    wait_text(browser, "task-trace", "ValueError")
    _shot(browser, "task-error")
    # A task run's own run_page_url (what the demo prints per task) opens that task.
    browser.get(ingest["run_page_url"])
    browser.refresh()
    assert wait_text(browser, "task-title", "ingest")
    assert wait_text(browser, "task-output", "rows") == EXIT_VALUE

    # DBFS: a folder, a text preview, a binary file, then the Delta table view.
    browser.get(f"{emulator.url}/#dbfs/raw")
    wait_text(browser, "dbfs-table", "orders.csv")
    browser.find_element(By.LINK_TEXT, "orders.csv").click()
    assert "2,<b>3</b>" in wait_text(browser, "dbfs-preview", "id,amount")
    _shot(browser, "dbfs-preview")
    browser.get(f"{emulator.url}/#dbfs/raw/blob.bin")
    wait_text(browser, "dbfs-preview", "Binary file (256 bytes)")
    browser.get(f"{emulator.url}/#dbfs/delta/orders")
    browser.find_element(By.ID, "open-delta").click()
    assert "customer" in wait_text(browser, "delta-schema", "order_id")
    rows = wait_text(browser, "delta-rows", "<b>bo</b>")
    assert "12.25" in rows
    wait_text(browser, "delta-history", "WRITE")
    _shot(browser, "delta")

    # Secret scopes show keys, never values.
    browser.get(f"{emulator.url}/#secrets")
    wait_text(browser, "secrets", "api-key")
    assert SECRET_VALUE not in browser.page_source
    _shot(browser, "secrets")

    # A job named like a script is text in the DOM, and nothing ran.
    browser.get(f"{emulator.url}/#jobs")
    wait_text(browser, "jobs-table", XSS_NAME)
    names = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#jobs-table td.job-name")]
    assert XSS_NAME in names
    assert not browser.find_elements(By.XPATH, "//tbody//script")
    try:
        browser.switch_to.alert.dismiss()
        raise AssertionError("a job name ran as a script")
    except NoAlertPresentException:
        pass
    _shot(browser, "jobs")

    # Signing out ends the session: the page asks for a token again.
    browser.find_element(By.ID, "logout").click()
    wait_text(browser, "login-error", "Signed out.")
    browser.get(run["run_page_url"])
    assert browser.find_element(By.ID, "login").is_displayed()
