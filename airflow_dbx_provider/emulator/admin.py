"""`/_emulator/*`: test controls (admin token required) and the public run page at `/`.

| Route | Body / effect |
|---|---|
| `GET /_emulator/health` | `{"status": "ok"}` (no token needed) |
| `POST /_emulator/reset` | forget every job, run, cluster, file; clear faults and counters |
| `GET /_emulator/counters` | request counts per endpoint and status, runs created, active runs |
| `POST /_emulator/faults` | `{"target": "runs/get", "sequence": ["503", "503"]}` or `{"target", "kind", "count"}` (scripted) or `{"target", "kind", "probability"}`; `"slow_seconds"` |
| `DELETE /_emulator/faults` | clear all faults |
| `GET /_emulator/faults` | what is configured |
| `POST /_emulator/rate-limits` | `{"enabled": bool, "rate_limits": {"runs_read": 5}}` |
| `POST /_emulator/oauth/expire-tokens` | every issued OAuth token is now expired |
| `POST /_emulator/time-scale` | `{"time_scale": 0.01}` |
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from airflow_dbx_provider.emulator.errors import (
    EmulatorError,
    endpoint_not_found,
    invalid_parameter,
    permission_denied,
)

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.composition import Workspace


MAX_ADMIN_BODY_BYTES = 1024 * 1024


async def handle_admin(request: Request, state: Workspace) -> Response:
    path, method = request.url.path, request.method
    try:
        if path == "/_emulator/health":
            return JSONResponse({"status": "ok", "workspace_id": state.config.workspace_id})
        principal = state.auth.authenticate(request.headers.get("authorization"))
        if not principal.is_admin:
            raise permission_denied("The emulator's control API needs the admin token.")
        body = await _json(request)
        with state.store.lock:
            try:
                result = _dispatch(method, path, body, state)
            except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
                # A malformed control request is the caller's mistake: a JSON 400, never a 500.
                raise invalid_parameter(f"Invalid control request: {type(exc).__name__}") from None
    except EmulatorError as err:
        return JSONResponse(err.body(), status_code=err.status_code, headers=err.headers)
    return JSONResponse(result)


async def _json(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ADMIN_BODY_BYTES:
        raise EmulatorError("REQUEST_ENTITY_TOO_LARGE", "The control request is larger than 1 MB.", 413)
    raw = await request.body()
    if len(raw) > MAX_ADMIN_BODY_BYTES:
        raise EmulatorError("REQUEST_ENTITY_TOO_LARGE", "The control request is larger than 1 MB.", 413)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise invalid_parameter("Invalid JSON body") from None
    if not isinstance(body, dict):
        raise invalid_parameter("Expected a JSON object")
    return body


def _dispatch(method: str, path: str, body: dict[str, Any], state: Workspace) -> dict[str, Any]:
    if (method, path) == ("POST", "/_emulator/reset"):
        state.reset()
        return {}
    if (method, path) == ("GET", "/_emulator/counters"):
        return state.counters.snapshot()
    if path == "/_emulator/faults":
        if method == "DELETE":
            state.faults.reset()
            return {}
        if method == "POST":
            configure_faults(state, body)
        return state.faults.describe()
    if (method, path) == ("POST", "/_emulator/rate-limits"):
        limits = body.get("rate_limits")
        if limits is not None and not isinstance(limits, dict):
            raise invalid_parameter("rate_limits must map a family to requests per second")
        enabled = body.get("enabled")
        state.rate_limiter.configure(
            {str(k): float(v) for k, v in limits.items()} if limits else None,
            None if enabled is None else bool(enabled),
        )
        return state.rate_limiter.describe()
    if (method, path) == ("GET", "/_emulator/rate-limits"):
        return state.rate_limiter.describe()
    if (method, path) == ("POST", "/_emulator/oauth/expire-tokens"):
        state.auth.expire_oauth_tokens()
        return {}
    if (method, path) == ("POST", "/_emulator/time-scale"):
        scale = float(body.get("time_scale", 0))
        if not 0 < scale <= 1000:  # NaN fails this too
            raise invalid_parameter("time_scale must be > 0 and at most 1000")
        state.clock.time_scale = scale
        return {"time_scale": scale}
    raise endpoint_not_found(method, path)


def configure_faults(state: Workspace, body: dict[str, Any]) -> None:
    """One fault rule (or `{"rules": [...]}`): scripted by sequence/count, or by probability."""
    rules = body.get("rules", [body])
    if "slow_seconds" in body:
        state.faults.slow_seconds = float(body["slow_seconds"])
    for rule in rules:
        target = str(rule.get("target") or rule.get("family") or "*")
        if "sequence" in rule:
            state.faults.script(target, [str(k) for k in rule["sequence"]])
        elif "probability" in rule:
            state.faults.set_probability(target, str(rule["kind"]), float(rule["probability"]))
        elif "kind" in rule:
            state.faults.fail_next(target, str(rule["kind"]), int(rule.get("count", 1)))


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Databricks emulator runs</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.2em .8em;text-align:left}}
.SUCCESS{{color:green}}.FAILED,.TIMEDOUT,.INTERNAL_ERROR{{color:#b00}}</style></head><body>
<h1>Workspace {ws}: recent runs</h1><p id="focus"></p>
<table><tr><th>run</th><th>job</th><th>name</th><th>type</th><th>state</th><th>result</th><th>message</th><th>tasks</th></tr>
{rows}</table>
<script>var m=location.hash.match(/job\\/(\\d+)\\/run\\/(\\d+)/);if(m){{var r=document.getElementById('run-'+m[2]);
document.getElementById('focus').textContent='Run '+m[2]+' of job '+m[1]+(r?'':' (not among the recent runs)');
if(r){{r.style.background='#ffd';r.scrollIntoView();}}}}</script></body></html>"""


