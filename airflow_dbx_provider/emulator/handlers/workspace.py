"""Workspace API 2.0: import (JSON or the SDK's multipart upload), export, get-status, list, mkdirs, delete."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.routing import ApiRequest, RawResponse, route
from airflow_dbx_provider.emulator.wire import decode_base64

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.services.workspace_objects import WorkspaceObjectsService


def workspace_route(method: str, action: str) -> Any:
    return route(method, f"/workspace/{action}", family="workspace", versions=("2.0",))


def _path(req: ApiRequest) -> str:
    return req.required_str("path")


class WorkspaceHandlers:
    def __init__(self, workspace: WorkspaceObjectsService) -> None:
        self.workspace = workspace

    @workspace_route("POST", "import")
    def import_object(self, req: ApiRequest) -> dict[str, Any]:
        uploaded = req.files.get("content")
        if uploaded is not None:
            content = uploaded.content
        else:
            raw = req.get("content")
            if raw is None:
                raise invalid_parameter("Missing required field: content")
            content = decode_base64(raw, "content")
        self.workspace.import_object(
            req.principal,
            _path(req),
            content,
            req.str("format", "SOURCE") or "SOURCE",
            req.str("language"),
            req.bool("overwrite"),
        )
        return {}

    @workspace_route("GET", "export")
    def export(self, req: ApiRequest) -> Any:
        """Base64 JSON, or the raw bytes with `direct_download=true` (what the SDK's `download()` asks for)."""
        content, file_type = self.workspace.export(
            req.principal, _path(req), req.str("format", "SOURCE") or "SOURCE"
        )
        if req.bool("direct_download"):
            return RawResponse(content)
        return {"content": base64.b64encode(content).decode(), "file_type": file_type}

    @workspace_route("GET", "get-status")
    def get_status(self, req: ApiRequest) -> dict[str, Any]:
        return self.workspace.get_status(req.principal, _path(req))

    @workspace_route("GET", "list")
    def list_objects(self, req: ApiRequest) -> dict[str, Any]:
        objects = self.workspace.list_objects(req.principal, _path(req), req.int("notebooks_modified_after"))
        return {"objects": objects} if objects else {}

    @workspace_route("POST", "mkdirs")
    def mkdirs(self, req: ApiRequest) -> dict[str, Any]:
        self.workspace.mkdirs(req.principal, _path(req))
        return {}

    @workspace_route("POST", "delete")
    def delete(self, req: ApiRequest) -> dict[str, Any]:
        self.workspace.delete(req.principal, _path(req), req.bool("recursive"))
        return {}
