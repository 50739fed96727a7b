"""DBFS API 2.0 (plus a lenient, undocumented 2.1 alias that strict mode answers with Bad Target)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import bad_target
from airflow_dbx_provider.emulator.routing import ApiRequest, route
from airflow_dbx_provider.emulator.services.dbfs import DEFAULT_READ_BYTES, MAX_BLOCK_BYTES, block_too_large
from airflow_dbx_provider.emulator.wire import decode_base64

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.config import EmulatorConfig
    from airflow_dbx_provider.emulator.services.dbfs import DbfsService


def dbfs_route(method: str, action: str) -> Any:
    return route(method, f"/dbfs/{action}", family="dbfs", versions=("2.0", "2.1"))


def check_version(req: ApiRequest, config: EmulatorConfig) -> None:
    """DBFS and Secrets exist only under 2.0; strict mode answers other versions like Databricks."""
    if req.version != "2.0" and config.strict_versions:
        raise bad_target(req.path)


def _check_base64_size(value: Any) -> None:
    """Refuse an oversized block before decoding it."""
    if isinstance(value, str) and len(value) > (MAX_BLOCK_BYTES * 4) // 3 + 4:
        raise block_too_large(len(value) * 3 // 4)


class DbfsHandlers:
    def __init__(self, dbfs: DbfsService, config: EmulatorConfig) -> None:
        self.dbfs = dbfs
        self.config = config

    def _path(self, req: ApiRequest, name: str = "path") -> str:
        check_version(req, self.config)
        return req.required_str(name)

    @dbfs_route("POST", "put")
    def put(self, req: ApiRequest) -> dict[str, Any]:
        """JSON with base64 `contents` (at most 1 MB), or multipart with a `contents` file part."""
        check_version(req, self.config)
        uploaded = req.files.get("contents")
        if uploaded is not None:
            contents = uploaded.content
        else:
            inline = req.get("contents")
            _check_base64_size(inline)
            contents = decode_base64(inline, "contents")
            if len(contents) > MAX_BLOCK_BYTES:
                raise block_too_large(len(contents))
        self.dbfs.put(self._path(req), contents, req.bool("overwrite"))
        return {}

    @dbfs_route("POST", "create")
    def create(self, req: ApiRequest) -> dict[str, Any]:
        return {"handle": self.dbfs.create(self._path(req), req.bool("overwrite"))}

    @dbfs_route("POST", "add-block")
    def add_block(self, req: ApiRequest) -> dict[str, Any]:
        check_version(req, self.config)
        handle = req.int("handle", required=True) or 0
        data = req.get("data")
        _check_base64_size(data)
        self.dbfs.add_block(handle, decode_base64(data, "data"))
        return {}

    @dbfs_route("POST", "close")
    def close(self, req: ApiRequest) -> dict[str, Any]:
        check_version(req, self.config)
        self.dbfs.close_handle(req.int("handle", required=True) or 0)
        return {}

    @dbfs_route("GET", "read")
    def read(self, req: ApiRequest) -> dict[str, Any]:
        check_version(req, self.config)
        offset = req.int("offset", 0) or 0
        length = req.int("length", DEFAULT_READ_BYTES)
        data = self.dbfs.read(self._path(req), offset, DEFAULT_READ_BYTES if length is None else length)
        return {"bytes_read": len(data), "data": base64.b64encode(data).decode()}

    @dbfs_route("GET", "get-status")
    def get_status(self, req: ApiRequest) -> dict[str, Any]:
        return self.dbfs.get_status(self._path(req))

    @dbfs_route("GET", "list")
    def list_files(self, req: ApiRequest) -> dict[str, Any]:
        files = self.dbfs.list_dir(self._path(req))
        return {"files": files} if files else {}

    @dbfs_route("POST", "mkdirs")
    def mkdirs(self, req: ApiRequest) -> dict[str, Any]:
        self.dbfs.mkdirs(self._path(req))
        return {}

    @dbfs_route("POST", "delete")
    def delete(self, req: ApiRequest) -> dict[str, Any]:
        self.dbfs.delete(self._path(req), req.bool("recursive"))
        return {}

    @dbfs_route("POST", "move")
    def move(self, req: ApiRequest) -> dict[str, Any]:
        self.dbfs.move(self._path(req, "source_path"), self._path(req, "destination_path"))
        return {}
