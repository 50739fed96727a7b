"""Helpers for the SQL tests: a running warehouse and statements polled to the end."""

from __future__ import annotations

import time
from typing import Any

from _runs_helpers import Api

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED", "CLOSED")


def warehouse(api: Api, name: str = "wh") -> str:
    return str(api.post("/api/2.0/sql/warehouses", {"name": name, "cluster_size": "2X-Small"})["id"])


def wait_statement(api: Api, statement_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/api/2.0/sql/statements/{statement_id}")
        if body["status"]["state"] in TERMINAL:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"statement {statement_id} stuck: {body['status']}")
        time.sleep(0.02)


def sql(api: Api, warehouse_id: str, statement: str, **fields: Any) -> dict[str, Any]:
    """Execute and wait for a terminal state; the final StatementResponse."""
    body = api.post(
        "/api/2.0/sql/statements",
        {"warehouse_id": warehouse_id, "statement": statement, "wait_timeout": "50s", **fields},
    )
    if body["status"]["state"] in TERMINAL:
        return body
    return wait_statement(api, body["statement_id"])


def rows(api: Api, warehouse_id: str, statement: str, **fields: Any) -> list[list[Any]]:
    body = sql(api, warehouse_id, statement, **fields)
    assert body["status"]["state"] == "SUCCEEDED", body["status"]
    return list(body.get("result", {}).get("data_array", []))
