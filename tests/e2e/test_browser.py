"""The pipeline through a real Airflow, as a person would use it, in headless Chromium.

Log in to the Airflow UI, trigger `ingest_transform_delta` through its form with a changed Param,
see it succeed (deferred in the real triggerer), get the task's "Databricks run" extra link from
the API server, follow it into the emulator's workspace UI, open a task's output and logs and the
Delta table the run wrote; the table's rows are checked too. One real pipeline run for all of it.

Needs Debian's `chromium` and `chromium-driver` (the test command's CI set-up installs them) and
`selenium`; elsewhere it is skipped, saying why, and under CI (CI=true) it fails instead.
Screenshots land in .artifacts/.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from deltalake import DeltaTable

from dags_examples.orders_api import orders_for_window
from tests.e2e.conftest import ARTIFACTS, RealAirflow, wait_for_dag, wait_for_run, wait_text

pytestmark = pytest.mark.slow
DAG_ID = "ingest_transform_delta"
BAD_ROWS_PER_DAY = 3


def _button(driver: Any, text: str, scope: str = "body") -> Any:
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        matches = [
            b for b in driver.find_elements(By.CSS_SELECTOR, f"{scope} button") if b.text.strip() == text
        ]
        if matches:
            return matches[-1]
        time.sleep(0.5)
    raise AssertionError(f"no button {text!r} in {scope}")


def test_trigger_in_the_ui_then_follow_the_run_into_the_workspace(
    real_airflow: RealAirflow, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    ARTIFACTS.mkdir(exist_ok=True)
    token = real_airflow.token()
    wait_for_dag(real_airflow, token, DAG_ID)
    before = {
        r["dag_run_id"]
        for r in real_airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", token=token)["dag_runs"]
    }

    browser.get(f"{real_airflow.base_url}/")
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(real_airflow.password)
    _button(browser, "Sign in").click()
    browser.find_element(By.XPATH, "//*[contains(text(), 'Dags')]")  # waits for the app shell

    browser.get(f"{real_airflow.base_url}/dags/{DAG_ID}")
    _button(browser, "Trigger").click()
    table = f"dbfs:/delta/ui_{uuid.uuid4().hex[:8]}"
    field = browser.find_element(By.ID, "element_table_path")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(table)
    browser.save_screenshot(str(ARTIFACTS / "ui-trigger-form.png"))
    _button(browser, "Trigger", scope="[role=dialog]").click()

    # The run the form created: the only new one, carrying the changed param in its conf.
    deadline = time.monotonic() + 30
    new: list[dict[str, Any]] = []
    while not new and time.monotonic() < deadline:
        runs = real_airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", token=token)["dag_runs"]
        new = [r for r in runs if r["dag_run_id"] not in before]
        time.sleep(1)
    assert len(new) == 1, "the form did not create a run"
    assert new[0]["conf"]["table_path"] == table
    run_id = new[0]["dag_run_id"]
    state = wait_for_run(real_airflow, token, DAG_ID, run_id)
    assert state == "success", real_airflow.task_logs(DAG_ID, run_id)
    # Both waits went through the real triggerer: its log files for those tasks hold the triggers' lines.
    folder = real_airflow.airflow_home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}"
    for task_id, fired in [("run_pipeline", "Databricks run "), ("register_table", "SQL statement ")]:
        trigger_logs = "".join(p.read_text() for p in folder.glob(f"task_id={task_id}/*.log.trigger.*.log"))
        assert fired in trigger_logs and "SUCCE" in trigger_logs, real_airflow.task_logs(DAG_ID, run_id)

    browser.get(f"{real_airflow.base_url}/dags/{DAG_ID}/runs/{run_id}")
    browser.find_element(By.XPATH, "//*[contains(translate(text(), 'SUCES', 'suces'), 'success')]")
    browser.save_screenshot(str(ARTIFACTS / "ui-run-success.png"))

    # What the run wrote: the window's good rows, once each.
    conf = new[0]["conf"]
    start, end = dt.date.fromisoformat(conf["start_date"]), dt.date.fromisoformat(conf["end_date"])
    local = Path(real_airflow.emulator.state.data_dir) / "dbfs" / table.removeprefix("dbfs:/")
    frame = DeltaTable(str(local)).to_pandas()
    days = (end - start).days + 1
    assert len(frame) == len(orders_for_window(start, end)) - BAD_ROWS_PER_DAY * days
    assert not frame["order_id"].duplicated().any()

    # The task's "Databricks run" extra link, as the UI gets it from the API server ...
    links = real_airflow.api(
        "GET",
        f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id)}/taskInstances/run_pipeline/links",
        token=token,
    )
    run_page = links["extra_links"]["Databricks run"]
    assert run_page.startswith(real_airflow.emulator.state.base_url + "/?o=") and "#job/" in run_page

    # ... followed into the emulator's workspace UI: sign in, the run, a task's output and logs.
    browser.get(run_page)
    browser.find_element(By.ID, "token").send_keys(real_airflow.emulator.admin_token)
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    wait_text(browser, "run-title", "SUCCESS")
    browser.save_screenshot(str(ARTIFACTS / "workspace-run.png"))
    browser.find_element(By.CSS_SELECTOR, "tr[data-task-key=write_results] a.task-link").click()
    assert table in wait_text(browser, "task-output", "table_path")
    assert "merging" in wait_text(browser, "task-logs", "merging")
    browser.save_screenshot(str(ARTIFACTS / "workspace-task-output.png"))

    # The Delta table view of the folder the run wrote.
    browser.get(f"{real_airflow.emulator.url}/#dbfs/{table.removeprefix('dbfs:/')}")
    browser.find_element(By.ID, "open-delta").click()
    assert "order_id" in wait_text(browser, "delta-schema", "order_id")
    wait_text(browser, "delta-rows", "order_id")
    browser.save_screenshot(str(ARTIFACTS / "workspace-delta.png"))
