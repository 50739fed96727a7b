"""DatabricksImportNotebookOperator over real HTTP: what lands in the workspace, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks import DatabricksHook
from airflow_dbx_provider.operators import DatabricksImportNotebookOperator


def test_imports_a_file_and_overwrites_on_rerun(workspace: Any, tmp_path: Path) -> None:
    source = tmp_path / "ingest.py"
    source.write_text('dbutils.notebook.exit("v1")\n')
    op = DatabricksImportNotebookOperator(
        task_id="upload", workspace_path="/Shared/tour/ingest", source_file=source
    )
    assert op.execute({}) == "/Shared/tour/ingest"
    source.write_text('dbutils.notebook.exit("v2")\n')
    op.execute({})  # the next DAG run deploys the new version
    hook = DatabricksHook()
    assert b'exit("v2")' in hook.workspace_export("/Shared/tour/ingest")
    status = hook.workspace_get_status("/Shared/tour/ingest")
    assert (status["object_type"], status["language"]) == ("NOTEBOOK", "PYTHON")


def test_inline_sql_content(workspace: Any) -> None:
    op = DatabricksImportNotebookOperator(
        task_id="upload", workspace_path="/Shared/tour/q", content="SELECT 1", language="sql"
    )
    op.execute({})
    assert DatabricksHook().workspace_get_status("/Shared/tour/q")["language"] == "SQL"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give exactly one of source_file and content"),
        ({"source_file": "a.py", "content": "x"}, "give exactly one of source_file and content"),
        ({"content": "x", "language": "COBOL"}, "language must be one of PYTHON, R, SCALA, SQL"),
    ],
    ids=["neither", "both", "language"],
)
def test_bad_arguments_fail_at_parse_time(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(DatabricksConfigError, match=message):
        DatabricksImportNotebookOperator(task_id="upload", workspace_path="/Shared/x", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source_file": "missing.py"}, "source_file missing.py: No such file or directory"),
        ({"source_file": "notes.txt"}, "cannot tell the notebook language from '.txt'"),
        ({"content": "x", "workspace_path": "Shared/x"}, "workspace_path must be an absolute workspace path"),
    ],
    ids=["missing-file", "unknown-suffix", "relative-path"],
)
def test_bad_input_fails_before_any_api_call(
    kwargs: dict[str, Any], message: str, workspace: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    before = workspace.counters()["requests"]
    op = DatabricksImportNotebookOperator(task_id="upload", **{"workspace_path": "/Shared/x", **kwargs})
    with pytest.raises(DatabricksConfigError, match=message):
        op.execute({})
    assert workspace.counters()["requests"] == before
