"""DBFS API 2.0 (plus a lenient, undocumented 2.1 alias that strict mode answers with Bad Target)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from airflow_dbx_provider.emulator.errors import bad_target, invalid_parameter
from airflow_dbx_provider.emulator.routing import ApiRequest, route
from airflow_dbx_provider.emulator.services.dbfs import DEFAULT_READ_BYTES, MAX_BLOCK_BYTES, block_too_large


def dbfs_route(method: str, action: str) -> Any:
    return route(method, f"/dbfs/{action}", family="dbfs", versions=("2.0", "2.1"))


def _check_version(req: ApiRequest) -> None:
    if req.version != "2.0" and req.state.config.strict_versions:
        raise bad_target(req.path)


def decode_base64(value: Any, name: str) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str):
        raise invalid_parameter(f"Invalid value for field {name}: expected a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_parameter(f"Invalid value for field {name}: not valid base64") from None


def _path(req: ApiRequest, name: str = "path") -> str:
    return str(req.str(name, required=True))


@dbfs_route("POST", "put")
def put(req: ApiRequest) -> dict[str, Any]:
    """JSON with base64 `contents` (at most 1 MB), or multipart with a `contents` file part."""
    _check_version(req)
    uploaded = req.files.get("contents")
    if uploaded is not None:
        contents = uploaded.content
    else:
        inline = req.get("contents")
        if isinstance(inline, str) and len(inline) > (MAX_BLOCK_BYTES * 4) // 3 + 4:
            raise block_too_large(len(inline) * 3 // 4)
        contents = decode_base64(inline, "contents")
        if len(contents) > MAX_BLOCK_BYTES:
            raise block_too_large(len(contents))
    req.state.dbfs.put(_path(req), contents, req.bool("overwrite"))
    return {}


@dbfs_route("POST", "create")
def create(req: ApiRequest) -> dict[str, Any]:
    _check_version(req)
    return {"handle": req.state.dbfs.create(_path(req), req.bool("overwrite"))}


@dbfs_route("POST", "add-block")
def add_block(req: ApiRequest) -> dict[str, Any]:
    _check_version(req)
    handle = req.int("handle", required=True) or 0
    data = req.get("data")
    if isinstance(data, str) and len(data) > (MAX_BLOCK_BYTES * 4) // 3 + 4:
        raise block_too_large(len(data) * 3 // 4)
    req.state.dbfs.add_block(handle, decode_base64(data, "data"))
    return {}


@dbfs_route("POST", "close")
def close(req: ApiRequest) -> dict[str, Any]:
    _check_version(req)
    req.state.dbfs.close_handle(req.int("handle", required=True) or 0)
    return {}


@dbfs_route("GET", "read")
def read(req: ApiRequest) -> dict[str, Any]:
    _check_version(req)
    offset = req.int("offset", 0) or 0
    length = req.int("length", DEFAULT_READ_BYTES)
    data = req.state.dbfs.read(_path(req), offset, DEFAULT_READ_BYTES if length is None else length)
    return {"bytes_read": len(data), "data": base64.b64encode(data).decode()}


@dbfs_route("GET", "get-status")
def get_status(req: ApiRequest) -> dict[str, Any]:
    _check_version(req)
    return req.state.dbfs.get_status(_path(req))


@dbfs_route("GET", "list")
def list_files(req: ApiRequest) -> dict[str, Any]:
    _check_version(req)
    files = req.state.dbfs.list_dir(_path(req))
    return {"files": files} if files else {}


@dbfs_route("POST", "mkdirs")
def mkdirs(req: ApiRequest) -> dict[str, Any]:
    _check_version(req)
    req.state.dbfs.mkdirs(_path(req))
    return {}


@dbfs_route("POST", "delete")
def delete(req: ApiRequest) -> dict[str, Any]:
    _check_version(req)
    req.state.dbfs.delete(_path(req), req.bool("recursive"))
    return {}


@dbfs_route("POST", "move")
def move(req: ApiRequest) -> dict[str, Any]:
    _check_version(req)
    req.state.dbfs.move(_path(req, "source_path"), _path(req, "destination_path"))
    return {}
