"""Every ```python block in the README and docs/ runs as written, against the emulator.

A block that defines DAGs is saved as a DAG file in a bundle folder and each of its DAGs runs
through ``dag.test()`` to success; any other block is executed as a script. A fragment that is not
meant to run says so in an HTML comment on the line before its fence: ``<!-- not run: why -->``.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pytest

from tests.airflow_workspace import load_dag
from tests.conftest import DOC_SNIPPETS_FOLDER

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "dags_examples" / "README.md"]
FENCE = re.compile(r"^```(\w*)\s*$")
NOT_RUN = re.compile(r"^<!--\s*not run:\s*\S.*-->\s*$")


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """(line number, code) of each ```python block not marked as a fragment."""
    blocks: list[tuple[int, str]] = []
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening or not opening.group(1):
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        if opening.group(1) == "python" and not NOT_RUN.match(previous):
            blocks.append((index + 1, "\n".join(lines[index + 1 : end]) + "\n"))
        index = end + 1
    return blocks


SNIPPETS = [
    pytest.param(path, line, code, id=f"{path.relative_to(REPO)}:{line}")
    for path in DOCUMENTS
    for line, code in python_blocks(path)
]


def test_the_readme_tour_is_collected() -> None:
    """A guard against a parser that silently finds nothing."""
    ids = {param.id for param in SNIPPETS}
    assert any(name.startswith("README.md:") for name in ids), ids


@pytest.mark.parametrize(("path", "line", "code"), SNIPPETS)
def test_doc_block_runs(path: Path, line: int, code: str, airflow_workspace: Any, tmp_path: Path) -> None:
    if re.search(r"\bDAG\(|@dag\b", code):
        dag_file = DOC_SNIPPETS_FOLDER / f"doc_{path.stem.lower()}_{line}.py"
        dag_file.write_text(code)
        dag_ids = re.findall(r"DAG\(\s*[\"']([^\"']+)[\"']", code)
        assert dag_ids, f"{path.name}:{line}: name the DAG with a literal dag_id so the test can run it"
        for dag_id in dag_ids:
            dag_run = load_dag(str(dag_file), dag_id).test()
            states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
            assert dag_run.state == "success", f"{path.name}:{line} {dag_id}: {states}"
    else:
        script = tmp_path / "snippet.py"
        script.write_text(code)
        runpy.run_path(str(script), run_name="__main__")
