"""Run engine behaviour over real HTTP: ordering, failures, timeouts, retries, queueing, repair."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _runs_helpers import Api, sim_task, task

from airflow_dbx_provider.emulator import EmulatorServer

Notebook = Callable[[str, str], str]


def _job(api: Api, tasks: list[dict], **settings: object) -> int:
    return int(api.post("/api/2.2/jobs/create", {"name": "j", "tasks": tasks, **settings})["job_id"])


def _run_now(api: Api, job_id: int, **params: object) -> int:
    return int(api.post("/api/2.2/jobs/run-now", {"job_id": job_id, **params})["run_id"])


def test_uncontended_run_starts_pending_then_succeeds(api: Api) -> None:
    with api.held():
        run_id = _run_now(api, _job(api, [sim_task("a")]))
        first = api.run(run_id)
    assert first["state"]["life_cycle_state"] == "PENDING"
    assert first["tasks"][0]["start_time"] == 0
    assert first["state"]["state_message"] == ""
    done = api.wait(run_id)
    assert done["state"]["result_state"] == "SUCCESS"
    assert done["end_time"] >= done["start_time"] > 0
    assert done["run_page_url"].endswith(f"#job/{done['job_id']}/run/{run_id}")


def test_depends_on_orders_tasks(api: Api, notebook: Notebook) -> None:
    path = notebook("stamp", "import time\nprint(time.time())\n")
    tasks = [
        task("c", path, depends_on=[{"task_key": "b"}]),
        task("b", path, depends_on=[{"task_key": "a"}]),
        task("a", path),
    ]
    run = api.wait(_run_now(api, _job(api, tasks)))
    by_key = {t["task_key"]: t for t in run["tasks"]}
    assert by_key["a"]["end_time"] <= by_key["b"]["start_time"]
    assert by_key["b"]["end_time"] <= by_key["c"]["start_time"]
    assert run["state"]["result_state"] == "SUCCESS"


def test_failing_notebook_gives_error_and_trace(api: Api, notebook: Notebook) -> None:
    path = notebook("bad", "def load():\n    raise ValueError('bad row')\nload()\n")
    after = notebook("after", "print('never')\n")
    run = api.wait(
        _run_now(api, _job(api, [task("load", path), task("next", after, depends_on=[{"task_key": "load"}])]))
    )
    assert run["state"]["result_state"] == "FAILED"
    assert "ValueError: bad row" in run["state"]["state_message"]
    by_key = {t["task_key"]: t for t in run["tasks"]}
    assert by_key["next"]["state"]["result_state"] == "UPSTREAM_FAILED"
    assert by_key["load"]["status"]["termination_details"]["code"] == "RUN_EXECUTION_ERROR"
    output = api.output(by_key["load"]["run_id"])
    assert output["error"] == "ValueError: bad row"
    assert "Traceback" in output["error_trace"] and "in load" in output["error_trace"]


def test_missing_notebook_fails_the_task(api: Api) -> None:
    run = api.wait(_run_now(api, _job(api, [task("t", "/nope")])))
    assert run["tasks"][0]["state"]["state_message"] == "Notebook not found: /nope"
    assert api.output(run["tasks"][0]["run_id"])["error"] == "Notebook not found: /nope"


def test_run_if_all_done_runs_after_failure(api: Api, notebook: Notebook) -> None:
    bad = notebook("bad2", "raise RuntimeError('x')\n")
    ok = notebook("ok", "print('cleanup')\n")
    tasks = [task("a", bad), task("cleanup", ok, depends_on=[{"task_key": "a"}], run_if="ALL_DONE")]
    run = api.wait(_run_now(api, _job(api, tasks)))
    by_key = {t["task_key"]: t for t in run["tasks"]}
    assert by_key["cleanup"]["state"]["result_state"] == "SUCCESS"
    assert run["state"]["result_state"] == "SUCCESS_WITH_FAILURES"


def test_task_timeout(api: Api, notebook: Notebook) -> None:
    path = notebook("sleepy", "import time\ntime.sleep(30)\n")
    run = api.wait(
        _run_now(api, _job(api, [task("t", path, timeout_seconds=20)]))
    )  # 20 s x 0.02 = 0.4 s real
    assert run["tasks"][0]["state"]["result_state"] == "TIMEDOUT"
    assert run["state"]["result_state"] == "TIMEDOUT"


def test_job_timeout(api: Api) -> None:
    run = api.wait(_run_now(api, _job(api, [sim_task("t")], timeout_seconds=2)))
    assert run["state"]["result_state"] == "TIMEDOUT"
    assert run["state"]["user_cancelled_or_timedout"] is True


def test_retries_append_attempts(api: Api, notebook: Notebook) -> None:
    path = notebook("flaky", "raise RuntimeError('flaky')\n")
    run = api.wait(_run_now(api, _job(api, [task("t", path, max_retries=2, min_retry_interval_millis=1000)])))
    attempts = [t["attempt_number"] for t in run["tasks"]]
    assert attempts == [0, 1, 2]
    assert len({t["run_id"] for t in run["tasks"]}) == 3
    assert run["state"]["result_state"] == "FAILED"


def test_waiting_for_retry_is_visible(api: Api, notebook: Notebook) -> None:
    path = notebook("flaky2", "raise RuntimeError('flaky')\n")
    run_id = _run_now(api, _job(api, [task("t", path, max_retries=1, min_retry_interval_millis=60_000)]))
    run = api.wait(run_id, lambda r: r["tasks"][-1]["state"]["life_cycle_state"] == "WAITING_FOR_RETRY")
    assert run["tasks"][-1]["attempt_number"] == 1
    assert run["state"]["life_cycle_state"] == "RUNNING"


@pytest.mark.parametrize(
    ("queue", "second_state"), [(True, "QUEUED"), (False, "SKIPPED")], ids=["queue-on", "queue-off"]
)
def test_max_concurrent_runs(api: Api, queue: bool, second_state: str) -> None:
    job_id = _job(api, [sim_task("t")], queue={"enabled": queue})
    with api.held():  # the first run must still be active when the second is started and read
        first, second = _run_now(api, job_id), _run_now(api, job_id)
        run = api.run(second)
    assert run["state"]["life_cycle_state"] == second_state
    if queue:
        assert run["state"]["queue_reason"] == "Queued due to reaching maximum concurrent runs of 1."
        assert api.wait(second)["state"]["result_state"] == "SUCCESS"
        assert api.run(first)["end_time"] <= api.run(second)["start_time"] + api.run(second)["queue_duration"]
    else:
        assert run["state"]["state_message"] == (
            "Skipping this run because the limit of 1 maximum concurrent runs has been reached."
        )


def test_jobs_21_do_not_queue_by_default(api: Api) -> None:
    job_id = int(api.post("/api/2.1/jobs/create", {"name": "old", "tasks": [sim_task("t")]})["job_id"])
    with api.held():
        _run_now(api, job_id)
        assert api.run(_run_now(api, job_id))["state"]["life_cycle_state"] == "SKIPPED"


def test_idempotency_token_returns_the_same_run(api: Api, dbx_emulator: EmulatorServer) -> None:
    job_id = _job(api, [sim_task("t")], max_concurrent_runs=5)
    first = _run_now(api, job_id, idempotency_token="tok-1")
    assert _run_now(api, job_id, idempotency_token="tok-1") == first
    body = {
        "run_name": "s",
        "tasks": [sim_task("t", existing_cluster_id=api.cluster())],
        "idempotency_token": "tok-2",
    }
    submitted = api.post("/api/2.2/jobs/runs/submit", body)["run_id"]
    assert api.post("/api/2.2/jobs/runs/submit", body)["run_id"] == submitted
    assert dbx_emulator.counters()["runs_created"] == 2


def test_legacy_single_task_submit(api: Api, notebook: Notebook) -> None:
    path = notebook("legacy", "dbutils.notebook.exit(dbutils.widgets.get('x'))\n")
    name = "n" * 120
    body = {
        "run_name": name,
        "existing_cluster_id": api.cluster(),
        "notebook_task": {"notebook_path": path, "base_parameters": {"x": "7"}},
    }
    run = api.wait(int(api.post("/api/2.2/jobs/runs/submit", body)["run_id"]))
    assert run["run_type"] == "SUBMIT_RUN" and run["run_name"] == name
    assert run["tasks"][0]["task_key"] == name[:100]
    assert api.output(run["tasks"][0]["run_id"])["notebook_output"] == {"result": "7", "truncated": False}


def test_job_cluster_created_and_terminated(api: Api, notebook: Notebook) -> None:
    path = notebook("jc", "print(1)\n")
    spec = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
    tasks = [task("t", path, job_cluster_key="main")]
    run = api.wait(
        _run_now(api, _job(api, tasks, job_clusters=[{"job_cluster_key": "main", "new_cluster": spec}]))
    )
    assert run["state"]["result_state"] == "SUCCESS"
    cluster_id = run["tasks"][0]["cluster_instance"]["cluster_id"]
    cluster = api.get("/api/2.1/clusters/get", cluster_id=cluster_id)
    assert cluster["cluster_source"] == "JOB"
    assert cluster["state"] in ("TERMINATING", "TERMINATED")


def test_missing_existing_cluster_is_internal_error(api: Api) -> None:
    body = {"run_name": "x", "tasks": [sim_task("t", existing_cluster_id="0000-000000-nothere")]}
    run = api.wait(int(api.post("/api/2.2/jobs/runs/submit", body)["run_id"]))
    assert run["state"]["life_cycle_state"] == "INTERNAL_ERROR"
    assert "0000-000000-nothere does not exist" in run["state"]["state_message"]


def test_cancel_kills_the_notebook(api: Api, notebook: Notebook) -> None:
    path = notebook("forever", "import time\nprint('started', flush=True)\ntime.sleep(600)\n")
    run_id = _run_now(api, _job(api, [task("t", path)]))
    api.wait(run_id, lambda r: r["tasks"][0]["state"]["life_cycle_state"] == "RUNNING")
    api.post("/api/2.2/jobs/runs/cancel", {"run_id": run_id})
    assert api.run(run_id)["state"]["life_cycle_state"] in ("TERMINATING", "TERMINATED")
    run = api.wait(run_id)
    assert run["state"]["result_state"] == "CANCELED"
    assert run["tasks"][0]["state"]["result_state"] == "CANCELED"


def test_cancel_all_and_delete(api: Api) -> None:
    job_id = _job(api, [sim_task("t")])
    with api.held():  # all three still active when cancel-all comes
        run_ids = [_run_now(api, job_id) for _ in range(3)]
        api.post("/api/2.2/jobs/runs/cancel-all", {"job_id": job_id})
    for run_id in run_ids:
        assert api.wait(run_id)["state"]["result_state"] == "CANCELED"
    api.post("/api/2.2/jobs/runs/delete", {"run_id": run_ids[0]})
    assert api.call("GET", "/api/2.2/jobs/runs/get", params={"run_id": run_ids[0]}).status_code == 400


def test_delete_active_run_refused(api: Api) -> None:
    with api.held():
        run_id = _run_now(api, _job(api, [sim_task("t")]))
        response = api.call("POST", "/api/2.2/jobs/runs/delete", json={"run_id": run_id})
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_STATE"


def test_repair_reruns_failed_tasks(api: Api, notebook: Notebook, dbx_emulator: EmulatorServer) -> None:
    flag = dbx_emulator.state.data_dir / "repair-flag"  # type: ignore[union-attr]
    flag.unlink(missing_ok=True)
    path = notebook(
        "repairable", f"import os\nif not os.path.exists({str(flag)!r}):\n    raise RuntimeError('not yet')\n"
    )
    ok = notebook("down", "print('ok')\n")
    run_id = _run_now(api, _job(api, [task("a", path), task("b", ok, depends_on=[{"task_key": "a"}])]))
    assert api.wait(run_id)["state"]["result_state"] == "FAILED"
    history = api.run(run_id, include_history="true")["repair_history"]
    assert [h["type"] for h in history] == ["ORIGINAL"]
    flag.write_text("1")
    repair_id = api.post("/api/2.2/jobs/runs/repair", {"run_id": run_id, "rerun_all_failed_tasks": True})[
        "repair_id"
    ]
    run = api.wait(run_id)
    assert run["state"]["result_state"] == "SUCCESS"
    history = api.run(run_id, include_history=True)["repair_history"]
    assert [h["type"] for h in history] == ["ORIGINAL", "REPAIR"]
    assert history[1]["id"] == repair_id and history[0]["state"]["result_state"] == "FAILED"
    stale = api.call(
        "POST",
        "/api/2.2/jobs/runs/repair",
        json={"run_id": run_id, "rerun_tasks": ["a"], "latest_repair_id": 1},
    )
    assert stale.status_code == 400


def test_get_output_of_parent_run_is_refused(api: Api) -> None:
    run_id = _run_now(api, _job(api, [sim_task("t")]))
    response = api.call("GET", "/api/2.2/jobs/runs/get-output", params={"run_id": run_id})
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Retrieving the output of runs with multiple tasks is not supported. "
        "Please retrieve the output of each individual task run instead.",
    }


def test_runs_get_22_pages_tasks(api: Api) -> None:
    tasks = [sim_task(f"t{i:03d}") for i in range(150)]
    run_id = _run_now(api, _job(api, tasks))
    first = api.run(run_id)
    assert len(first["tasks"]) == 100 and first["next_page_token"]
    second = api.run(run_id, page_token=first["next_page_token"])
    assert len(second["tasks"]) == 50 and "next_page_token" not in second
    assert len(api.run(run_id, version="2.1")["tasks"]) == 150
    api.post("/api/2.2/jobs/runs/cancel", {"run_id": run_id})


def test_runs_list_filters_and_pages(api: Api) -> None:
    with api.held():  # sim tasks end within milliseconds at this time scale: none may end meanwhile
        job_id = _job(api, [sim_task("t")], max_concurrent_runs=100)
        run_ids = [_run_now(api, job_id) for _ in range(30)]
        page = api.get("/api/2.2/jobs/runs/list", job_id=job_id, limit=25)
        assert [r["run_id"] for r in page["runs"]] == run_ids[::-1][:25]
        assert "has_more" not in page and "tasks" not in page["runs"][0]
        rest = api.get("/api/2.2/jobs/runs/list", job_id=job_id, limit=25, page_token=page["next_page_token"])
        assert [r["run_id"] for r in rest["runs"]] == run_ids[::-1][25:] and "next_page_token" not in rest
        back = api.get("/api/2.2/jobs/runs/list", job_id=job_id, limit=25, page_token=rest["prev_page_token"])
        assert [r["run_id"] for r in back["runs"]] == run_ids[::-1][:25]
        assert api.get("/api/2.1/jobs/runs/list", job_id=job_id, limit=25)["has_more"] is True
        assert api.get("/api/2.2/jobs/runs/list", completed_only="true", job_id=job_id) == {}
        assert len(api.get("/api/2.2/jobs/runs/list", active_only="True", job_id=job_id)["runs"]) == 20
        assert api.call("GET", "/api/2.2/jobs/runs/list", params={"limit": 26}).status_code == 400
        api.post("/api/2.2/jobs/runs/cancel-all", {"job_id": job_id})


def test_spark_python_task_argv_and_logs(api: Api, dbx_emulator: EmulatorServer) -> None:
    dbfs_root = dbx_emulator.state.dbfs.local_path("/")  # type: ignore[union-attr]
    script = dbfs_root / "scripts" / "main.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("import sys\nprint('args', sys.argv[1:])\n")
    body = {"run_name": "py", "tasks": [{"task_key": "p", "existing_cluster_id": api.cluster(),
            "spark_python_task": {"python_file": "dbfs:/scripts/main.py", "parameters": ["--n", "3"]}}]}  # fmt: skip
    run = api.wait(int(api.post("/api/2.2/jobs/runs/submit", body)["run_id"]))
    output = api.output(run["tasks"][0]["run_id"])
    assert "args ['--n', '3']" in output["logs"] and output["logs_truncated"] is False


def test_python_wheel_task_without_package_fails_clearly(api: Api) -> None:
    body = {"run_name": "whl", "tasks": [{"task_key": "w", "existing_cluster_id": api.cluster(),
            "python_wheel_task": {"package_name": "no_such_pkg_xyz", "entry_point": "main"}}]}  # fmt: skip
    run = api.wait(int(api.post("/api/2.2/jobs/runs/submit", body)["run_id"]))
    assert "no_such_pkg_xyz is not installed" in api.output(run["tasks"][0]["run_id"])["error"]


def test_notebook_dbutils_fs_and_secrets(api: Api, notebook: Notebook) -> None:
    api.post("/api/2.0/secrets/scopes/create", {"scope": "s"})
    api.post("/api/2.0/secrets/put", {"scope": "s", "key": "k", "string_value": "hunter2"})
    source = """import os
