"""Workspace API over real HTTP: the SDK's multipart upload/download, notebooks on disk, every error code."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from _families_helpers import LiveEmulator, emulator_fixture, error_of, make_config, start_emulator
from databricks.sdk.errors import NotFound, ResourceAlreadyExists
from databricks.sdk.service.workspace import ImportFormat, Language, ObjectType

live = emulator_fixture()
NOTEBOOK = b"# Databricks notebook source\nprint('hello')\n"


@pytest.fixture
def emu(live: LiveEmulator) -> LiveEmulator:
    live.reset()
    return live


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_sdk_upload_download_and_status(emu: LiveEmulator) -> None:
    w = emu.client()
    w.workspace.mkdirs("/Shared/etl")
    w.workspace.upload("/Shared/etl/job.py", NOTEBOOK, format=ImportFormat.AUTO)
    status = w.workspace.get_status("/Shared/etl/job")  # AUTO strips .py from a notebook
    assert status.object_type == ObjectType.NOTEBOOK and status.language == Language.PYTHON
    assert status.object_id and status.created_at and status.modified_at and status.resource_id
    assert w.workspace.download("/Shared/etl/job").read() == NOTEBOOK
    w.workspace.upload("/Shared/etl/data.csv", b"a,b\n1,2\n", format=ImportFormat.AUTO)
    assert w.workspace.get_status("/Shared/etl/data.csv").object_type == ObjectType.FILE
    w.workspace.upload(
        "/Shared/etl/plain.py", b"print(1)\n", language=Language.PYTHON
    )  # SOURCE, inferred language
    assert w.workspace.download("/Shared/etl/plain.py").read() == b"# Databricks notebook source\nprint(1)\n"
    assert sorted(o.path or "" for o in w.workspace.list("/Shared/etl")) == [
        "/Shared/etl/data.csv",
        "/Shared/etl/job",
        "/Shared/etl/plain.py",
    ]
    with pytest.raises(ResourceAlreadyExists):
        w.workspace.upload("/Shared/etl/job", NOTEBOOK, language=Language.PYTHON)
    w.workspace.upload("/Shared/etl/job", b"print(2)\n", language=Language.PYTHON, overwrite=True)
    assert w.workspace.get_status("/Shared/etl/job").object_id == status.object_id
    assert emu.state.workspace.read_notebook("/Shared/etl/job") == "print(2)\n"
    w.workspace.delete("/Shared/etl", recursive=True)
    with pytest.raises(NotFound):
        w.workspace.get_status("/Shared/etl/job")


def test_json_import_export_and_jupyter(emu: LiveEmulator) -> None:
    body = {
        "path": "/Users/admin@example.com/nb",
        "format": "SOURCE",
        "language": "PYTHON",
        "content": b64(NOTEBOOK),
    }
    assert emu.call("POST", "/api/2.0/workspace/import", json=body).ok
    exported = emu.call("GET", "/api/2.0/workspace/export", params={"path": body["path"]}).json()
    assert exported == {"content": b64(NOTEBOOK), "file_type": "py"}
    jupyter = emu.call(
        "GET", "/api/2.0/workspace/export", params={"path": body["path"], "format": "JUPYTER"}
    ).json()
    notebook = json.loads(base64.b64decode(jupyter["content"]))
    assert jupyter["file_type"] == "ipynb" and notebook["cells"][0]["source"] == ["print('hello')"]
    reimport = {
        "path": "/Users/admin@example.com/nb2.ipynb",
        "format": "JUPYTER",
        "content": jupyter["content"],
    }
    assert emu.call("POST", "/api/2.0/workspace/import", json=reimport).ok
    assert "print('hello')" in emu.state.workspace.read_notebook("/Users/admin@example.com/nb2")
    raw = {"path": "/Shared/raw.py", "format": "RAW", "content": b64(b"x = 1\n")}
    assert emu.call("POST", "/api/2.0/workspace/import", json=raw).ok
    status = emu.call("GET", "/api/2.0/workspace/get-status", params={"path": "/Shared/raw.py"}).json()
    assert status["object_type"] == "FILE" and status["size"] == 6


def test_list_root_and_empty_folder(emu: LiveEmulator) -> None:
    root = emu.call("GET", "/api/2.0/workspace/list", params={"path": "/"}).json()
    assert {o["path"] for o in root["objects"]} >= {"/Users", "/Shared"}
    emu.call("POST", "/api/2.0/workspace/mkdirs", json={"path": "/Shared/empty"})
    emu.call("POST", "/api/2.0/workspace/mkdirs", json={"path": "/Shared/empty"})  # idempotent
    assert emu.call("GET", "/api/2.0/workspace/list", params={"path": "/Shared/empty"}).json() == {}


def test_workspace_dir_notebooks(tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    (notebooks / "etl").mkdir(parents=True)
    (notebooks / "etl" / "load.py").write_text("# Databricks notebook source\nx = 1\n")
    emulator = start_emulator(make_config(data_dir=tmp_path / "data", workspace_dir=notebooks))
    try:
        status = emulator.call("GET", "/api/2.0/workspace/get-status", params={"path": "/etl/load"}).json()
        assert status["object_type"] == "NOTEBOOK" and status["language"] == "PYTHON"
        listed = emulator.call("GET", "/api/2.0/workspace/list", params={"path": "/etl"}).json()
        assert [o["path"] for o in listed["objects"]] == ["/etl/load"]
        assert emulator.client().workspace.download("/etl/load").read().endswith(b"x = 1\n")
        assert emulator.state.workspace.read_notebook("/etl/load").endswith("x = 1\n")
        deleted = emulator.call("POST", "/api/2.0/workspace/delete", json={"path": "/etl/load"})
        assert error_of(deleted) == (403, "PERMISSION_DENIED")
    finally:
        emulator.stop()


def test_read_notebook_missing(emu: LiveEmulator) -> None:
    with pytest.raises(Exception, match=r"Path \(/nope\) doesn't exist.") as missing:
        emu.state.workspace.read_notebook("/nope")
    assert getattr(missing.value, "status_code", None) == 404


def _setup(emu: LiveEmulator) -> None:
    emu.call("POST", "/api/2.0/workspace/mkdirs", json={"path": "/Shared/dir"})
    nb = {"path": "/Shared/dir/nb", "format": "SOURCE", "language": "PYTHON", "content": b64(NOTEBOOK)}
    emu.call("POST", "/api/2.0/workspace/import", json=nb)


def _import(path: str, **extra: Any) -> dict[str, Any]:
    return {"path": path, "format": "SOURCE", "language": "PYTHON", "content": b64(NOTEBOOK), **extra}


ERROR_CASES = [
    ("import-exists", "POST", "import", _import("/Shared/dir/nb"), 400, "RESOURCE_ALREADY_EXISTS"),
    ("import-no-parent", "POST", "import", _import("/Shared/missing/nb"), 404, "RESOURCE_DOES_NOT_EXIST"),
    (
        "import-source-no-language",
        "POST",
        "import",
        _import("/Shared/x", language=None),
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "import-bad-format",
        "POST",
        "import",
        _import("/Shared/x", format="DBC"),
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "import-too-large",
        "POST",
        "import",
        _import("/Shared/x", content=b64(b"0" * (10 * 1024 * 1024 + 1))),
        400,
        "MAX_NOTEBOOK_SIZE_EXCEEDED",
    ),
    (
        "import-over-folder",
        "POST",
        "import",
        _import("/Shared/dir", overwrite=True),
        400,
        "RESOURCE_ALREADY_EXISTS",
    ),
    ("export-missing", "GET", "export", {"path": "/Shared/nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("status-missing", "GET", "get-status", {"path": "/Shared/nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("list-missing", "GET", "list", {"path": "/Shared/nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    (
        "mkdirs-over-notebook",
        "POST",
        "mkdirs",
        {"path": "/Shared/dir/nb/sub"},
        400,
        "RESOURCE_ALREADY_EXISTS",
    ),
    ("delete-missing", "POST", "delete", {"path": "/Shared/nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("delete-not-empty", "POST", "delete", {"path": "/Shared/dir"}, 400, "DIRECTORY_NOT_EMPTY"),
    ("relative-path", "GET", "get-status", {"path": "Shared"}, 400, "INVALID_PARAMETER_VALUE"),
]


@pytest.mark.parametrize(
    ("method", "action", "body", "status", "code"),
    [c[1:] for c in ERROR_CASES],
    ids=[c[0] for c in ERROR_CASES],
)
def test_errors(
    emu: LiveEmulator, method: str, action: str, body: dict[str, Any], status: int, code: str
) -> None:
    _setup(emu)
    body = {k: v for k, v in body.items() if v is not None}
    kwargs: dict[str, Any] = {"params": body} if method == "GET" else {"json": body}
    response = emu.call(method, f"/api/2.0/workspace/{action}", **kwargs)
    assert error_of(response) == (status, code), response.text


def test_mkdirs_over_notebook_message(emu: LiveEmulator) -> None:
    _setup(emu)
    response = emu.call("POST", "/api/2.0/workspace/mkdirs", json={"path": "/Shared/dir/nb/sub"})
    assert response.json()["message"] == "/Shared/dir/nb already exists and it is not a folder"
