"""The composition root: one emulated workspace, its services built in dependency order.

    store, clock, auth, controls
    permissions ← jobs ← runs (registry, queries, engine, executor) ← operations
    compute catalogue ← instance pools ← clusters (checks cluster specs for jobs and runs too)
    dbfs, secrets, workspace objects: no service dependencies; the SCIM directory reads auth's principals

Each service gets its collaborators as constructor arguments; none sees this object. The run
engine gets clusters as `JobCompute` and run storage as callables; task attempts get notebook
sources, DBFS files and notebook tokens as a `TaskEnvironment`. The server, admin routes and
tests hold the `Workspace`; handlers are bound to the services they need (handlers/__init__.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from airflow_dbx_provider.emulator.auth import Authenticator
from airflow_dbx_provider.emulator.clock import Clock
from airflow_dbx_provider.emulator.config import EmulatorConfig
from airflow_dbx_provider.emulator.control import Counters, FaultInjector, RateLimiter
from airflow_dbx_provider.emulator.services.clusters import ClustersService
from airflow_dbx_provider.emulator.services.compute_catalog import ComputeCatalog
from airflow_dbx_provider.emulator.services.dbfs import DbfsService
from airflow_dbx_provider.emulator.services.entra import EntraService
from airflow_dbx_provider.emulator.services.instance_pools import InstancePoolsService
from airflow_dbx_provider.emulator.services.jobs import JobsService
from airflow_dbx_provider.emulator.services.libraries import LibraryInstaller
from airflow_dbx_provider.emulator.services.object_acls import ObjectAcls
from airflow_dbx_provider.emulator.services.operations import JobOperations
from airflow_dbx_provider.emulator.services.permissions import PermissionsService
from airflow_dbx_provider.emulator.services.run_engine import RunEngine
from airflow_dbx_provider.emulator.services.run_queries import RunQueries
from airflow_dbx_provider.emulator.services.run_registry import RunRegistry
from airflow_dbx_provider.emulator.services.runs import RunsService
from airflow_dbx_provider.emulator.services.scim import ScimDirectory
from airflow_dbx_provider.emulator.services.secrets import SecretsService
from airflow_dbx_provider.emulator.services.sql_catalog import SqlCatalog
from airflow_dbx_provider.emulator.services.sql_engine import SqlEngine
from airflow_dbx_provider.emulator.services.sql_statements import SqlStatementsService
from airflow_dbx_provider.emulator.services.sql_warehouses import SqlWarehousesService
from airflow_dbx_provider.emulator.services.task_execution import TaskEnvironment, TaskExecutor
from airflow_dbx_provider.emulator.services.workspace_objects import WorkspaceObjectsService
from airflow_dbx_provider.emulator.store import Store


class Workspace:
    """Everything one emulated workspace holds, wired once."""

    def __init__(self, config: EmulatorConfig, clock: Clock | None = None) -> None:
        self.config = config
        if config.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dbx-emulator-")
            config.data_dir = Path(self._tmp.name)
        self.data_dir = Path(config.data_dir)
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # state, DBFS files and task logs: this OS user only
        self.clock = clock or Clock(config.time_scale)
        self.store = Store(self.data_dir / "state.sqlite3")
        self.auth = Authenticator(config, self.clock)
        self.entra = EntraService(config, self.auth, self.clock)  # Entra ID, managed identity, federation
        self.counters = Counters()
        self.faults = FaultInjector()
        self.rate_limiter = RateLimiter(config.rate_limits, enabled=config.rate_limit_enabled)
        self.base_url = ""  # set by the server once it knows its port
        self.server_errors: list[BaseException] = []  # handler/engine bugs, re-raised by tests

        store, clock = self.store, self.clock
        self.permissions = PermissionsService(store)
        self.directory = ScimDirectory(store, self.auth.principals)  # SCIM Users, Groups, SPs
        object_acls = ObjectAcls(store)  # notebooks, directories, clusters
        self.workspace = WorkspaceObjectsService(
            store,
            clock,
            home_owners=[p.name for p in self.auth.principals()],
            workspace_dir=Path(config.workspace_dir) if config.workspace_dir else None,
            acls=object_acls,
        )
        self.dbfs = DbfsService(store, clock, self.data_dir)
        self.secrets = SecretsService(store, clock)
        self.compute_catalog = ComputeCatalog(config)  # runtimes and node types cluster specs may name
        self.instance_pools = InstancePoolsService(store, clock, self.compute_catalog)
        self.clusters = ClustersService(store, clock, self.compute_catalog, self.instance_pools, object_acls)
        self.jobs = JobsService(
            store,
            clock,
            self.counters,
            self.permissions,
            check_cluster_spec=self.clusters.check_compute,
            serverless=lambda: config.serverless_compute,
        )
        self.run_registry = RunRegistry(store)
        self.run_queries = RunQueries(
            self.run_registry, self.jobs, self.permissions, config, lambda: self.base_url
        )
        libraries = LibraryInstaller(self.data_dir / "libraries", config, self.dbfs.local_path)
        executor = TaskExecutor(self.data_dir, clock, self._task_environment(), libraries)
        registry = self.run_registry
        engine = RunEngine(
            clock,
            self.clusters,
            executor,
            new_run_id=registry.new_run_id,
            active_runs=registry.active_runs,
            save=registry.save,
            index_task=registry.index_task,
            on_error=self.record_server_error,
        )
        self.runs = RunsService(
            store,
            clock,
            self.counters,
            registry=registry,
            queries=self.run_queries,
            engine=engine,
            executor=executor,
            jobs=self.jobs,
            permissions=self.permissions,
        )
        self.job_operations = JobOperations(self.jobs, self.runs)
        # SQL: warehouses ← statements → engine → catalog (Delta tables in DBFS)
        self.sql_catalog = SqlCatalog(store, clock, self.dbfs.local_path)
        self.sql_warehouses = SqlWarehousesService(store, clock)
        self.sql_statements = SqlStatementsService(clock, self.sql_warehouses, SqlEngine(self.sql_catalog))

    def _task_environment(self) -> TaskEnvironment:
        """What a notebook subprocess reaches: workspace notebooks, DBFS, a token, the URL."""
        auth, config = self.auth, self.config

        def notebook_token(principal_name: str) -> str:
            principal = auth.principal_named(principal_name)
            return auth.notebook_token(principal) if principal else ""

        def ca_bundle() -> str | None:
            return str(config.cert_file) if config.tls and config.cert_file else None

        return TaskEnvironment(
            read_notebook=self.workspace.read_notebook,
            dbfs_path=self.dbfs.local_path,
            notebook_token=notebook_token,
            revoke_token=auth.revoke,
            base_url=lambda: self.base_url,
            ca_bundle=ca_bundle,
        )

    def services(self) -> list[object]:
        return [
            self.permissions,
            self.workspace,
            self.dbfs,
            self.secrets,
            self.clusters,
            self.jobs,
            self.runs,
            self.sql_warehouses,
            self.sql_statements,
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
