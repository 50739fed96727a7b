"""The three pipeline notebooks, chained in-process with a local `dbutils` against the sample API."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from airflow_dbx_provider.emulator.sample_source import (
    SAMPLE_SOURCE_API_KEY,
    handle_sample_source,
    orders_for_window,
)
from tests.examples.notebook_harness import run_notebook

NOTEBOOKS = Path(__file__).resolve().parents[2] / "dags_examples" / "notebooks"
SECRETS = {("dbx_examples", "sample_source_api_key"): SAMPLE_SOURCE_API_KEY}


@pytest.fixture(scope="module")
def sample_api() -> Iterator[str]:
    """The sample source behind a real HTTP server, as the notebook sees it on a workspace."""
    state = type("State", (), {})()

    async def endpoint(request):
        return await handle_sample_source(request, state)

    app = Starlette(routes=[Route("/sample-source/{rest:path}", endpoint)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(5)


def _run_pipeline(fuse: Path, host: str, start: str, end: str) -> list[dict]:
    widgets = {"start_date": start, "end_date": end, "page_size": "50"}
    return [
        json.loads(
            run_notebook(
                NOTEBOOKS / f"{name}.py", fuse_root=fuse, widgets=widgets, secrets=SECRETS, host=host
            )
        )
        for name in ("fetch_data", "transform_data", "write_results")
    ]


def test_pipeline_merges_without_duplicates(tmp_path: Path, sample_api: str, monkeypatch) -> None:
    # Every 4th call is throttled: the fetch must still land every page.
    monkeypatch.setenv("DBX_SAMPLE_SOURCE_THROTTLE_EVERY", "4")
    monkeypatch.setenv("DBX_SAMPLE_SOURCE_RETRY_AFTER", "0")
    expected = orders_for_window(dt.date(2024, 1, 1), dt.date(2024, 1, 3))

    fetch, transform, write = _run_pipeline(tmp_path, sample_api, "2024-01-01", "2024-01-03")
    assert fetch["records"] == len(expected)
    assert fetch["pages"] == -(-len(expected) // 50)
    assert (tmp_path / "raw/orders/2024-01-01_2024-01-03/page-0001.json").exists()
    # Three broken rows per day, each with its own reason.
    assert transform["rejected_rows"] == 9
    assert transform["rejects_by_reason"]["missing_amount"] == 3
    assert transform["rejects_by_reason"]["bad_order_ts"] == 3
    assert transform["rejects_by_reason"]["non_positive_quantity"] == 3
    rejects = (tmp_path / "staging/orders/2024-01-01_2024-01-03/rejects.jsonl").read_text().splitlines()
    assert len(rejects) == 9
    assert write["rows_inserted"] == write["total_rows"] == len(expected) - 9
    assert write["version"] == 1

    # The same window again: everything matches, nothing is inserted twice.
    _, _, again = _run_pipeline(tmp_path, sample_api, "2024-01-01", "2024-01-03")
    assert again["rows_inserted"] == 0
    assert again["rows_updated"] == write["total_rows"]
    assert again["total_rows"] == write["total_rows"]
    assert again["version"] == 2

    # An overlapping window adds only the new days.
    _, _, later = _run_pipeline(tmp_path, sample_api, "2024-01-03", "2024-01-04")
    day4 = len(orders_for_window(dt.date(2024, 1, 4), dt.date(2024, 1, 4))) - 3
    assert later["rows_inserted"] == day4
    assert later["total_rows"] == write["total_rows"] + day4


def test_fetch_fails_loudly_on_a_wrong_key(tmp_path: Path, sample_api: str) -> None:
    with pytest.raises(RuntimeError, match="401"):
        run_notebook(
            NOTEBOOKS / "fetch_data.py",
            fuse_root=tmp_path,
            widgets={"start_date": "2024-01-01", "end_date": "2024-01-01"},
            secrets={("dbx_examples", "sample_source_api_key"): "wrong"},
            host=sample_api,
        )
