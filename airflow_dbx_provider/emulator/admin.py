"""`/_emulator/*`: test controls (admin token required).

The run page `run_page_url` opens (`/?o=<ws>#job/<job>/run/<run>`) is the workspace UI (`ui/`).

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

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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
