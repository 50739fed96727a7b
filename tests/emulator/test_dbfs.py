"""DBFS API over real HTTP: the SDK's streaming upload/download, files on disk, every error code."""

from __future__ import annotations

import base64
import io
import os
from typing import Any

import pytest
from _families_helpers import LiveEmulator, emulator_fixture, error_of, make_config, start_emulator

from airflow_dbx_provider.emulator.services.dbfs import MB

live = emulator_fixture()


@pytest.fixture
def emu(live: LiveEmulator) -> LiveEmulator:
    live.reset()
    return live


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def put(emu: LiveEmulator, path: str, data: bytes, overwrite: bool = False) -> Any:
    return emu.call(
        "POST", "/api/2.0/dbfs/put", json={"path": path, "contents": b64(data), "overwrite": overwrite}
    )


def test_sdk_upload_download_multi_megabyte(emu: LiveEmulator) -> None:
    payload = os.urandom(3 * MB + 12345)
    w = emu.client()
    w.dbfs.upload("dbfs:/tmp/big.bin", io.BytesIO(payload))
    assert w.dbfs.get_status("/tmp/big.bin").file_size == len(payload)
    assert w.dbfs.download("/tmp/big.bin").read() == payload
    assert emu.state.dbfs.local_path("dbfs:/tmp/big.bin").read_bytes() == payload
    assert w.dbfs.exists("/tmp/big.bin") and not w.dbfs.exists("/tmp/missing.bin")


def test_put_read_list_move_delete(emu: LiveEmulator) -> None:
    assert put(emu, "/data/a.txt", b"hello world").ok
    read = emu.call(
        "GET", "/api/2.0/dbfs/read", params={"path": "dbfs:/data/a.txt", "offset": 6, "length": 100}
    )
    assert read.json() == {"bytes_read": 5, "data": b64(b"world")}
    eof = emu.call("GET", "/api/2.0/dbfs/read", params={"path": "/data/a.txt", "offset": 50})
    assert eof.json() == {"bytes_read": 0, "data": ""}
    status = emu.call("GET", "/api/2.0/dbfs/get-status", params={"path": "/data/a.txt"}).json()
    assert status["path"] == "/data/a.txt" and status["file_size"] == 11 and not status["is_dir"]
    assert status["modification_time"] > 0
    listed = emu.call("GET", "/api/2.0/dbfs/list", params={"path": "/data"}).json()
    assert [f["path"] for f in listed["files"]] == ["/data/a.txt"]
    itself = emu.call("GET", "/api/2.0/dbfs/list", params={"path": "/data/a.txt"}).json()
    assert [f["path"] for f in itself["files"]] == ["/data/a.txt"]
    assert emu.call("POST", "/api/2.0/dbfs/mkdirs", json={"path": "/data/empty/deep"}).ok
    assert emu.call("GET", "/api/2.0/dbfs/list", params={"path": "/data/empty/deep"}).json() == {}
    move = {"source_path": "/data", "destination_path": "/archive/data"}
    assert emu.call("POST", "/api/2.0/dbfs/move", json=move).ok
    assert emu.state.dbfs.local_path("/archive/data/a.txt").read_bytes() == b"hello world"
    assert put(emu, "/archive/data/a.txt", b"new", overwrite=True).ok
    assert emu.call("POST", "/api/2.0/dbfs/delete", json={"path": "/archive", "recursive": True}).ok
    assert not emu.state.dbfs.local_path("/archive").exists()
    assert emu.call("POST", "/api/2.0/dbfs/delete", json={"path": "/archive"}).ok  # missing: a no-op


def test_multipart_put_has_no_inline_limit(emu: LiveEmulator) -> None:
    payload = os.urandom(2 * MB)
    response = emu.call(
        "POST",
        "/api/2.0/dbfs/put",
        data={"path": "/up/big.bin", "overwrite": "true"},
        files={"contents": payload},
    )
    assert response.ok, response.text
    assert emu.state.dbfs.local_path("/up/big.bin").read_bytes() == payload


def test_lenient_21_alias(emu: LiveEmulator) -> None:
    assert put(emu, "/x.txt", b"x").ok
    assert emu.call("GET", "/api/2.1/dbfs/get-status", params={"path": "/x.txt"}).ok


def test_strict_versions_bad_target(tmp_path: Any) -> None:
    emulator = start_emulator(make_config(data_dir=tmp_path, strict_versions=True))
    try:
        response = emulator.call("GET", "/api/2.1/dbfs/get-status", params={"path": "/x"})
        assert response.status_code == 404 and response.json() == {
            "error": "Bad Target: /api/2.1/dbfs/get-status"
        }
    finally:
        emulator.stop()


