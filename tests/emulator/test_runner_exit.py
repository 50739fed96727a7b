"""A notebook's end is the task's end, whatever native or background threads it leaves behind.

Regression: a deltalake notebook finished, then aborted in interpreter shutdown (exit -6) and the
task was reported FAILED. The runner now leaves with os._exit once its outcome is on disk; a
non-daemon thread that never ends is the deterministic stand-in for such leftovers (without the
fix the interpreter waits for it forever and the task times out).
"""

from __future__ import annotations

from collections.abc import Callable

from _runs_helpers import Api, task

Notebook = Callable[[str, str], str]

LEFTOVER_THREAD = """
import threading
threading.Thread(target=threading.Event().wait, daemon=False).start()
print("work done")
dbutils.notebook.exit("finished")
"""


def test_notebook_exit_ends_the_task_despite_a_leftover_thread(api: Api, notebook: Notebook) -> None:
    path = notebook("leftover_thread", LEFTOVER_THREAD)
    job_id = api.post(
        "/api/2.2/jobs/create", {"name": "leftover", "tasks": [task("t", path)], "timeout_seconds": 60}
    )["job_id"]
    run_id = api.post("/api/2.2/jobs/run-now", {"job_id": job_id})["run_id"]
    run = api.wait(run_id, timeout=20)
    assert run["state"]["result_state"] == "SUCCESS", run["state"]
    output = api.output(run["tasks"][0]["run_id"])
    assert output["notebook_output"]["result"] == "finished"
