"""The demo "external orders API" of the example pipeline: a small Starlette app.

    GET /v1/orders?start=2024-01-01&end=2024-01-07&page=1&page_size=100
        header X-API-Key: <key>
    -> 200 {"data": [...], "page": 1, "page_size": 100, "total": 231, "total_pages": 3, "next_page": 2}

    GET /v1/health -> 200 {"status": "ok"}   (no key needed)

Behaviour a real API has and a demo should exercise:
- 401 without, or with a wrong, ``X-API-Key``;
- 400 with a JSON ``error`` for bad query parameters;
- optional throttling: every Nth call answers 429 with ``Retry-After``, so clients must back off.
"""

from __future__ import annotations

import datetime as dt
import hmac
import threading
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .data import orders_for_window

DEMO_API_KEY = "dbx-sample-source-demo-key"
MAX_WINDOW_DAYS = 366
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100


@dataclass
class OrdersApiSettings:
    """``api_key``: what X-API-Key must be; every ``throttle_every``-th call (0: never) answers 429."""

    api_key: str = DEMO_API_KEY
    throttle_every: int = 0
    retry_after_seconds: int = 1


class _BadRequest(Exception):
    pass


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


def _date_param(params: Any, name: str) -> dt.date:
    raw = params.get(name)
    if not raw:
        raise _BadRequest(f"query parameter '{name}' is required (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise _BadRequest(f"query parameter '{name}' must be a date YYYY-MM-DD, got {raw!r}") from None


def _int_param(params: Any, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(f"query parameter '{name}' must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise _BadRequest(f"query parameter '{name}' must be between {low} and {high}, got {value}")
    return value


def _orders_page(request: Request) -> dict[str, Any]:
    params = request.query_params
    start = _date_param(params, "start")
    end = _date_param(params, "end")
    if end < start:
        raise _BadRequest("'end' must not be before 'start'")
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise _BadRequest(f"the window may span at most {MAX_WINDOW_DAYS} days")
    page = _int_param(params, "page", 1, 1, 1_000_000)
    page_size = _int_param(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    orders = orders_for_window(start, end)
    total_pages = max(1, -(-len(orders) // page_size))
    data = orders[(page - 1) * page_size : page * page_size]
    return {
        "data": data,
        "page": page,
        "page_size": page_size,
        "total": len(orders),
        "total_pages": total_pages,
        "next_page": page + 1 if page < total_pages else None,
    }


def create_app(settings: OrdersApiSettings | None = None) -> Starlette:
    """The ASGI app; ``app.state.settings`` may be changed on a live server (tests do)."""
    lock = threading.Lock()
    calls = [0]

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def orders(request: Request) -> Response:
        current: OrdersApiSettings = request.app.state.settings
        given = request.headers.get("x-api-key", "")
        if not given or not hmac.compare_digest(given.encode(), current.api_key.encode()):
            return _error(401, "missing or invalid API key (send it in the X-API-Key header)")
        with lock:
            calls[0] += 1
            call_number = calls[0]
        if current.throttle_every and call_number % current.throttle_every == 0:
            return _error(
                429, "rate limit exceeded, slow down", {"Retry-After": str(current.retry_after_seconds)}
            )
        try:
            return JSONResponse(_orders_page(request))
        except _BadRequest as err:
            return _error(400, str(err))

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, f"no such resource: {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _error(405, f"method {request.method} not allowed", {"Allow": "GET"})

    app = Starlette(
        routes=[Route("/v1/health", health, methods=["GET"]), Route("/v1/orders", orders, methods=["GET"])],
        exception_handlers={404: not_found, 405: not_allowed},
    )
    app.state.settings = settings or OrdersApiSettings()
    return app
