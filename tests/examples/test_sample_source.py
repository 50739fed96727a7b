"""The sample "orders API" the example pipeline ingests from, mounted on a bare Starlette app."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from airflow_dbx_provider.emulator.sample_source import (
    SAMPLE_SOURCE_API_KEY,
    handle_sample_source,
    orders_for_day,
)

KEY = {"X-API-Key": SAMPLE_SOURCE_API_KEY}


class _State:
    """Stands in for the emulator's WorkspaceState: only its identity matters here."""


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    for name in ("DBX_SAMPLE_SOURCE_API_KEY", "DBX_SAMPLE_SOURCE_THROTTLE_EVERY"):
        monkeypatch.delenv(name, raising=False)
    state = _State()

    async def endpoint(request):
        return await handle_sample_source(request, state)

    app = Starlette(routes=[Route("/sample-source/{rest:path}", endpoint, methods=["GET", "POST"])])
    return TestClient(app)


def test_pages_cover_the_window_exactly_once(client: TestClient) -> None:
    seen: list[str] = []
    page = 1
    while page:
        resp = client.get(
            "/sample-source/v1/orders",
            params={"start": "2024-01-01", "end": "2024-01-07", "page": page, "page_size": 50},
            headers=KEY,
        )
        assert resp.status_code == 200
        body = resp.json()
        seen += [row["order_id"] for row in body["data"]]
        page = body["next_page"]
    assert len(seen) == len(set(seen)) == body["total"]
    assert body["total_pages"] == -(-body["total"] // 50)


def test_records_are_deterministic_and_include_bad_rows() -> None:
    day = dt.date(2024, 1, 3)
    rows = orders_for_day(day)
    assert rows == orders_for_day(day)
    assert sum(row["amount"] is None for row in rows) == 1
    assert sum(row["quantity"] < 0 for row in rows) == 1
    assert sum("-13-" in row["order_ts"] for row in rows) == 1


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}], ids=["missing", "wrong"])
def test_requires_the_api_key(client: TestClient, headers: dict[str, str]) -> None:
    resp = client.get("/sample-source/v1/orders?start=2024-01-01&end=2024-01-01", headers=headers)
    assert resp.status_code == 401
    assert "API key" in resp.json()["error"]


@pytest.mark.parametrize(
    "query",
    [
        "end=2024-01-01",
        "start=2024-01-05&end=2024-01-01",
        "start=2024-01-01&end=x",
        "start=2024-01-01&end=2024-01-01&page_size=0",
    ],
    ids=["no-start", "reversed", "bad-date", "page-size-0"],
)
def test_bad_queries_get_400(client: TestClient, query: str) -> None:
    resp = client.get(f"/sample-source/v1/orders?{query}", headers=KEY)
    assert resp.status_code == 400
    assert resp.json()["error"]


def test_throttles_every_nth_call(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBX_SAMPLE_SOURCE_THROTTLE_EVERY", "3")
    codes = [
        client.get("/sample-source/v1/orders?start=2024-01-01&end=2024-01-01", headers=KEY).status_code
        for _ in range(6)
    ]
    assert codes == [200, 200, 429, 200, 200, 429]
    resp = client.get("/sample-source/v1/orders?start=2024-01-01&end=2024-01-01", headers=KEY)
    assert resp.status_code == 200


def test_throttled_answer_carries_retry_after(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBX_SAMPLE_SOURCE_THROTTLE_EVERY", "1")
    monkeypatch.setenv("DBX_SAMPLE_SOURCE_RETRY_AFTER", "2")
    resp = client.get("/sample-source/v1/orders?start=2024-01-01&end=2024-01-01", headers=KEY)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "2"


def test_health_and_unknown_paths(client: TestClient) -> None:
    assert client.get("/sample-source/v1/health").json() == {"status": "ok"}
    assert client.get("/sample-source/v2/nothing", headers=KEY).status_code == 404
    assert client.post("/sample-source/v1/orders", headers=KEY).status_code == 405