def test_files_survive_a_restart(emu: LiveEmulator) -> None:
    from airflow_dbx_provider.emulator.composition import Workspace

    handle = emu.call("POST", "/api/2.0/dbfs/create", json={"path": "/h.bin"}).json()["handle"]
    emu.call("POST", "/api/2.0/dbfs/add-block", json={"handle": handle, "data": b64(b"abc")})
    reopened = Workspace(emu.state.config)
    try:
        reopened.dbfs.close_handle(handle)  # an open handle outlives the process
        assert reopened.dbfs.local_path("/h.bin").read_bytes() == b"abc"
    finally:
        reopened.store.close()


def _setup_errors(emu: LiveEmulator) -> None:
    put(emu, "/dir/file.txt", b"content")
    put(emu, "/f.txt", b"x")


ERROR_CASES = [
    ("put-exists", "POST", "put", {"path": "/f.txt", "contents": b64(b"y")}, 400, "RESOURCE_ALREADY_EXISTS"),
    (
        "put-too-big",
        "POST",
        "put",
        {"path": "/big", "contents": b64(b"0" * (MB + 1))},
        400,
        "MAX_BLOCK_SIZE_EXCEEDED",
    ),
    (
        "put-on-dir",
        "POST",
        "put",
        {"path": "/dir", "contents": "", "overwrite": True},
        400,
        "RESOURCE_ALREADY_EXISTS",
    ),
    ("put-bad-base64", "POST", "put", {"path": "/b", "contents": "!!"}, 400, "INVALID_PARAMETER_VALUE"),
    ("create-exists", "POST", "create", {"path": "/f.txt"}, 400, "RESOURCE_ALREADY_EXISTS"),
    ("add-block-bad-handle", "POST", "add-block", {"handle": 42, "data": ""}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("close-bad-handle", "POST", "close", {"handle": 42}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("read-missing", "GET", "read", {"path": "/nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("read-dir", "GET", "read", {"path": "/dir"}, 400, "INVALID_PARAMETER_VALUE"),
    ("read-too-long", "GET", "read", {"path": "/f.txt", "length": MB + 1}, 400, "MAX_READ_SIZE_EXCEEDED"),
    ("read-negative", "GET", "read", {"path": "/f.txt", "offset": -1}, 400, "INVALID_PARAMETER_VALUE"),
    ("status-missing", "GET", "get-status", {"path": "/nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("list-missing", "GET", "list", {"path": "/nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("mkdirs-over-file", "POST", "mkdirs", {"path": "/f.txt/sub"}, 400, "RESOURCE_ALREADY_EXISTS"),
    ("delete-non-empty", "POST", "delete", {"path": "/dir"}, 400, "IO_ERROR"),
    (
        "move-missing",
        "POST",
        "move",
        {"source_path": "/nope", "destination_path": "/n"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    (
        "move-onto-existing",
        "POST",
        "move",
        {"source_path": "/f.txt", "destination_path": "/dir"},
        400,
        "RESOURCE_ALREADY_EXISTS",
    ),
    ("relative-path", "GET", "get-status", {"path": "data/x"}, 400, "INVALID_PARAMETER_VALUE"),
    ("dotdot-escape", "GET", "get-status", {"path": "/../../etc/passwd"}, 400, "INVALID_PARAMETER_VALUE"),
]


@pytest.mark.parametrize(
    ("method", "action", "body", "status", "code"),
    [c[1:] for c in ERROR_CASES],
    ids=[c[0] for c in ERROR_CASES],
)
def test_errors(
    emu: LiveEmulator, method: str, action: str, body: dict[str, Any], status: int, code: str
) -> None:
    _setup_errors(emu)
    kwargs: dict[str, Any] = {"params": body} if method == "GET" else {"json": body}
    response = emu.call(method, f"/api/2.0/dbfs/{action}", **kwargs)
    assert error_of(response) == (status, code), response.text


def test_missing_path_message(emu: LiveEmulator) -> None:
    response = emu.call("GET", "/api/2.0/dbfs/list", params={"path": "/x"})
    assert response.json()["message"] == "No file or directory exists on path /x."


def test_local_path_contract(emu: LiveEmulator) -> None:
    root = emu.state.data_dir / "dbfs"
    assert emu.state.dbfs.local_path("dbfs:/a/b.txt") == root / "a" / "b.txt"
    assert emu.state.dbfs.local_path("/a/b.txt") == root / "a" / "b.txt"
    with pytest.raises(Exception, match="must not contain"):
        emu.state.dbfs.local_path("/a/../../b")