dbutils.fs.mkdirs("dbfs:/out")
dbutils.fs.put("dbfs:/out/a.txt", "hello", overwrite=True)
fuse = os.environ.get("DATABRICKS_DBFS_FUSE_ROOT", "/dbfs") + "/out/a.txt"
assert open(fuse).read() == "hello"
names = [f.name for f in dbutils.fs.ls("dbfs:/out")]
dbutils.notebook.exit(",".join(names) + ":" + dbutils.secrets.get("s", "k") + ":" + dbutils.fs.head("dbfs:/out/a.txt"))
"""
    run = api.wait(_run_now(api, _job(api, [task("t", notebook("fs", source))])))
    output = api.output(run["tasks"][0]["run_id"])
    assert output["notebook_output"]["result"] == "a.txt:hunter2:hello", output
    status = api.get("/api/2.0/dbfs/get-status", path="/out/a.txt")
    assert status["file_size"] == 5


def test_spark_is_absent_with_a_hint(api: Api, notebook: Notebook) -> None:
    run = api.wait(_run_now(api, _job(api, [task("t", notebook("spark", "spark.range(3)\n"))])))
    assert "no Spark session" in api.output(run["tasks"][0]["run_id"])["error"]


def test_permissions_guard_runs(api: Api) -> None:
    job_id = _job(api, [sim_task("t")])
    denied = api.call("POST", "/api/2.2/jobs/run-now", token="dave-token", json={"job_id": job_id})
    assert denied.status_code == 403 and denied.json()["error_code"] == "PERMISSION_DENIED"
    acl = {"access_control_list": [{"user_name": "dave@example.com", "permission_level": "CAN_MANAGE_RUN"}]}
    assert api.call("PATCH", f"/api/2.0/permissions/jobs/{job_id}", json=acl).status_code == 200
    run_id = api.post("/api/2.2/jobs/run-now", {"job_id": job_id}, token="dave-token")["run_id"]
    assert (
        api.call("POST", "/api/2.2/jobs/delete", token="dave-token", json={"job_id": job_id}).status_code
        == 403
    )
    api.post("/api/2.2/jobs/runs/cancel", {"run_id": run_id}, token="dave-token")
