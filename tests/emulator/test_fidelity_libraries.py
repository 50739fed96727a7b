"""Task `libraries`: installed per library set before the task's Python runs, or the task ends
with Databricks' LIBRARY_INSTALLATION_ERROR. No network: a wheel is built here and put in DBFS,
and the index is switched off for the package that does not exist."""

from __future__ import annotations

import base64
import hashlib
import io
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from _runs_helpers import Api, task

from airflow_dbx_provider.emulator import EmulatorServer

WHEEL = "dbfs:/libs/tinylib-0.1.0-py3-none-any.whl"


def tiny_wheel(name: str = "tinylib", answer: str = "42") -> bytes:
    """A minimal valid wheel: the module, METADATA, WHEEL and RECORD."""
    dist = f"{name}-0.1.0.dist-info"
    files = {
        f"{name}/__init__.py": f"ANSWER = {answer!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


@pytest.fixture
def offline(dbx_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbx_emulator.config, "library_offline", True)


def put_wheel(api: Api, path: str = WHEEL, content: bytes | None = None) -> None:
    body = {"path": path, "contents": base64.b64encode(content or tiny_wheel()).decode(), "overwrite": True}
    api.post("/api/2.0/dbfs/put", body)


def run_task(
    api: Api, notebook: Callable[[str, str], str], libraries: list[Any], **extra: Any
) -> dict[str, Any]:
    path = notebook("uses_lib", "import tinylib\ndbutils.notebook.exit(tinylib.ANSWER)\n")
    spec = task("nb", path, libraries=libraries, **extra)
    run_id = api.post("/api/2.2/jobs/runs/submit", {"run_name": "libs", "tasks": [spec]})["run_id"]
    return api.wait(run_id, timeout=60)


def test_wheel_from_dbfs_is_installed_and_cached(
    api: Api, notebook: Callable[[str, str], str], offline: None
) -> None:
    put_wheel(api)
    run = run_task(api, notebook, [{"whl": WHEEL}])
    assert run["state"]["result_state"] == "SUCCESS", run["state"]
    assert api.output(run["tasks"][0]["run_id"])["notebook_output"]["result"] == "42"
    started = time.monotonic()
    again = run_task(api, notebook, [{"whl": WHEEL}])  # same set: the installed directory is reused
    assert again["state"]["result_state"] == "SUCCESS"
    assert time.monotonic() - started < 15


def test_without_the_library_the_import_fails(api: Api, notebook: Callable[[str, str], str]) -> None:
    run = run_task(api, notebook, [])
    task_run = run["tasks"][0]
    assert task_run["state"]["result_state"] == "FAILED"
    assert "ModuleNotFoundError" in api.output(task_run["run_id"])["error"]


def library_failure(run: dict[str, Any]) -> str:
    task_run = run["tasks"][0]
    for doc in (run, task_run):
        assert doc["state"]["life_cycle_state"] == "INTERNAL_ERROR", doc["state"]
        assert doc["state"]["result_state"] == "FAILED"
        details = doc["status"]["termination_details"]
        assert (details["code"], details["type"]) == ("LIBRARY_INSTALLATION_ERROR", "CLIENT_ERROR")
    message = str(task_run["state"]["state_message"])
    assert message.startswith("Library installation failed for library due to user error for ")
    assert run["state"]["state_message"] == message
    return message


def test_unknown_package_offline_fails_fast(
    api: Api, notebook: Callable[[str, str], str], offline: None
) -> None:
    started = time.monotonic()
    run = run_task(api, notebook, [{"pypi": {"package": "definitely-not-a-package-xyz"}}])
    message = library_failure(run)
    assert 'pypi {\n  package: "definitely-not-a-package-xyz"\n}' in message
    assert "Error Message: " in message and message.rstrip().split("Error Message: ")[1]
    assert api.output(run["tasks"][0]["run_id"])["error"] == message
    assert time.monotonic() - started < 30


def test_missing_wheel_fails_on_its_cluster(api: Api, notebook: Callable[[str, str], str]) -> None:
    cluster_id = api.cluster()
    run = run_task(
        api, notebook, [{"whl": "dbfs:/libs/missing-1.0-py3-none-any.whl"}], existing_cluster_id=cluster_id
    )
    message = library_failure(run)
    assert 'whl: "dbfs:/libs/missing-1.0-py3-none-any.whl"' in message
    assert f"cluster {cluster_id}" in message and "does not exist" in message


def test_egg_is_not_supported(api: Api, notebook: Callable[[str, str], str]) -> None:
    message = library_failure(run_task(api, notebook, [{"egg": "dbfs:/libs/old.egg"}]))
    assert "egg" in message


def test_preinstalled_and_jvm_libraries_need_no_install(
    api: Api,
    notebook: Callable[[str, str], str],
    offline: None,
    dbx_emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """simplejson ships with the runtime (default list); Faker is added as a test config would;
    maven and jar libraries are for the JVM: accepted, nothing to install here."""
    monkeypatch.setattr(
        dbx_emulator.config, "preinstalled_libraries", [*dbx_emulator.config.preinstalled_libraries, "Faker"]
    )
    put_wheel(api)
    libraries = [
        {"pypi": {"package": "simplejson==3.18.0", "repo": "https://pypi.org/simple"}},
        {"pypi": {"package": "faker"}},
        {"maven": {"coordinates": "org.jsoup:jsoup:1.7.2"}},
        {"whl": WHEEL},
    ]
    run = run_task(api, notebook, libraries)
    assert run["state"]["result_state"] == "SUCCESS", run["state"]
