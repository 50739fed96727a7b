"""The composition root: one emulated workspace with its store, clock, principals and services."""

from __future__ import annotations

import tempfile
from pathlib import Path

from airflow_dbx_provider.emulator.auth import Authenticator
from airflow_dbx_provider.emulator.clock import Clock
from airflow_dbx_provider.emulator.config import EmulatorConfig
from airflow_dbx_provider.emulator.control import Counters, FaultInjector, RateLimiter
from airflow_dbx_provider.emulator.services.clusters import ClustersService
from airflow_dbx_provider.emulator.services.dbfs import DbfsService
from airflow_dbx_provider.emulator.services.jobs import JobsService
from airflow_dbx_provider.emulator.services.permissions import PermissionsService
from airflow_dbx_provider.emulator.services.runs import RunsService
from airflow_dbx_provider.emulator.services.secrets import SecretsService
from airflow_dbx_provider.emulator.services.workspace_objects import WorkspaceObjectsService
from airflow_dbx_provider.emulator.store import Store


class WorkspaceState:
    """Everything one emulated workspace knows. Services reach each other through it."""

    def __init__(self, config: EmulatorConfig, clock: Clock | None = None) -> None:
        self.config = config
        if config.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dbx-emulator-")
            config.data_dir = Path(self._tmp.name)
        self.data_dir = Path(config.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock or Clock(config.time_scale)
        self.store = Store(self.data_dir / "state.sqlite3")
        self.auth = Authenticator(config, self.clock)
        self.counters = Counters()
        self.faults = FaultInjector()
        self.rate_limiter = RateLimiter(config.rate_limits, enabled=config.rate_limit_enabled)
        self.base_url = ""  # set by the server once it knows its port
        self.server_errors: list[BaseException] = []  # handler/engine bugs, re-raised by tests
        self.permissions = PermissionsService(self)
        self.workspace = WorkspaceObjectsService(self)
        self.dbfs = DbfsService(self)
        self.secrets = SecretsService(self)
        self.clusters = ClustersService(self)
        self.jobs = JobsService(self)
        self.runs = RunsService(self)

    def services(self) -> list[object]:
        return [
            self.permissions,
            self.workspace,
            self.dbfs,
            self.secrets,
            self.clusters,
            self.jobs,
            self.runs,
        ]

    def tick(self) -> None:
        """Advance simulated work (cluster and run state machines); called by the engine thread.

        One service failing must not stop the others (nor the engine): the error is kept for
        `take_server_errors()`, which the pytest plugin re-raises at teardown.
        """
        for service in self.services():
            tick = getattr(service, "tick", None)
            if tick is not None:
                try:
                    tick()
                except Exception as exc:
                    self.record_server_error(exc)

    def record_server_error(self, exc: BaseException) -> None:
        if len(self.server_errors) < 100:
            self.server_errors.append(exc)

    def take_server_errors(self) -> list[BaseException]:
        errors, self.server_errors = self.server_errors, []
        return errors

    def reset(self) -> None:
        """Back to an empty workspace, keeping principals and settings."""
        for service in self.services():
            before_reset = getattr(service, "before_reset", None)
            if before_reset is not None:
                before_reset()
        self.store.reset()
        self.counters.reset()
        self.faults.reset()
        self.rate_limiter.reset()
        for service in self.services():
            after_reset = getattr(service, "after_reset", None)
            if after_reset is not None:
                after_reset()

    def close(self) -> None:
        for service in self.services():
            close = getattr(service, "close", None)
            if close is not None:
                close()
        self.store.close()
