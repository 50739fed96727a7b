"""Every hostile input of tests/bad_input/emulator_hostile.py gets Databricks' 4xx and error body,
and none of them freezes the emulator or grows it without bound (issue 11).

One emulator for the module (never reset between cases): every case is
refused, so none changes what the next one sees. The fixtures it needs (a job with a finished
run, a cluster, a notebook and the admin's home folder, a DBFS file, a secret scope) are made
once, by the admin.
"""

from __future__ import annotations

import base64
import resource
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer
from airflow_dbx_provider.emulator.config import PrincipalSpec
from tests.bad_input.emulator_hostile import CASES, SIM, Hostile, _chain, _deep, payload

BOB = PrincipalSpec("bob@example.com", token="bob-hostile-token")
TOKENS = {"bob": BOB.token, "bad": "no-such-token"}


@pytest.fixture(scope="module")
def dbx_emulator_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """The module's one emulator (its own principals), never reset between cases."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "workspace").mkdir()
    config = EmulatorConfig(data_dir=root / "data", workspace_dir=root / "workspace", time_scale=0.01,
                            rate_limit_enabled=False, principals=[BOB])  # fmt: skip
    with EmulatorServer(config) as server:
        yield server
        server.check_errors()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.trust_env = False
        yield http


def _send(
    http: requests.Session, server: EmulatorServer, case: Hostile, names: dict[str, str]
) -> requests.Response:
    from tests.bad_input.emulator_hostile import fill

    headers = {"Content-Type": "application/json"}
    if case.token == "admin":
        headers["Authorization"] = f"Bearer {server.admin_token}"
    elif case.token in TOKENS:
        headers["Authorization"] = f"Bearer {TOKENS[case.token]}"
    path = fill(case.path, names)
    params = fill(case.params, names)
    return http.request(case.method, server.url + path, params=params, data=payload(case, names),
                        headers=headers, timeout=60)  # fmt: skip


@pytest.fixture(scope="module")
def names(dbx_emulator_session: EmulatorServer, session: requests.Session) -> dict[str, str]:
    server = dbx_emulator_session
    auth = {"Authorization": f"Bearer {server.admin_token}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = session.post(server.url + path, json=body, headers=auth, timeout=30)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def get(url_path: str, **params: Any) -> dict[str, Any]:
        return dict(session.get(server.url + url_path, params=params, headers=auth, timeout=30).json())

    compute = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 0}
    job = post("/api/2.2/jobs/create", {"name": "target", "tasks": [{**SIM, "existing_cluster_id": None,
                                                                      "new_cluster": compute}]})["job_id"]  # fmt: skip
    run = post("/api/2.2/jobs/run-now", {"job_id": job})["run_id"]
    cluster = post("/api/2.1/clusters/create", {"cluster_name": "c", **compute})["cluster_id"]
    home = "/Users/admin@example.com"
    post("/api/2.0/workspace/import", {"path": f"{home}/nb", "format": "SOURCE", "language": "PYTHON",
                                       "content": base64.b64encode(b"print(1)").decode()})  # fmt: skip
    post("/api/2.0/dbfs/put", {"path": "/f", "contents": base64.b64encode(b"data").decode()})
    post("/api/2.0/secrets/scopes/create", {"scope": "s"})
    post("/api/2.0/secrets/put", {"scope": "s", "key": "k", "string_value": "v"})
    deadline = time.monotonic() + 30
    while get("/api/2.2/jobs/runs/get", run_id=run)["state"]["life_cycle_state"] != "TERMINATED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return {
        "job": str(job),
        "run": str(run),
        "cluster": str(cluster),
        "notebook_id": str(get("/api/2.0/workspace/get-status", path=f"{home}/nb")["object_id"]),
        "folder_id": str(get("/api/2.0/workspace/get-status", path=home)["object_id"]),
    }


def test_the_catalogue_is_big_and_covers_every_family() -> None:
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES)
    families = {
        case.path.split("/")[3] if case.path.startswith("/api/") else case.path.split("/")[1]
        for case in CASES
    }
    assert {"jobs", "clusters", "dbfs", "secrets", "workspace", "permissions", "_emulator"} <= families


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input_gets_databricks_4xx(
    case: Hostile, dbx_emulator_session: EmulatorServer, names: dict[str, str], session: requests.Session
) -> None:
    response = _send(session, dbx_emulator_session, case, names)
    assert response.headers.get("content-type", "").startswith("application/json"), response.text[:300]
    body = response.json()
    assert (response.status_code, body.get("error_code")) == (case.status, case.error_code), body
    assert set(body) == {"error_code", "message"} and isinstance(body["message"], str)
    dbx_emulator_session.check_errors()  # no handler or engine bug behind the answer


def test_the_1000_task_chain_in_reverse_order_is_accepted_without_recursion(
    dbx_emulator_session: EmulatorServer, session: requests.Session
) -> None:
    server = dbx_emulator_session
    auth = {"Authorization": f"Bearer {server.admin_token}"}
    response = session.post(server.url + "/api/2.2/jobs/create", json={"name": "chain", "tasks": _chain(1000)},
                            headers=auth, timeout=60)  # fmt: skip
    assert response.status_code == 200, response.text
    session.post(server.url + "/api/2.2/jobs/delete", json=response.json(), headers=auth, timeout=30)


HEAVY = [
    ("deep-json", "/api/2.2/jobs/create", _deep(200_000)),
    ("1500-task-chain", "/api/2.2/jobs/runs/submit", None),
    ("10mb-body", "/api/2.2/jobs/create", b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}'),
]


@pytest.mark.parametrize(("what", "path", "raw"), HEAVY, ids=[h[0] for h in HEAVY])
def test_the_emulator_stays_responsive_and_bounded_under_hostile_requests(
    dbx_emulator_session: EmulatorServer, what: str, path: str, raw: bytes | None
) -> None:
    server = dbx_emulator_session
    import json

    body = raw if raw is not None else json.dumps({"run_name": "x", "tasks": _chain(1500)}).encode()
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    statuses: list[int] = []

    def hostile() -> None:
        for _ in range(3):
            response = requests.post(server.url + path, data=body, timeout=60, headers={
                "Authorization": f"Bearer {server.admin_token}", "Content-Type": "application/json"})  # fmt: skip
            statuses.append(response.status_code)

    sender = threading.Thread(target=hostile)
    sender.start()
    slowest = 0.0
    while sender.is_alive():
        started = time.monotonic()
        probe = requests.get(server.url + "/_emulator/health", timeout=5)
        slowest = max(slowest, time.monotonic() - started)
        assert probe.status_code == 200
    sender.join()
    assert statuses and all(400 <= s < 500 for s in statuses), statuses
    assert slowest < 1.0, f"health probe took {slowest:.2f}s while {what} was processed"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb) / 1024
    assert grown_mb < 300, f"the emulator grew by {grown_mb:.0f} MB"
    assert Path(str(server.config.data_dir)).exists()
