"""A real Airflow (`airflow standalone`: api-server, scheduler, dag-processor, triggerer) for slow tests.

The emulator runs in this test process (so its server errors surface here); Airflow runs as
subprocesses in their own session with their own AIRFLOW_HOME, stopped with SIGINT at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support import processes

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".artifacts"


@dataclass
class RealAirflow:
    base_url: str
    password: str
    airflow_home: Path
    emulator: Any

    def api(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def task_logs(self, dag_id: str, run_id: str) -> str:
        """Every task log of one DAG run (for an assertion message when the run did not succeed)."""
        folder = self.airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        parts = []
        for path in sorted(folder.rglob("*.log*")):
            events = []
            for line in path.read_text(errors="replace").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    events.append(line)
                    continue
                events.append(f"{record.get('level', '')} {record.get('event', '')}")
            parts.append(f"--- {path.relative_to(folder)}\n" + "\n".join(events[-40:]))
        return "\n".join(parts)

    def token(self) -> str:
        return self.api("POST", "/auth/token", {"username": "admin", "password": self.password})[
            "access_token"
        ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def e2e_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer

    server = EmulatorServer(EmulatorConfig(data_dir=tmp_path_factory.mktemp("e2e-emulator"), time_scale=0.1))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def e2e_orders_api() -> Iterator[Any]:
    """The example pipeline's demo orders API (dags_examples/orders_api), in a thread."""
    from dags_examples.orders_api import OrdersApiServer

    server = OrdersApiServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def real_airflow(
    tmp_path_factory: pytest.TempPathFactory, e2e_emulator: Any, e2e_orders_api: Any
) -> Iterator[RealAirflow]:
    airflow_home = tmp_path_factory.mktemp("e2e-airflow")
    port = _free_port()
    # Start from a clean environment: the unit tests' AIRFLOW__* settings must not leak in.
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_HOME"))
    }
    env = processes.airflow_env(airflow_home, e2e_emulator.url, base=base, orders_api_url=e2e_orders_api.url)
    env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] = "5"
    env["AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL"] = "5"
    log_path = airflow_home / "standalone.log"
    process, base_url = processes.start_standalone(env, port, log_path)
    try:
        if not processes.wait_http(f"{base_url}/api/v2/monitor/health", timeout=240, process=process):
            pytest.fail("airflow standalone did not become healthy:\n" + log_path.read_text()[-5000:])
        yield RealAirflow(base_url, processes.read_admin_password(airflow_home), airflow_home, e2e_emulator)
    finally:
        processes.stop_process(process, "airflow standalone", signal.SIGINT, leader_only=True)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-standalone.log").write_bytes(log_path.read_bytes())


def wait_for_dag(airflow: RealAirflow, token: str, dag_id: str, timeout: float = 120) -> None:
    """The dag-processor parses the folder in the background: wait until the API knows the DAG."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            airflow.api("GET", f"/api/v2/dags/{dag_id}", token=token)
            return
        except urllib.error.HTTPError as err:
            if err.code != 404:
                raise
        time.sleep(2)
    pytest.fail(f"{dag_id} never appeared in the API")


def wait_for_run(
    airflow: RealAirflow, token: str, dag_id: str, run_id: str, timeout: float = 300, poll: float = 2
) -> str:
    """The DAG run's state once it is terminal, or its last state at ``timeout``."""
    deadline = time.monotonic() + timeout
    state = "queued"
    while time.monotonic() < deadline:
        state = airflow.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id)}", token=token)["state"]
        if state in ("success", "failed"):
            return state
        time.sleep(poll)
    return state


# ---- headless Chromium (Debian's chromium + chromium-driver) -------------------------------------
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


def wait_text(driver: Any, element_id: str, contains: str, timeout: float = 15) -> str:
    """The text of #element_id once it contains `contains` (the page fetches, then renders)."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d: Any) -> str | bool:
        found = d.find_elements(By.ID, element_id)
        return found[0].text if found and contains in found[0].text else False

    # The page replaces its view when the fragment changes: an element found may be gone at once.
    wait = WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))
    try:
        return str(wait.until(ready))
    except TimeoutException as exc:
        driver.save_screenshot(str(ARTIFACTS / f"browser-failed-{element_id}.png"))
        raise AssertionError(
            f"#{element_id} never showed {contains!r}:\n{driver.page_source[-3000:]}"
        ) from exc
