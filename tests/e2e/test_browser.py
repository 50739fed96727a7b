"""The Airflow UI in headless Chromium: log in, trigger the pipeline through its form, see it succeed.

Needs Debian's `chromium` and `chromium-driver` packages (`scripts/dev.py test` installs them when it
runs as root) and `selenium`. Elsewhere it is skipped, saying why; under CI (CI=true) it fails
instead, so a missing browser can never pass unnoticed. Screenshots land in .artifacts/.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, RealAirflow, wait_for_dag, wait_for_run

pytestmark = pytest.mark.slow
DAG_ID = "ingest_transform_delta"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser test cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Any:
    try:
        from selenium import webdriver
    except ImportError:
        _unavailable("selenium is not installed")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        _unavailable(
            "needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)"
        )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1600,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(10)
    try:
        yield driver
    finally:
        driver.quit()


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


def test_trigger_from_the_ui_with_a_changed_param(real_airflow: RealAirflow, browser: Any) -> None:
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

    browser.get(f"{real_airflow.base_url}/dags/{DAG_ID}/runs/{new[0]['dag_run_id']}")
    browser.find_element(By.XPATH, "//*[contains(translate(text(), 'SUCES', 'suces'), 'success')]")
    browser.save_screenshot(str(ARTIFACTS / "ui-run-success.png"))
    local = Path(real_airflow.emulator.state.data_dir) / "dbfs" / table.removeprefix("dbfs:/")
    assert (local / "_delta_log").is_dir()
