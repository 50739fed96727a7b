"""What an API error says: each fact once (issue: '403 403: Invalid access token')."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_dbx_provider.exceptions import DatabricksUnauthenticatedError
from airflow_dbx_provider.hooks import DatabricksHook


def test_a_bad_token_names_the_status_once(dbx_emulator: Any) -> None:
    hook = DatabricksHook.from_settings(host=dbx_emulator.url, token="not-a-token", retry_deadline_seconds=5)
    with pytest.raises(DatabricksUnauthenticatedError) as caught:
        hook.get_run(1)
    text = str(caught.value)
    assert "-> 403: Invalid access token." in text, text
    assert "403 403" not in text
    assert str(caught.value.error_code) == "403" and caught.value.status_code == 403
    assert "not-a-token" not in text


def test_a_distinct_error_code_is_kept(dbx_emulator: Any) -> None:
    hook = DatabricksHook.from_settings(host=dbx_emulator.url, token=dbx_emulator.admin_token)
    with pytest.raises(Exception) as caught:
        hook.get_run(99)
    assert "-> 400 INVALID_PARAMETER_VALUE: Run 99 does not exist." in str(caught.value)
