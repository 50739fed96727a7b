"""A fake "external orders API" for the example pipeline, served by the emulator under /sample-source/.

    GET /sample-source/v1/orders?start=2024-01-01&end=2024-01-07&page=1&page_size=100
        header X-API-Key: <key>
    -> 200 {"data": [...], "page": 1, "page_size": 100, "total": 231, "total_pages": 3, "next_page": 2}

    GET /sample-source/v1/health -> 200 {"status": "ok"}   (no key needed)

Records are deterministic: each day's orders come from a generator seeded by the date, so a
re-run of the same window sees the same rows (that is what lets the Delta MERGE prove it is
idempotent). A few rows per day are deliberately bad (missing amount, unparsable timestamp,
negative quantity) so the transform step has something to reject.

Behaviour a real API has and a demo should exercise:
- 401 without, or with a wrong, `X-API-Key`;
- 400 with a JSON `error` for bad query parameters;
- optional throttling: every Nth call answers 429 with `Retry-After`, so clients must back off.

Settings come from the environment at request time, so tests can change them on a live server:
- `DBX_SAMPLE_SOURCE_API_KEY` (default `SAMPLE_SOURCE_API_KEY`)
- `DBX_SAMPLE_SOURCE_THROTTLE_EVERY` (N; 0 = never throttle; default 0)
- `DBX_SAMPLE_SOURCE_RETRY_AFTER` (seconds sent with a 429; default 1)
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import random
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

SAMPLE_SOURCE_API_KEY = "dbx-sample-source-demo-key"
PATH_PREFIX = "/sample-source"
MAX_WINDOW_DAYS = 366
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100

_PRODUCTS: list[tuple[str, str, float]] = [
    ("SKU-1001", "Espresso beans 1kg", 24.90),
    ("SKU-1002", "Filter papers x100", 4.50),
    ("SKU-1003", "Ceramic mug", 12.00),
    ("SKU-1004", "Burr grinder", 149.00),
    ("SKU-1005", "Milk frother", 39.95),
    ("SKU-1006", "Cold brew kit", 29.00),
    ("SKU-1007", "Descaler 500ml", 9.99),
    ("SKU-1008", "Travel tumbler", 18.50),
]
_COUNTRIES = ["DE", "FR", "NL", "US", "GB", "ES", "IT", "SE"]
_STATUSES = ["placed", "placed", "paid", "paid", "paid", "shipped", "shipped", "cancelled"]


@dataclass(frozen=True)
class SampleSourceSettings:
    api_key: str
    throttle_every: int
    retry_after_seconds: int

    @classmethod
    def from_env(cls) -> SampleSourceSettings:
        return cls(
            api_key=os.environ.get("DBX_SAMPLE_SOURCE_API_KEY") or SAMPLE_SOURCE_API_KEY,
            throttle_every=_int_env("DBX_SAMPLE_SOURCE_THROTTLE_EVERY", 0),
            retry_after_seconds=_int_env("DBX_SAMPLE_SOURCE_RETRY_AFTER", 1),
        )


def _int_env(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


class _CallCounter:
    """Counts authenticated calls per emulated workspace (for the every-Nth-call 429)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0

    def next(self) -> int:
        with self._lock:
            self.calls += 1
            return self.calls


# Keyed weakly by the workspace state so a stopped emulator takes its counter with it.
_counters: weakref.WeakKeyDictionary[object, _CallCounter] = weakref.WeakKeyDictionary()
_counters_lock = threading.Lock()


_shared_counter = _CallCounter()  # for states that cannot be weakly referenced


def _counter_for(state: object) -> _CallCounter:
    with _counters_lock:
        try:
            counter = _counters.get(state)
            if counter is None:
                counter = _counters[state] = _CallCounter()
        except TypeError:
            counter = _shared_counter
        return counter


# --------------------------------------------------------------------------- data


def orders_for_day(day: dt.date) -> list[dict[str, Any]]:
    """The orders of one day, always the same for the same date."""
    rng = random.Random(f"orders-{day.isoformat()}")
    count = rng.randint(28, 42)
    # Pick which rows are broken up front, so every day has each kind of defect once.
    broken = rng.sample(range(count), 3)
    bad_kind = dict(zip(broken, ["missing_amount", "bad_timestamp", "negative_quantity"], strict=True))
    orders = []
    for i in range(count):
        sku, name, price = rng.choice(_PRODUCTS)
        quantity = rng.choices([1, 2, 3, 4, 6], weights=[50, 25, 12, 8, 5])[0]
        placed = dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC) + dt.timedelta(
            seconds=rng.randint(0, 86_399)
        )
        updated = placed + dt.timedelta(minutes=rng.randint(0, 600))
        order: dict[str, Any] = {
            "order_id": f"ORD-{day:%Y%m%d}-{i + 1:04d}",
            "customer_id": f"CUST-{rng.randint(1, 500):05d}",
            "order_ts": placed.isoformat().replace("+00:00", "Z"),
            "updated_at": updated.isoformat().replace("+00:00", "Z"),
            "sku": sku,
            "product_name": name,
            "quantity": quantity,
            # Money travels as strings, the way most payment-adjacent APIs send it.
            "unit_price": f"{price:.2f}",
            "amount": f"{price * quantity:.2f}",
            "currency": "EUR",
            "country": rng.choice(_COUNTRIES),
            "status": rng.choice(_STATUSES),
        }
        kind = bad_kind.get(i)
        if kind == "missing_amount":
            order["amount"] = None
        elif kind == "bad_timestamp":
            order["order_ts"] = f"{day:%Y}-13-{day:%d}T25:61:00Z"
        elif kind == "negative_quantity":
            order["quantity"] = -quantity
            order["amount"] = f"{-price * quantity:.2f}"
        orders.append(order)
    return orders


def orders_for_window(start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    days = (end - start).days + 1
    return [order for offset in range(days) for order in orders_for_day(start + dt.timedelta(days=offset))]


# --------------------------------------------------------------------------- HTTP


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


async def handle_sample_source(request: Request, state: object) -> Response:
    """Serve one request under /sample-source/. `state` only scopes the throttling counter."""
    path = request.url.path[len(PATH_PREFIX) :].rstrip("/") or "/"
    if request.method != "GET":
        return _error(405, f"method {request.method} not allowed", {"Allow": "GET"})
    if path == "/v1/health":
        return JSONResponse({"status": "ok"})
    if path != "/v1/orders":
        return _error(404, f"no such resource: {request.url.path}")

    settings = SampleSourceSettings.from_env()
    given = request.headers.get("x-api-key", "")
    if not given or not hmac.compare_digest(given.encode(), settings.api_key.encode()):
        return _error(401, "missing or invalid API key (send it in the X-API-Key header)")

    call_number = _counter_for(state).next()
    if settings.throttle_every and call_number % settings.throttle_every == 0:
        return _error(
            429,
            "rate limit exceeded, slow down",
            {"Retry-After": str(settings.retry_after_seconds)},
        )
    try:
        return JSONResponse(_orders_page(request))
    except _BadRequest as err:
        return _error(400, str(err))
