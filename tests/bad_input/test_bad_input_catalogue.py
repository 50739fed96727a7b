"""Every malformed input of the catalogue fails with its one-line message, before any request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.bad_input.catalogue import CASES, Case, render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "bad-input.md"


@pytest.fixture
def emulator(dbx_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", raising=False)
    return dbx_emulator


def test_catalogue_is_big_and_ids_are_unique() -> None:
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)
    assert {case.area for case in CASES} == {"connection", "job JSON", "operator", "DBFS", "secrets"}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_fails_with_one_line_naming_the_field(case: Case, emulator: Any) -> None:
    before = emulator.counters()["total_requests"]
    with pytest.raises(Exception) as info:
        case.run(emulator.url, emulator.admin_token)
    err = info.value
    assert type(err).__name__ == case.error, repr(err)
    text = str(err)
    assert text == case.message.replace("{url}", emulator.url)
    assert "\n" not in text
    assert case.field in text
    assert emulator.admin_token not in text
    if case.before_api:
        assert emulator.counters()["total_requests"] == before, emulator.counters()["requests"]


def test_doc_table_matches_the_catalogue() -> None:
    assert DOC.read_text() == render_markdown(), (
        "docs/bad-input.md is stale: .venv/bin/python tests/bad_input/catalogue.py > docs/bad-input.md"
    )