_SIGN_IN = """<p>Runs are shown to whoever may view them: sign in with your token (kept in a
same-site cookie for this page only).</p><form onsubmit="document.cookie='dbx_emulator_token='+
encodeURIComponent(this.t.value)+';path=/;SameSite=Strict';location.reload();return false">
<input name="t" type="password" placeholder="token" autocomplete="off"> <button>Show my runs</button></form>"""
TOKEN_COOKIE = "dbx_emulator_token"


def run_page(state: Workspace, request: Request | None = None, limit: int = 200) -> HTMLResponse:
    """What `run_page_url` (`/?o=<ws>#job/<job>/run/<run>`) opens: recent runs and their states.

    A principal sees only the runs its token may view (CAN_VIEW on the run's job, admins all),
    from an `Authorization: Bearer` header or the `dbx_emulator_token` cookie the page's sign-in
    form sets (a browser cannot send a header). Without a valid token: no runs at all.
    """
    authorization = request.headers.get("authorization") if request is not None else None
    cookie = request.cookies.get(TOKEN_COOKIE) if request is not None else None
    if not authorization and cookie:
        authorization = f"Bearer {cookie}"
    try:
        principal = state.auth.authenticate(authorization) if authorization else None
    except EmulatorError:
        principal = None
    if principal is None:
        page = _PAGE.format(ws=html.escape(state.config.workspace_id), rows="")
        return HTMLResponse(page.replace('<p id="focus"></p>', '<p id="focus"></p>' + _SIGN_IN))
    with state.store.lock:
        visible = [
            r
            for r in state.run_registry.runs.values()
            if state.permissions.job_permission_level(principal, r["job_id"]) is not None
        ]
        runs = sorted(visible, key=lambda r: r["run_id"], reverse=True)[:limit]
        rows = []
        for run in runs:
            st = run["state"]
            tasks = ", ".join(
                f"{html.escape(t['task_key'])}#{t['attempt_number']}: "
                f"{t['state'].get('result_state') or t['state']['life_cycle_state']}"
                for t in run["tasks"]
            )
            result = st.get("result_state", "")
            rows.append(
                f'<tr id="run-{run["run_id"]}"><td>{run["run_id"]}</td><td>{run["job_id"]}</td>'
                f"<td>{html.escape(str(run['run_name']))}</td><td>{run['run_type']}</td>"
                f'<td>{st["life_cycle_state"]}</td><td class="{result}">{result}</td>'
                f"<td>{html.escape(st.get('state_message', ''))}</td><td>{tasks}</td></tr>"
            )
    return HTMLResponse(_PAGE.format(ws=html.escape(state.config.workspace_id), rows="\n".join(rows)))
