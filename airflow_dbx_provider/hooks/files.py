"""DBFS and Workspace API methods of the sync hook (content is base64 on the wire)."""

from __future__ import annotations

import base64
import io
from typing import Any, BinaryIO

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks.api import EP
from airflow_dbx_provider.hooks.jobs import _Caller

#: DBFS limits: inline ``put`` and each ``add-block``/``read`` carry at most 1 MB of raw data.
DBFS_BLOCK_BYTES = 1024 * 1024
DBFS_PUT_MAX_BYTES = 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class DbfsMixin(_Caller):
    def dbfs_put(self, path: str, contents: bytes, overwrite: bool = False) -> dict[str, Any]:
        """Write a small file (≤ 1 MB) in one call; use :meth:`dbfs_upload` for anything bigger."""
        if len(contents) > DBFS_PUT_MAX_BYTES:
            raise DatabricksConfigError(
                f"dbfs/put: contents is {len(contents)} bytes, over the 1 MB inline limit (use dbfs_upload)"
            )
        return self.call(EP.DBFS_PUT, path=path, contents=_b64(contents), overwrite=overwrite)

    def dbfs_upload(self, path: str, data: bytes | BinaryIO, overwrite: bool = False) -> None:
        """Write a file of any size: create, add-block in 1 MB raw blocks, close."""
        stream: BinaryIO = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
        handle = self.call(EP.DBFS_CREATE, path=path, overwrite=overwrite)["handle"]
        try:
            while True:
                block = stream.read(DBFS_BLOCK_BYTES)
                if not block:
                    break
                self.call(EP.DBFS_ADD_BLOCK, handle=handle, data=_b64(block))
        finally:
            self.call(EP.DBFS_CLOSE, handle=handle)

    def dbfs_read(self, path: str, offset: int = 0, length: int | None = None) -> dict[str, Any]:
        """One ``read`` call: ``{bytes_read, data}`` with ``data`` still base64."""
        return self.call(EP.DBFS_READ, path=path, offset=offset, length=length)

    def dbfs_download(self, path: str) -> bytes:
        """The whole file: get-status, then 1 MiB reads until ``file_size`` (or EOF)."""
        size = int(self.dbfs_get_status(path).get("file_size", 0))
        out = bytearray()
        while len(out) < size:
            chunk = self.dbfs_read(path, offset=len(out), length=DBFS_BLOCK_BYTES)
            if not int(chunk.get("bytes_read", 0)):
                break
            out += base64.b64decode(chunk.get("data", ""))
        return bytes(out)

    def dbfs_list(self, path: str) -> list[dict[str, Any]]:
        return list(self.call(EP.DBFS_LIST, path=path).get("files") or [])

    def dbfs_get_status(self, path: str) -> dict[str, Any]:
        return self.call(EP.DBFS_GET_STATUS, path=path)

    def dbfs_mkdirs(self, path: str) -> dict[str, Any]:
        return self.call(EP.DBFS_MKDIRS, path=path)

    def dbfs_delete(self, path: str, recursive: bool = False) -> dict[str, Any]:
        return self.call(EP.DBFS_DELETE, path=path, recursive=recursive)

    def dbfs_move(self, src: str, dst: str) -> dict[str, Any]:
        return self.call(EP.DBFS_MOVE, source_path=src, destination_path=dst)


class WorkspaceMixin(_Caller):
    def workspace_import(
        self,
        path: str,
        content: bytes,
        format: str = "SOURCE",
        language: str | None = "PYTHON",
        overwrite: bool = False,
    ) -> dict[str, Any]:
        """Import a notebook or file (``language`` is required by SOURCE for single files)."""
        return self.call(
            EP.WORKSPACE_IMPORT,
            path=path,
            content=_b64(content),
            format=format,
            language=language,
            overwrite=overwrite,
        )

    def workspace_export(self, path: str, format: str = "SOURCE") -> bytes:
        return base64.b64decode(self.call(EP.WORKSPACE_EXPORT, path=path, format=format).get("content", ""))

    def workspace_get_status(self, path: str) -> dict[str, Any]:
        return self.call(EP.WORKSPACE_GET_STATUS, path=path)

    def workspace_list(self, path: str) -> list[dict[str, Any]]:
        return list(self.call(EP.WORKSPACE_LIST, path=path).get("objects") or [])

    def workspace_mkdirs(self, path: str) -> dict[str, Any]:
        return self.call(EP.WORKSPACE_MKDIRS, path=path)

    def workspace_delete(self, path: str, recursive: bool = False) -> dict[str, Any]:
        return self.call(EP.WORKSPACE_DELETE, path=path, recursive=recursive)
