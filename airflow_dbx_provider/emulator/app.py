"""The ASGI app: auth, rate limits, faults and counters around the route table."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from airflow_dbx_provider.emulator.admin import handle_admin
from airflow_dbx_provider.emulator.composition import Workspace
from airflow_dbx_provider.emulator.errors import (
    EmulatorError,
    bad_target,
    endpoint_not_found,
    malformed_request,
)
from airflow_dbx_provider.emulator.handlers import (
    ClustersHandlers,
    DbfsHandlers,
    IdentityHandlers,
    JobsHandlers,
    PermissionsHandlers,
    SecretsHandlers,
    WorkspaceHandlers,
)
from airflow_dbx_provider.emulator.handlers.entra import EntraHandlers
from airflow_dbx_provider.emulator.handlers.instance_pools import InstancePoolsHandlers
from airflow_dbx_provider.emulator.handlers.sql import SqlHandlers, serve_result_link
from airflow_dbx_provider.emulator.routing import ApiRequest, NoRoute, RawResponse, RouteTable, UploadedFile
from airflow_dbx_provider.emulator.services.sql_results import LINK_PREFIX
from airflow_dbx_provider.emulator.ui import UiSessions, handle_ui, is_ui_path

log = logging.getLogger("airflow_dbx_provider.emulator")

# Databricks: "The maximum allowed size of a request to the Jobs API is 10MB". Other families
# take up to the workspace import limit (10 MB of content, base64 in JSON) plus room for fields.
JOBS_MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64


class ConnectionReset(Exception):
    """Raised by fault injection: the server drops the connection without answering."""


def error_response(err: EmulatorError) -> Response:
    return JSONResponse(err.body(), status_code=err.status_code, headers=err.headers)


def route_table(state: Workspace) -> RouteTable:
    """Every API family's handlers, each bound to the services it needs."""
    return RouteTable(
        [
            JobsHandlers(state.jobs, state.runs, state.run_queries, state.job_operations),
            ClustersHandlers(state.clusters),
            InstancePoolsHandlers(state.instance_pools),
            DbfsHandlers(state.dbfs, state.config),
            SecretsHandlers(state.secrets, state.config),
            WorkspaceHandlers(state.workspace),
            PermissionsHandlers(state.permissions, state.workspace, state.clusters),
            IdentityHandlers(state.config, state.directory),
            SqlHandlers(state.sql_warehouses, state.sql_statements, state.clock, lambda: state.base_url),
        ]
    )


