"""Helpers for the jobs/runs tests: raw HTTP calls, polling, task specs."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import requests

from airflow_dbx_provider.emulator import EmulatorServer, PrincipalSpec

DAVE = PrincipalSpec("dave@example.com", token="dave-token")
TERMINAL = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")


class Api:
    """Raw HTTP against the emulator, as the admin unless a token is given."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.trust_env = False

    def held(self) -> AbstractContextManager[None]:
        """The workspace's time stands still inside: a transient state stays put while read."""
        assert self.server.state is not None
        return self.server.state.clock.held()

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {token or self.server.admin_token}")
        return self.session.request(method, self.server.url + path, headers=headers, timeout=30, **kwargs)

    def post(self, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        response = self.call("POST", path, json=body, **kwargs)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def get(self, path: str, /, **params: Any) -> dict[str, Any]:
        response = self.call("GET", path, params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def run(self, run_id: int, version: str = "2.2", **params: Any) -> dict[str, Any]:
        return self.get(f"/api/{version}/jobs/runs/get", run_id=run_id, **params)

    def wait(
        self, run_id: int, until: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 20
    ) -> dict[str, Any]:
        """Poll runs/get until `until(run)` (default: terminal)."""
        check = until or (lambda run: run["state"]["life_cycle_state"] in TERMINAL)
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if check(run):
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} stuck: {run['state']}")
            time.sleep(0.05)

    def output(self, task_run_id: int) -> dict[str, Any]:
        return self.get("/api/2.2/jobs/runs/get-output", run_id=task_run_id)

    def cluster(self) -> str:
        body = {
            "cluster_name": "c",
            "spark_version": "15.4.x-scala2.12",
            "node_type_id": "i3.xlarge",
            "num_workers": 1,
        }
        return str(self.post("/api/2.1/clusters/create", body)["cluster_id"])


def task(key: str, path: str, **extra: Any) -> dict[str, Any]:
    """A notebook task without compute (serverless on a saved job)."""
    return {"task_key": key, "notebook_task": {"notebook_path": path}, **extra}


def sim_task(key: str, **extra: Any) -> dict[str, Any]:
    """A task kind the emulator only simulates (5 simulated seconds)."""
    return {"task_key": key, "spark_jar_task": {"main_class_name": "Main"}, **extra}
