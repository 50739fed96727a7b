"""The demo orders: deterministic per day, with a few deliberately bad rows.

Each day's orders come from a generator seeded by the date, so a re-run of the same window sees the
same rows (that is what lets the Delta MERGE prove it is idempotent). A few rows per day are bad
(missing amount, unparsable timestamp, negative quantity) so the transform step has something to reject.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

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