def create_app(state: Workspace) -> Starlette:
    routes = route_table(state)
    ui_sessions = UiSessions(state.auth)
    entra = EntraHandlers(state.entra, state.counters, lambda: state.base_url)

    async def dispatch(request: Request) -> Response:
        path = request.url.path
        method = request.method
        if path.startswith(LINK_PREFIX):  # EXTERNAL_LINKS: a presigned-style URL, no bearer token
            link_answer = _to_response(
                await run_in_threadpool(
                    serve_result_link, state.sql_statements, method, path, request.headers
                )
            )
            state.counters.record(method, LINK_PREFIX + "{token}", "sql-results", link_answer.status_code)
            return link_answer
        if path.startswith("/_emulator/"):
            return await handle_admin(request, state)
        if is_ui_path(path):  # the workspace UI; `run_page_url` (`/?o=..#job/J/run/R`) opens it
            return await handle_ui(request, state, ui_sessions)
        if path == "/.well-known/databricks-config" or path.startswith("/oidc/"):
            return await _identity_endpoint(request, state, entra)
        if not path.startswith("/api/") and (answer := await entra.dispatch(request)) is not None:
            return answer  # Entra ID authority and managed-identity endpoints
        try:
            found = routes.match(method, path)
        except NoRoute as missing:
            err = bad_target(path) if missing.kind == "bad_target" else endpoint_not_found(method, path)
            state.counters.record(method, path, "unknown", err.status_code)
            return error_response(err)
        family = found.route.family
        try:
            action = state.faults.before_request(method, found.route.template, family)
            if action is not None:
                if action.delay_seconds:
                    await asyncio.sleep(action.delay_seconds)
                if action.reset_connection:
                    state.counters.record(method, found.route.template, family, 0)
                    return await _drop_connection(request)
                if action.error is not None:
                    raise action.error
            # A bearer token, or the UI's session cookie (UI reads, and CSRF-checked UI actions).
            principal = ui_sessions.authenticate(
                method, found.route.template, request.headers, request.cookies
            )
            # Charged after authentication: a caller without a valid token spends no budget.
            state.rate_limiter.check(family, method, found.route.template)
            limit = JOBS_MAX_BODY_BYTES if family.startswith(("jobs", "runs")) else MAX_BODY_BYTES
            params, files = await _read_params(request, limit)
            api_request = ApiRequest(
                method=method,
                path=path,
                version=found.version,
                params=params,
                principal=principal,
                path_params=found.path_params,
                headers=dict(request.headers),
                files=files,
            )
            # Off the event loop: a slow request never keeps others (or the health probe) waiting.
            result = await run_in_threadpool(_locked_call, state, found.route.handler, api_request)
            if inspect.isawaitable(result):  # a handler that waits (sql/statements) does so unlocked
                result = await result
            response = _to_response(result)
        except EmulatorError as err:
            response = error_response(err)
        except Exception as exc:  # a bug in a handler: answer 500, keep it for the test to re-raise
            log.exception("unhandled error in %s %s", method, path)
            state.record_server_error(exc)
            response = error_response(EmulatorError("INTERNAL_ERROR", f"Unexpected error: {exc!r}", 500))
        state.counters.record(method, found.route.template, family, response.status_code)
        return response

    app = Starlette(
        routes=[StarletteRoute("/{path:path}", dispatch, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]
    )
    app.state.workspace = state
    return app


def _locked_call(state: Workspace, handler: Any, api_request: ApiRequest) -> Any:
    with state.store.lock:
        return handler(api_request)


async def _drop_connection(request: Request) -> Response:
    """Close the TCP connection without an answer; the server wrapper provides the means."""
    abort = request.scope.get("dbx.abort_connection")
    if abort is None:
        raise ConnectionReset()
    abort()
    await asyncio.sleep(0)  # let the protocol notice, so the response below is discarded
    return Response(status_code=500)


def _to_response(result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, RawResponse):
        return Response(
            result.content,
            status_code=result.status_code,
            media_type=result.media_type,
            headers=result.headers,
        )
    return JSONResponse(result if result is not None else {})


def too_large(limit: int) -> EmulatorError:
    return EmulatorError(
        "REQUEST_ENTITY_TOO_LARGE",
        f"The request is larger than {limit // (1024 * 1024)} MB, the maximum allowed size of a request.",
        413,
    )


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` (never buffered past it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # let request.form() parse what was read
    return body


def check_json_value(value: Any) -> None:
    """Nesting at most MAX_JSON_DEPTH deep; no string a UTF-8 wire could not carry (a lone surrogate)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise malformed_request(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text(key)
                pending.append((child, depth + 1))
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise malformed_request(
            "The request holds a string that is not valid UTF-8 (a lone surrogate)."
        ) from None


async def _read_params(
    request: Request, limit: int = MAX_BODY_BYTES
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Merge query string and body. Airflow's async client sends GET arguments as a JSON body."""
    params: dict[str, Any] = dict(request.query_params)
    for key, value in params.items():
        _check_text(key)
        _check_text(value)
    files: dict[str, UploadedFile] = {}
    body = await _read_body(request, limit)
    content_type = request.headers.get("content-type", "")
    # Only multipart bodies (dbfs/put, workspace/import uploads) are forms. Databricks reads every
    # other body as JSON whatever its content type: its documented `curl --data @body.json`
    # calls send application/x-www-form-urlencoded, and a form-parsed JSON body would become
    # one junk key.
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        for key, value in form.multi_items():
            if hasattr(value, "read"):
                files[key] = UploadedFile(getattr(value, "filename", "") or "", await value.read())
            else:
                params[key] = value
        return params, files
    if body.strip():
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise malformed_request(
                "Invalid JSON given in the body of the request - expected a map"
            ) from None
        if not isinstance(parsed, dict):
            raise malformed_request("Invalid JSON given in the body of the request - expected a map")
        check_json_value(parsed)
        params.update(parsed)
    return params, files


async def _identity_endpoint(request: Request, state: Workspace, entra: EntraHandlers) -> Response:
    """Host metadata and OAuth M2M: what databricks-sdk reads before any API call."""
    base = state.base_url or str(request.base_url).rstrip("/")
    path = request.url.path
    if path == "/.well-known/databricks-config" and request.method == "GET":
        return JSONResponse(
            {
                "oidc_endpoint": f"{base}/oidc",
                "workspace_id": state.config.workspace_id,
                "cloud": "aws",
                "account_id": "",
            }
        )
    if path == "/oidc/.well-known/oauth-authorization-server" and request.method == "GET":
        return JSONResponse(
            {
                "issuer": f"{base}/oidc",
                "authorization_endpoint": f"{base}/oidc/v1/authorize",
                "token_endpoint": f"{base}/oidc/v1/token",
                "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
            }
        )
    if path == "/oidc/v1/token" and request.method == "POST":
        form = {key: str(value) for key, value in (await request.form()).items()}
        if entra.is_token_exchange(form):  # workload identity federation (RFC 8693)
            return await entra.exchange(form)
        try:
            token = state.auth.issue_oauth_token(request.headers.get("authorization"), form)
        except EmulatorError as err:
            state.counters.record("POST", "/oidc/v1/token", "oauth", err.status_code)
            return error_response(err)
        state.counters.record("POST", "/oidc/v1/token", "oauth", 200)
        return JSONResponse(token)
    return error_response(endpoint_not_found(request.method, path))
