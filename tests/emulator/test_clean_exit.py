"""Processes of ours that touch Arrow exit cleanly, every time (issue: pyarrow's shutdown race).

Reading a Delta table with deltalake, then leaving through the interpreter's normal shutdown, aborted
about one run in six here ("terminate called without an active exception", exit 134). The demo's
report, the emulator process and the notebook runner leave through `exit_without_finalizers`.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

RUNS = 8

READ_AND_EXIT = textwrap.dedent(
    """
    import sys
    from deltalake import DeltaTable
    from airflow_dbx_provider.emulator.clean_exit import exit_without_finalizers

    frame = DeltaTable(sys.argv[1]).to_pandas()
    print("rows", len(frame), int(frame["amount"].sum()))
    exit_without_finalizers(0)
    """
)


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pd = pytest.importorskip("pandas")
    deltalake = pytest.importorskip("deltalake")
    path = tmp_path_factory.mktemp("clean-exit") / "orders"
    for start in range(0, 3000, 1000):  # a few files and versions, as the pipeline leaves them
        frame = pd.DataFrame({"order_id": range(start, start + 1000), "amount": [2] * 1000})
        deltalake.write_deltalake(str(path), frame, mode="append")
    return path


@pytest.mark.slow
def test_a_delta_reading_process_exits_zero_every_time(table: Path) -> None:
    for attempt in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", READ_AND_EXIT, str(table)], capture_output=True, text=True, timeout=60
        )
        assert (done.returncode, done.stdout.strip()) == (0, "rows 3000 6000"), (attempt, done.stderr[-2000:])


def test_output_written_before_the_exit_is_not_lost(tmp_path: Path) -> None:
    """os._exit skips buffered-stream flushing; the helper flushes first (here: a pipe, fully buffered)."""
    script = "from airflow_dbx_provider.emulator.clean_exit import exit_without_finalizers\n"
    script += "import sys\nprint('x' * 5000, end='')\nsys.stderr.write('err')\nexit_without_finalizers(3)\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, len(done.stdout), done.stderr) == (3, 5000, "err")
