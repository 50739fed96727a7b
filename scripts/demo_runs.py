"""The demo's DAG runs: `ingest_transform_delta` once per date window, through Airflow's
`dag.test()`, in one process, so Airflow starts once for all windows (each `airflow dags test`
process spent ~15 s starting up and shutting down around a ~15 s run).

    python scripts/demo_runs.py STATUS_FILE START:END [START:END ...]

Airflow's own log goes to stdout (the caller keeps it in a file); one JSON line per window
(`{"window", "state", "seconds", "tasks"}`) is appended to STATUS_FILE. Exits 1 at the first
window that does not succeed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from airflow.dag_processing.dagbag import DagBag

REPO = Path(__file__).resolve().parent.parent
PIPELINE = REPO / "dags_examples" / "ingest_transform_delta.py"
DAG_ID = "ingest_transform_delta"


def main(status_file: Path, windows: list[str]) -> int:
    dag = DagBag(dag_folder=str(PIPELINE)).get_dag(DAG_ID)
    if dag is None:
        raise SystemExit(f"{DAG_ID} did not load from {PIPELINE}")
    for window in windows:
        start, end = window.split(":")
        started = time.monotonic()
        dag_run = dag.test(run_conf={"start_date": start, "end_date": end})
        line = {
            "window": window,
            "state": str(dag_run.state),
            "seconds": round(time.monotonic() - started, 1),
            "tasks": {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()},
        }
        with status_file.open("a") as status:
            status.write(json.dumps(line) + "\n")
        if dag_run.state != "success":
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
