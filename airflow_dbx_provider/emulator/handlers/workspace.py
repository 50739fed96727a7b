"""Workspace API 2.0: import (JSON or the SDK's multipart upload), export, get-status, list, mkdirs, delete."""

from __future__ import annotations

import base64
from typing import Any

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.handlers.dbfs import decode_base64
from airflow_dbx_provider.emulator.routing import ApiRequest, RawResponse, route


def workspace_route(method: str, action: str) -> Any:
    return route(method, f"/workspace/{action}", family="workspace", versions=("2.0",))


def _path(req: ApiRequest) -> str:
    return str(req.str("path", required=True))


@workspace_route("POST", "import")
def import_object(req: ApiRequest) -> dict[str, Any]:
    uploaded = req.files.get("content")
    if uploaded is not None:
        content = uploaded.content
    else:
        raw = req.get("content")
        if raw is None:
            raise invalid_parameter("Missing required field: content")
        content = decode_base64(raw, "content")
    req.state.workspace.import_object(
        _path(req),
        content,
        req.str("format", "SOURCE") or "SOURCE",
        req.str("language"),
        req.bool("overwrite"),
    )
    return {}


@workspace_route("GET", "export")
def export(req: ApiRequest) -> Any:
    """Base64 JSON, or the raw bytes with `direct_download=true` (what the SDK's `download()` asks for)."""
    content, file_type = req.state.workspace.export(_path(req), req.str("format", "SOURCE") or "SOURCE")
    if req.bool("direct_download"):
        return RawResponse(content)
    return {"content": base64.b64encode(content).decode(), "file_type": file_type}


@workspace_route("GET", "get-status")
def get_status(req: ApiRequest) -> dict[str, Any]:
    return req.state.workspace.get_status(_path(req))


@workspace_route("GET", "list")
def list_objects(req: ApiRequest) -> dict[str, Any]:
    objects = req.state.workspace.list_objects(_path(req), req.int("notebooks_modified_after"))
    return {"objects": objects} if objects else {}


@workspace_route("POST", "mkdirs")
def mkdirs(req: ApiRequest) -> dict[str, Any]:
    req.state.workspace.mkdirs(_path(req))
    return {}


@workspace_route("POST", "delete")
def delete(req: ApiRequest) -> dict[str, Any]:
    req.state.workspace.delete(_path(req), req.bool("recursive"))
    return {}
