"""The demo orders API the example pipeline ingests from (dags_examples/orders_api), in-process."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.testclient import TestClient

from dags_examples.orders_api import (
    DEMO_API_KEY,
    OrdersApiServer,
    OrdersApiSettings,
    create_app,
    orders_for_day,
)

KEY = {"X-API-Key": DEMO_API_KEY}


@pytest.fixture
def settings() -> OrdersApiSettings:
    return OrdersApiSettings()


@pytest.fixture
def client(settings: OrdersApiSettings) -> TestClient:
    return TestClient(create_app(settings))


def test_pages_cover_the_window_exactly_once(client: TestClient) -> None:
    seen: list[str] = []
    page = 1
    while page:
        resp = client.get(
            "/v1/orders",
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
    resp = client.get("/v1/orders?start=2024-01-01&end=2024-01-01", headers=headers)
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
    resp = client.get(f"/v1/orders?{query}", headers=KEY)
    assert resp.status_code == 400
    assert resp.json()["error"]


def test_throttles_every_nth_call(client: TestClient, settings: OrdersApiSettings) -> None:
    settings.throttle_every = 3
    codes = [
        client.get("/v1/orders?start=2024-01-01&end=2024-01-01", headers=KEY).status_code for _ in range(6)
    ]
    assert codes == [200, 200, 429, 200, 200, 429]
    resp = client.get("/v1/orders?start=2024-01-01&end=2024-01-01", headers=KEY)
    assert resp.status_code == 200


def test_throttled_answer_carries_retry_after(client: TestClient, settings: OrdersApiSettings) -> None:
    settings.throttle_every, settings.retry_after_seconds = 1, 2
    resp = client.get("/v1/orders?start=2024-01-01&end=2024-01-01", headers=KEY)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "2"


def test_health_and_unknown_paths(client: TestClient) -> None:
    assert client.get("/v1/health").json() == {"status": "ok"}
    assert client.get("/v2/nothing", headers=KEY).status_code == 404
    assert client.post("/v1/orders", headers=KEY).status_code == 405


def test_standalone_server_serves_over_http() -> None:
    import requests

    server = OrdersApiServer(OrdersApiSettings(api_key="k-1")).start()
    try:
        assert requests.get(f"{server.url}/health", timeout=5).json() == {"status": "ok"}
        resp = requests.get(
            f"{server.url}/orders?start=2024-01-01&end=2024-01-01", headers={"X-API-Key": "k-1"}, timeout=5
        )
        assert resp.status_code == 200 and resp.json()["total"] == len(orders_for_day(dt.date(2024, 1, 1)))
    finally:
        server.stop()


def test_the_emulator_no_longer_serves_the_orders_api() -> None:
    from pathlib import Path

    import airflow_dbx_provider.emulator as emulator_pkg

    assert not (Path(emulator_pkg.__file__).parent / "sample_source.py").exists()
