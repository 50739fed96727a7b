"""State survives a restart on the same data dir; interrupted notebook attempts fail deterministically."""

from __future__ import annotations

from pathlib import Path

from _runs_helpers import Api

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer


def _server(tmp_path: Path) -> EmulatorServer:
    (tmp_path / "ws").mkdir(exist_ok=True)
    (tmp_path / "ws" / "hang.py").write_text("import time\ntime.sleep(600)\n")
    config = EmulatorConfig(
        data_dir=tmp_path / "data", workspace_dir=tmp_path / "ws", time_scale=0.02, rate_limit_enabled=False
    )
    return EmulatorServer(config).start()


def test_jobs_and_runs_survive_restart(tmp_path: Path) -> None:
    server = _server(tmp_path)
    try:
        api = Api(server)
        job_id = api.post(
            "/api/2.2/jobs/create", {"name": "kept", "tasks": [{"task_key": "t", "spark_jar_task": {}}]}
        )["job_id"]
        done = api.post("/api/2.2/jobs/run-now", {"job_id": job_id})["run_id"]
        api.wait(done)
        hang_job = api.post(
            "/api/2.2/jobs/create",
            {"name": "hang", "tasks": [{"task_key": "h", "notebook_task": {"notebook_path": "/hang"}}]},
        )["job_id"]
        hanging = api.post("/api/2.2/jobs/run-now", {"job_id": hang_job})["run_id"]
        api.wait(hanging, lambda r: r["tasks"][0]["state"]["life_cycle_state"] == "RUNNING")
    finally:
        server.stop()

    server = _server(tmp_path)
    try:
        api = Api(server)
        assert api.get("/api/2.2/jobs/get", job_id=job_id)["settings"]["name"] == "kept"
        assert api.run(done)["state"]["result_state"] == "SUCCESS"
        run = api.wait(hanging)
        assert run["state"]["result_state"] == "FAILED"
        assert (
            run["tasks"][0]["state"]["state_message"] == "The emulator restarted while this task was running."
        )
        new_job = api.post("/api/2.2/jobs/create", {"name": "next"})["job_id"]
        assert new_job > hang_job  # ids keep increasing across restarts
        server.check_errors()
    finally:
        server.stop()
