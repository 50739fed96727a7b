"""The workspace goes away for a few seconds while a run is active; the task watching it rides it out.

The emulator is stopped while a simulated task (``spark_jar_task``) runs and started again on the
same data dir and port: the run carries on from SQLite. The watching task runs through
``dag.test()`` (sync: the operator's ``runs/get`` loop; deferred: the trigger and its shared poller,
inline). The hooks retry connection errors on idempotent GETs within ``retry_deadline_seconds``,
so the task succeeds, with one Databricks run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer
from airflow_dbx_provider.hooks.rate_limit import reset_rate_limiters
from tests.operators.support import reset_db_once
from tests.reliability.conftest import connection_json
from tests.reliability.helpers import load_dag, run_states, ti_states, wait_for

DOWNTIME_SECONDS = 2.0


class Restarter:
    """Stops the server once a run is RUNNING and starts a new one on the same data dir and port."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.restarted_while: tuple[str, str | None] | None = None
        self.runs_created_before = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            old = self.server
            run_id = wait_for(
                lambda: next((r for r, (life, _) in run_states(old).items() if life == "RUNNING"), None),
                timeout=60,
            )
            self.runs_created_before = old.counters()["runs_created"]
            old.stop()
            time.sleep(DOWNTIME_SECONDS)
            config = old.config
            new = EmulatorServer(
                EmulatorConfig(
                    port=old.port or int(old.url.rsplit(":", 1)[1]),
                    data_dir=config.data_dir,
                    workspace_dir=config.workspace_dir,
                    time_scale=config.time_scale,
                    rate_limit_enabled=False,
                )
            ).start()
            self.restarted_while = run_states(new)[run_id]
            self.server = new
        except BaseException as exc:  # re-raised by the test
            self.error = exc

    def __enter__(self) -> Restarter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(30)


@pytest.fixture
def own_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_retries: None) -> Iterator[Any]:
    """An emulator of this test's own (it gets restarted), simulated time at real speed."""
    (tmp_path / "workspace").mkdir()
    server = EmulatorServer(
        EmulatorConfig(
            port=0,
            data_dir=tmp_path / "data",
            workspace_dir=tmp_path / "workspace",
            time_scale=1.0,  # the simulated task takes ~5 s: long enough to restart under it
            rate_limit_enabled=False,
        )
    ).start()
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", connection_json(server))
    reset_rate_limiters()
    reset_db_once()
    holder = {"server": server}
    yield holder
    holder["server"].stop()
    reset_rate_limiters()


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["sync", "deferred"])
def test_task_rides_out_an_emulator_restart(
    mode: str, own_emulator: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="airflow_dbx_provider.hooks")
    dag = load_dag("reliability_kills.py", f"reliability_restart_{mode}")
    with Restarter(own_emulator["server"]) as restarter:
        dag_run = dag.test()
    own_emulator["server"] = restarter.server  # the fixture stops whichever is running
    if restarter.error is not None:
        raise restarter.error

    assert restarter.restarted_while == ("RUNNING", None)  # the new server picked the run up live
    assert dag_run.state == "success", ti_states(dag_run)
    assert restarter.runs_created_before == 1
    new = restarter.server
    assert new.counters()["runs_created"] == 0  # the watcher re-created nothing after the restart
    assert [state for state in run_states(new).values()] == [("TERMINATED", "SUCCESS")]
    assert new.counters()["total_requests"] > 0  # it kept watching the new server
    retried = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert retried and all(" GET " in m and "Connect" in m for m in retried), retried
