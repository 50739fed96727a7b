"""Issue 11, emulator: filesystem containment, process trees, rate limits after authentication,
one broken run never stalls the others, and huge numbers never reach the run engine.

Real HTTP against the plugin's `dbx_emulator` (reset per test); notebooks are files in the
session's workspace dir.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer
from airflow_dbx_provider.emulator.config import PrincipalSpec

BOB = PrincipalSpec("bob@example.com", token="bob-token")


@pytest.fixture(scope="session")
def dbx_emulator_config(tmp_path_factory: pytest.TempPathFactory) -> EmulatorConfig:
    root = tmp_path_factory.mktemp("containment")
    (root / "workspace").mkdir()
    return EmulatorConfig(data_dir=root / "data", workspace_dir=root / "workspace", time_scale=0.02,
                          rate_limit_enabled=False, principals=[BOB])  # fmt: skip


def call(
    server: EmulatorServer, method: str, path: str, token: str | None = None, **kw: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or server.admin_token}"}
    return requests.request(method, server.url + path, headers=headers, timeout=30, **kw)


def run_notebook(server: EmulatorServer, name: str, source: str, token: str | None = None,
                 wait: bool = True) -> dict[str, Any]:  # fmt: skip
    Path(str(server.config.workspace_dir), f"{name}.py").write_text(source)
    body = {"run_name": name, "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": f"/{name}"},
            "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 0}}]}  # fmt: skip
    response = call(server, "POST", "/api/2.2/jobs/runs/submit", token, json=body)
    assert response.status_code == 200, response.text
    run_id = response.json()["run_id"]
    deadline = time.monotonic() + 60
    while True:
        run = call(server, "GET", "/api/2.2/jobs/runs/get", params={"run_id": run_id}).json()
        done = run["state"]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED")
        if done or (not wait and run["tasks"][0]["state"]["life_cycle_state"] == "RUNNING"):
            return dict(run)
        assert time.monotonic() < deadline, run["state"]
        time.sleep(0.05)


def output(server: EmulatorServer, run: dict[str, Any]) -> dict[str, Any]:
    task_run = run["tasks"][0]["run_id"]
    return dict(call(server, "GET", "/api/2.2/jobs/runs/get-output", params={"run_id": task_run}).json())


# -- filesystem containment ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["dbfs:/../../escaped", "dbfs:/a/../../escaped", "/dbfs/../escaped", "dbfs:/x\0y"]
)
def test_dbutils_fs_applies_the_rest_path_rules(dbx_emulator: EmulatorServer, path: str) -> None:
    data_dir = Path(str(dbx_emulator.config.data_dir))
    source = f"dbutils.fs.put({path!r}, 'pwned', True)\n"
    run = run_notebook(dbx_emulator, "escape", source)
    assert run["state"]["result_state"] == "FAILED"
    assert "ValueError" in output(dbx_emulator, run)["error"]
    assert not any(p.name == "escaped" for p in data_dir.parent.rglob("escaped"))


def test_symlink_left_by_a_notebook_is_never_followed_over_rest(
    dbx_emulator: EmulatorServer, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the root")
    source = (
        "import os\nroot = os.environ['DATABRICKS_DBFS_FUSE_ROOT']\nos.makedirs(root, exist_ok=True)\n"
        f"os.symlink({str(outside)!r}, root + '/link')\nos.symlink({str(outside / 'secret.txt')!r}, root + '/file')\n"
    )
    assert run_notebook(dbx_emulator, "links", source)["state"]["result_state"] == "SUCCESS"
    contents = base64.b64encode(b"x").decode()
    attempts = [
        ("GET", "/api/2.0/dbfs/read", {"params": {"path": "/link/secret.txt"}}),
        ("GET", "/api/2.0/dbfs/read", {"params": {"path": "/file"}}),
        ("GET", "/api/2.0/dbfs/get-status", {"params": {"path": "/file"}}),
        ("GET", "/api/2.0/dbfs/list", {"params": {"path": "/link"}}),
        ("POST", "/api/2.0/dbfs/put", {"json": {"path": "/link/new.txt", "contents": contents}}),
        ("POST", "/api/2.0/dbfs/put", {"json": {"path": "/file", "contents": contents, "overwrite": True}}),
        ("POST", "/api/2.0/dbfs/delete", {"json": {"path": "/link", "recursive": True}}),
        ("POST", "/api/2.0/dbfs/delete", {"json": {"path": "/file"}}),
        ("POST", "/api/2.0/dbfs/move", {"json": {"source_path": "/file", "destination_path": "/moved"}}),
        ("POST", "/api/2.0/dbfs/mkdirs", {"json": {"path": "/link/sub"}}),
    ]
    for method, path, kwargs in attempts:
        response = call(dbx_emulator, method, path, **kwargs)
        assert response.status_code == 400, (path, kwargs, response.text)
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "outside the root"
    listing = call(dbx_emulator, "GET", "/api/2.0/dbfs/list", params={"path": "/"}).json()
    assert not [f for f in listing.get("files", []) if f["path"] in ("/link", "/file")]


# -- process trees ---------------------------------------------------------------------------------
# A daemon the classic way: the child forks a grandchild into a new session and exits, so the
# grandchild is neither in the notebook's process group nor (once orphaned) its descendant.
DAEMON = """import subprocess, sys, time
code = "import os, sys, time\\nif os.fork(): sys.exit(0)\\nos.setsid()\\nopen(sys.argv[1], 'w').write(str(os.getpid()))\\ntime.sleep(600)"
subprocess.run([sys.executable, "-c", code, PIDFILE], check=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


@pytest.mark.parametrize("how", ["cancel", "timeout"])
def test_cancel_and_timeout_kill_the_whole_process_tree(
    dbx_emulator: EmulatorServer, tmp_path: Path, how: str
) -> None:
    pidfile = tmp_path / "pid"
    Path(str(dbx_emulator.config.workspace_dir), "daemon.py").write_text(
        f"PIDFILE = {str(pidfile)!r}\n" + DAEMON
    )
    task: dict[str, Any] = {"task_key": "t", "notebook_task": {"notebook_path": "/daemon"},
                            "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 0}}  # fmt: skip
    if how == "timeout":
        task["timeout_seconds"] = 100  # 2 s at time_scale 0.02
    run_id = call(
        dbx_emulator, "POST", "/api/2.2/jobs/runs/submit", json={"run_name": "d", "tasks": [task]}
    ).json()["run_id"]
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    assert _alive(grandchild)
    if how == "cancel":
        call(dbx_emulator, "POST", "/api/2.2/jobs/runs/cancel", json={"run_id": run_id})
    while (
        call(dbx_emulator, "GET", "/api/2.2/jobs/runs/get", params={"run_id": run_id}).json()["state"][
            "life_cycle_state"
        ]
        != "TERMINATED"
    ):
        assert time.monotonic() < deadline + 30
        time.sleep(0.05)
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


# -- rate limits after authentication ----------------------------------------------------------------
def test_unauthenticated_calls_spend_no_budget(dbx_emulator: EmulatorServer) -> None:
    call(
        dbx_emulator, "POST", "/_emulator/rate-limits", json={"enabled": True, "rate_limits": {"clusters": 2}}
    )
    try:
        for _ in range(20):
            anonymous = requests.get(dbx_emulator.url + "/api/2.1/clusters/list", timeout=5)
            assert anonymous.status_code == 401
            forged = requests.get(dbx_emulator.url + "/api/2.1/clusters/list", timeout=5,
                                  headers={"Authorization": "Bearer nope"})  # fmt: skip
            assert forged.status_code == 403
        assert call(dbx_emulator, "GET", "/api/2.1/clusters/list").status_code == 200
    finally:
        call(dbx_emulator, "POST", "/_emulator/rate-limits", json={"enabled": False})


# -- one broken run never stalls the others ------------------------------------------------------------
@pytest.mark.parametrize(
    "timeout", [10**400, 10**30, -1, "1e400", 2**31], ids=["1e400", "1e30", "negative", "a-string", "2e31"]
)
def test_huge_timeouts_are_refused(dbx_emulator: EmulatorServer, timeout: Any) -> None:
    task = {"task_key": "t", "spark_jar_task": {"main_class_name": "M"}, "existing_cluster_id": "c"}
    for path, body in (
        ("/api/2.2/jobs/runs/submit", {"tasks": [task], "timeout_seconds": timeout}),
        ("/api/2.2/jobs/runs/submit", {"tasks": [{**task, "timeout_seconds": timeout}]}),
        ("/api/2.2/jobs/create", {"name": "j", "tasks": [task], "timeout_seconds": timeout}),
    ):
        response = call(dbx_emulator, "POST", path, json=body)
        assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), path


def test_a_broken_run_ends_in_internal_error_and_others_carry_on(dbx_emulator: EmulatorServer) -> None:
    task = {"task_key": "t", "spark_jar_task": {"main_class_name": "M"},
            "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 0}}  # fmt: skip
    broken = call(dbx_emulator, "POST", "/api/2.2/jobs/runs/submit", json={"tasks": [task]}).json()["run_id"]
    assert dbx_emulator.state is not None
    with dbx_emulator.state.store.lock:  # what a bad stored value (say, from an old release) looks like
        dbx_emulator.state.run_registry.runs.get(broken)["_timeout_seconds"] = 10**400  # type: ignore[index]
    healthy = call(dbx_emulator, "POST", "/api/2.2/jobs/runs/submit", json={"tasks": [task]}).json()["run_id"]
    deadline = time.monotonic() + 30
    states: dict[int, Any] = {}
    while time.monotonic() < deadline:
        states = {r: call(dbx_emulator, "GET", "/api/2.2/jobs/runs/get", params={"run_id": r}).json()["state"]
                  for r in (broken, healthy)}  # fmt: skip
        if states[healthy]["life_cycle_state"] == "TERMINATED":
            break
        time.sleep(0.05)
    assert states[healthy].get("result_state") == "SUCCESS"
    assert states[broken]["life_cycle_state"] == "INTERNAL_ERROR"
    errors = dbx_emulator.state.take_server_errors()  # the engine kept the bug for the tests
    assert errors and all(isinstance(e, OverflowError) for e in errors)


def test_recursive_delete_of_a_very_deep_folder_is_iterative(dbx_emulator: EmulatorServer) -> None:
    """A notebook can nest folders far deeper than REST allows; deleting them must not recurse."""
    root = Path(str(dbx_emulator.config.data_dir)) / "dbfs"
    deep = root / "deep"
    fd = os.open(root, os.O_RDONLY)
    try:
        os.mkdir("deep", dir_fd=fd)
        current = os.open("deep", os.O_RDONLY, dir_fd=fd)
        for _ in range(1500):  # relative mkdirs: no path-length limit on the way down
            os.mkdir("d", dir_fd=current)
            nxt = os.open("d", os.O_RDONLY, dir_fd=current)
            os.close(current)
            current = nxt
        os.close(current)
    finally:
        os.close(fd)
    response = call(dbx_emulator, "POST", "/api/2.0/dbfs/delete", json={"path": "/deep", "recursive": True})
    assert response.status_code == 200, response.text
    assert not deep.exists()
