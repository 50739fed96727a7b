"""The workspace UI's own routes: the page at `/`, its static files, login, logout, the Delta view.

| Route | What |
|---|---|
| `GET /` (`/?o=<ws>#job/<job>/run/<run>` is `run_page_url`) | the page; its script reads the fragment |
| `GET /ui/static/{app.js,app.css}` | the script and the style sheet |
| `POST /ui/login` | `{"token": ...}`: a session cookie (HttpOnly, SameSite=Strict) and the CSRF token |
| `POST /ui/logout` | ends the session (needs `X-CSRF-Token`) |
| `GET /ui/api/session` | who is signed in, and the CSRF token for the page's POST calls |
| `GET /ui/api/delta?path=dbfs:/x&rows=50` | schema, history and first rows of a Delta table |

Everything else the page shows comes from the REST API itself (jobs, runs, DBFS, secrets), with
the session cookie standing in for the token (see `sessions.py`), so the same permission checks
apply. Every answer here carries a Content-Security-Policy that allows no inline script.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from airflow_dbx_provider.emulator.errors import (
    EmulatorError,
    endpoint_not_found,
    invalid_parameter,
    permission_denied,
)
from airflow_dbx_provider.emulator.services.dbfs import normalize
from airflow_dbx_provider.emulator.ui.delta import MAX_ROWS, read_delta_table
from airflow_dbx_provider.emulator.ui.sessions import COOKIE_NAME, IDLE_SECONDS, UiSessions

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.composition import Workspace

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
DELTA_TEMPLATE = "/ui/api/delta"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_ui_path(path: str) -> bool:
    return path == "/" or path.startswith("/ui/")


async def handle_ui(request: Request, state: Workspace, sessions: UiSessions) -> Response:
    path, method = request.url.path, request.method
    try:
        if method == "GET" and path in ("/", "/ui/login"):
            response: Response = _page()
        elif method == "GET" and path.startswith("/ui/static/"):
            response = _static(path.removeprefix("/ui/static/"))
        elif (method, path) == ("POST", "/ui/login"):
            response = await _login(request, state, sessions)
        elif (method, path) == ("POST", "/ui/logout"):
            response = _logout(request, sessions)
        elif (method, path) == ("GET", "/ui/api/session"):
            session, principal = sessions.session(request.cookies.get(COOKIE_NAME))
            response = JSONResponse(
                {
                    "user_name": principal.name,
                    "kind": principal.kind,
                    "is_admin": principal.is_admin,
                    "workspace_id": state.config.workspace_id,
                    "csrf_token": session.csrf_token,
                }
            )
        elif (method, path) == ("GET", DELTA_TEMPLATE):
            response = await _delta(request, state, sessions)
        else:
            raise endpoint_not_found(method, path)
    except EmulatorError as err:
        response = JSONResponse(err.body(), status_code=err.status_code, headers=err.headers)
    response.headers.update(SECURITY_HEADERS)
    return response


def _page() -> Response:
    return Response((STATIC / "index.html").read_bytes(), media_type="text/html; charset=utf-8")


def _static(name: str) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:  # a fixed list: no path from the URL ever reaches the file system
        raise endpoint_not_found("GET", f"/ui/static/{name}")
    return Response((STATIC / name).read_bytes(), media_type=media_type)


def _check_origin(request: Request, state: Workspace) -> None:
    """A login or logout posted from another site is refused (SameSite covers only the cookie)."""
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser's cross-origin request (a test client, curl)
    own = {f"{request.url.scheme}://{request.headers.get('host', '')}", state.base_url.rstrip("/")}
    if origin not in own:
        raise permission_denied("The workspace UI accepts sign-ins only from its own pages.")


async def _login(request: Request, state: Workspace, sessions: UiSessions) -> Response:
    _check_origin(request, state)
    content_type = request.headers.get("content-type", "")
    is_form = content_type.startswith("application/x-www-form-urlencoded")
    if is_form:
        token = str((await request.form()).get("token") or "")
    else:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise invalid_parameter("Invalid JSON body") from None
        token = str(body.get("token") or "") if isinstance(body, dict) else ""
    session_id, session, principal = sessions.login(token)
    response: Response
    if is_form:  # the page without its script: back to the start page
        response = RedirectResponse("/", status_code=303)
    else:
        response = JSONResponse(
            {"user_name": principal.name, "is_admin": principal.is_admin, "csrf_token": session.csrf_token}
        )
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        max_age=IDLE_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def _logout(request: Request, sessions: UiSessions) -> Response:
    session_id = request.cookies.get(COOKIE_NAME)
    session, _ = sessions.session(session_id)
    sessions.check_csrf(session, request.headers)
    sessions.logout(session_id)
    response = JSONResponse({})
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response


async def _delta(request: Request, state: Workspace, sessions: UiSessions) -> Response:
    sessions.authenticate("GET", DELTA_TEMPLATE, request.headers, request.cookies)
    state.rate_limiter.check("dbfs", "GET", DELTA_TEMPLATE)
    path = normalize(request.query_params.get("path"))
    rows = _rows(request.query_params.get("rows"))
    folder = state.dbfs.local_path(path)
    # deltalake reads files and decodes parquet: a worker thread, never the event loop.
    result: dict[str, Any] = await run_in_threadpool(read_delta_table, folder, path, rows)
    state.counters.record("GET", DELTA_TEMPLATE, "dbfs", 200)
    return JSONResponse(result)


def _rows(raw: str | None) -> int:
    if raw is None:
        return 20
    if not raw.isdigit() or not 0 <= int(raw) <= MAX_ROWS:
        raise invalid_parameter(f"rows must be a whole number from 0 to {MAX_ROWS}.")
    return int(raw)
