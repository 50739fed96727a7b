"""Running one task attempt: a Python subprocess for notebook/python-file/wheel tasks, a timer otherwise.

Subprocesses are started and polled from the engine tick, never waited on, so any number run
concurrently. Each attempt gets `<data_dir>/task-runs/<task_run_id>/` holding `spec.json`
(what the runner executes), `output.log` (stdout and stderr) and `result.json` (exit value,
error, traceback).

After an emulator restart a subprocess that was running is gone: its attempt fails with
"The emulator restarted while this task was running." (retries then apply as usual).
Simulated task kinds keep their absolute end time and simply finish.

What an attempt needs from the rest of the workspace (notebook sources, DBFS files, a
notebook-scoped token whose principal the secrets API checks, the workspace URL) arrives as a
`TaskEnvironment` of callables, wired in the composition root.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import EmulatorError
from airflow_dbx_provider.emulator.services.libraries import (
    LIBRARY_ERROR_CODE,
    LibraryFailure,
    failure_message,
)
from airflow_dbx_provider.job_schema import TASK_KINDS

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.services.libraries import LibraryInstaller

SIMULATED_TASK_SECONDS = 5.0  # spark_jar_task, sql_task, pipeline_task, dbt_task, ...
OUTPUT_LIMIT = 5 * 1024 * 1024
SUBPROCESS_KINDS = ("notebook_task", "spark_python_task", "python_wheel_task")
RUNNER = Path(__file__).resolve().parent.parent / "runtime" / "runner.py"
_REFERENCE = re.compile(r"\{\{\s*([\w.\-]+)\s*\}\}")


# Inherited from the emulator only when set: how to find programs, modules and decode text.
_INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "VIRTUAL_ENV", "PYTHONPATH")


def notebook_environment(
    host: str, token: str, dbfs_root: str, home: str, ca_bundle: str | None
) -> dict[str, str]:
    """A task subprocess's whole environment, built explicitly (never a copy of the emulator's).

    The emulator's own environment may carry credentials (an `AIRFLOW_CONN_*` with the admin
    token, cloud keys): none of it reaches user code. The only credential is the run's
    notebook-scoped `DATABRICKS_TOKEN`, revoked when the attempt ends.
    """
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.setdefault("PATH", os.defpath)
    tmp = os.path.join(home, "tmp")
    os.makedirs(tmp, mode=0o700, exist_ok=True)
    env.update(
        HOME=home,
        TMPDIR=tmp,
        DATABRICKS_HOST=host,
        DATABRICKS_TOKEN=token,
        DATABRICKS_DBFS_FUSE_ROOT=dbfs_root,
        DATABRICKS_RUNTIME_VERSION="emulator",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if ca_bundle:
        env["REQUESTS_CA_BUNDLE"] = env["DBX_EMULATOR_CA_BUNDLE"] = ca_bundle
    return env


TASK_MARKER = "DBX_EMULATOR_TASK_ATTEMPT"


def kill_tree(pid: int | None, marker: bytes | None) -> None:
    """SIGKILL a task's whole process tree: its process group, every descendant (found through
    /proc parent links, so also those in a new session) and every process whose environment
    carries the attempt's marker (a double-forked daemon). Linux only beyond the group.

    `pid` None: the leader has exited and been reaped (its id may be reused): marker only.
    """
    victims = {pid} if pid is not None else set()
    parents: dict[int, int] = {}
    proc_root = Path("/proc")
    entries = [e for e in proc_root.iterdir() if e.name.isdigit()] if proc_root.is_dir() else []
    for entry in entries:
        try:
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            if marker and marker in (entry / "environ").read_bytes().split(b"\0"):
                victims.add(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in victims and child not in victims:
                victims.add(child)
                grew = True
    victims.discard(os.getpid())
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def task_kind(task: dict[str, Any]) -> str:
    return next((kind for kind in TASK_KINDS if kind in task), "unknown")


@dataclass(frozen=True)
class TaskEnvironment:
    """The workspace as a task attempt sees it."""

    read_notebook: Callable[[str], str]  # workspace path → source; raises EmulatorError
    dbfs_path: Callable[[str], Path]  # DBFS path → local file; raises EmulatorError
    notebook_token: Callable[[str], str]  # principal name → a token for the subprocess ("" if unknown)
    revoke_token: Callable[[str], None]
    base_url: Callable[[], str]  # known only once the server listens
    ca_bundle: Callable[[], str | None]  # the emulator's certificate when serving TLS


class TaskExecutor:
    def __init__(
        self, data_dir: Path, clock: Clock, env: TaskEnvironment, libraries: LibraryInstaller
    ) -> None:
        self._data_dir = data_dir
        self._clock = clock
        self._env = env
        self._libraries = libraries  # a task's `libraries`, installed before its subprocess starts
        self._procs: dict[int, tuple[subprocess.Popen[bytes], str]] = {}  # task run id → (process, token)
        self._markers: dict[int, str] = {}  # task run id → the TASK_MARKER value of its processes

    def _dir(self, task_run_id: int) -> Path:
        return self._data_dir / "task-runs" / str(task_run_id)

    # -- start ------------------------------------------------------------------------------------
    def start(self, run: dict[str, Any], task: dict[str, Any]) -> None:
        kind = task_kind(task)
        if kind not in SUBPROCESS_KINDS:
            task["_due_ms"] = self._clock.now_ms() + int(
                self._clock.real_seconds(SIMULATED_TASK_SECONDS) * 1000
            )
            return
        task["_exec"] = "subprocess"
        try:
            spec = self._spec(run, task, kind)
        except EmulatorError as err:
            task["_start_error"] = err.message
            return
        workdir = self._dir(task["run_id"])
        shutil.rmtree(workdir, ignore_errors=True)  # ids restart after a reset
        workdir.mkdir(parents=True)
        (workdir / "spec.json").write_text(json.dumps(spec))
        try:
            key = self._libraries.prepare(task.get("libraries"))
        except LibraryFailure as failure:
            task["_library_error"] = self._library_message(task, failure)
            return
        if key is not None:  # the subprocess starts once they are installed (poll)
            task["_libraries_key"] = key
            return
        self._spawn(run, task, None)

    @staticmethod
    def _library_message(task: dict[str, Any], failure: LibraryFailure) -> str:
        return failure_message(failure, (task.get("cluster_instance") or {}).get("cluster_id"))

    def _spawn(self, run: dict[str, Any], task: dict[str, Any], libraries: Path | None) -> None:
        workdir = self._dir(task["run_id"])
        token = self._env.notebook_token(run["_principal"])
        env = notebook_environment(
            host=self._env.base_url(),
            token=token,
            dbfs_root=str(self._dbfs_root()),
            home=str(workdir),
            ca_bundle=self._env.ca_bundle(),
        )
        if libraries is not None:  # the task's installed libraries, before the emulator's own path
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(libraries), env.get("PYTHONPATH")]))
        # Marks every process of this attempt, even one that leaves the process group and session.
        env[TASK_MARKER] = f"{task['run_id']}-{os.urandom(8).hex()}"
        log = open(workdir / "output.log", "wb")
        try:
            proc = subprocess.Popen(
                [sys.executable, str(RUNNER), str(workdir / "spec.json")],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=str(workdir),
                env=env,
                start_new_session=True,
            )
        finally:
            log.close()
        self._procs[task["run_id"]] = (proc, token)
        self._markers[task["run_id"]] = env[TASK_MARKER]

    def _dbfs_root(self) -> Path:
        try:
            return Path(self._env.dbfs_path("/"))
        except EmulatorError:
            return self._data_dir / "dbfs"

    def _spec(self, run: dict[str, Any], task: dict[str, Any], kind: str) -> dict[str, Any]:
        body = task[kind]
        overrides = run.get("overriding_parameters", {})
        job_params = {p["name"]: p.get("value", p.get("default", "")) for p in run.get("job_parameters", [])}
        refs = self._references(run, task, job_params)
        spec: dict[str, Any] = {"kind": kind, "result_path": str(self._dir(task["run_id"]) / "result.json")}
        if kind == "notebook_task":
            path = str(body.get("notebook_path", ""))
            try:
                source = self._env.read_notebook(path)
            except EmulatorError:
                raise EmulatorError("RESOURCE_DOES_NOT_EXIST", f"Notebook not found: {path}") from None
            widgets = {str(k): str(v) for k, v in (body.get("base_parameters") or {}).items()}
            widgets.update(job_params)
            widgets.update({str(k): str(v) for k, v in (overrides.get("notebook_params") or {}).items()})
            spec.update(
                source=source, filename=path, widgets={k: _resolve(v, refs) for k, v in widgets.items()}
            )
        elif kind == "spark_python_task":
            path = str(body.get("python_file", ""))
            spec.update(source=self._read_file(path), filename=path)
            params = overrides.get("python_params") or body.get("parameters") or []
            spec["argv"] = [path] + [_resolve(str(p), refs) for p in params]
        else:  # python_wheel_task
            spec.update(package_name=body.get("package_name", ""), entry_point=body.get("entry_point", ""))
            named = overrides.get("python_named_params") or body.get("named_parameters") or {}
            params = overrides.get("python_params") or body.get("parameters") or []
            argv = [_resolve(str(p), refs) for p in params] + [
                f"--{k}={_resolve(str(v), refs)}" for k, v in named.items()
            ]
            spec["argv"] = [str(body.get("package_name", ""))] + argv
        return spec

    def _read_file(self, path: str) -> str:
        if path.startswith("dbfs:/"):
            local = Path(self._env.dbfs_path(path))
            if not local.is_file():
                raise EmulatorError("RESOURCE_DOES_NOT_EXIST", f"File not found: {path}")
            return local.read_text()
        try:
            return self._env.read_notebook(path)
        except EmulatorError:
            raise EmulatorError("RESOURCE_DOES_NOT_EXIST", f"File not found: {path}") from None

    @staticmethod
    def _references(run: dict[str, Any], task: dict[str, Any], job_params: dict[str, str]) -> dict[str, str]:
        refs = {
            "job.id": str(run["job_id"]),
            "job_id": str(run["job_id"]),
            "job.run_id": str(run["run_id"]),
            "parent_run_id": str(run["run_id"]),
            "run_id": str(task["run_id"]),
            "task.run_id": str(task["run_id"]),
            "task.name": task["task_key"],
            "task_key": task["task_key"],
            "job.start_time.iso_date": "",
        }
        refs.update({f"job.parameters.{k}": v for k, v in job_params.items()})
        return refs

    # -- poll / kill ------------------------------------------------------------------------------
    def poll(self, run: dict[str, Any], task: dict[str, Any]) -> tuple[bool, str] | None:
        """None while the attempt runs, else (succeeded, state_message)."""
        if "_due_ms" in task:
            return (True, "") if self._clock.now_ms() >= task["_due_ms"] else None
        if "_start_error" in task:
            task["_output"] = {"error": task["_start_error"]}
            return False, task["_start_error"]
        if "_libraries_key" in task:
            try:
                installed = self._libraries.poll(task["_libraries_key"])
            except LibraryFailure as failure:
                task["_library_error"] = self._library_message(task, failure)
                installed = None
            if installed is not None:
                del task["_libraries_key"]
                self._spawn(run, task, installed)
                return None
        if "_library_error" in task:  # LIBRARY_INSTALLATION_ERROR: the engine ends it in INTERNAL_ERROR
            task.pop("_libraries_key", None)
            task["_output"] = {"error": task["_library_error"]}
            task["_failure_code"] = LIBRARY_ERROR_CODE
            return False, task["_library_error"]
        if "_libraries_key" in task:
            return None
        entry = self._procs.get(task["run_id"])
        if entry is None:
            message = "The emulator restarted while this task was running."
            task["_output"] = {"error": message}
            return False, message
        proc, token = entry
        code = proc.poll()
        if code is None:
            return None
        del self._procs[task["run_id"]]
        self._env.revoke_token(token)
        marker = self._markers.pop(task["run_id"], "")
        if marker:  # what the notebook left running (a daemon, a new session) ends with it
            kill_tree(None, f"{TASK_MARKER}={marker}".encode())
        outcome = self._result(task["run_id"])
        if code != 0 and not outcome.get("error"):
            outcome["error"] = f"The Python process exited with code {code}."
        task["_output"] = {k: v for k, v in outcome.items() if k in ("error", "truncated")}
        error = outcome.get("error")
        return (False, str(error)) if error else (True, "")

    def _result(self, task_run_id: int) -> dict[str, Any]:
        path = self._dir(task_run_id) / "result.json"
        try:
            data = json.loads(path.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def kill(self, task_run_id: int) -> None:
        entry = self._procs.pop(task_run_id, None)
        if entry is None:
            return
        proc, token = entry
        self._env.revoke_token(token)
        marker = self._markers.pop(task_run_id, "")
        alive = proc.poll() is None
        kill_tree(proc.pid if alive else None, f"{TASK_MARKER}={marker}".encode() if marker else None)
        proc.wait(timeout=5)

    def kill_all(self) -> None:
        for task_run_id in list(self._procs):
            self.kill(task_run_id)
        self._libraries.kill_all()

    def forget_all(self) -> None:
        """After a reset: no attempt's files may leak into a new attempt that reuses its id."""
        self.kill_all()
        shutil.rmtree(self._data_dir / "task-runs", ignore_errors=True)

    # -- export -----------------------------------------------------------------------------------
    def notebook_view(self, task: dict[str, Any]) -> dict[str, str]:
        """jobs/runs/export's view of a notebook task run: the notebook as an HTML page (escaped
        source, then the `dbutils.notebook.exit` value), named after the notebook."""
        path = str(task["notebook_task"].get("notebook_path", ""))
        try:
            source = self._env.read_notebook(path)
        except EmulatorError:
            source = ""
        name = path.rstrip("/").rsplit("/", 1)[-1] or path
        result = self._result(task["run_id"])
        exit_value = (
            f"<h2>Result</h2><pre>{html.escape(str(result['exit_value']))}</pre>"
            if "exit_value" in result
            else ""
        )
        content = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(name)}</title></head>'
            f"<body><h1>{html.escape(name)}</h1><pre>{html.escape(source)}</pre>{exit_value}</body></html>"
        )
        return {"content": content, "name": name, "type": "NOTEBOOK"}

    # -- output -----------------------------------------------------------------------------------
    def output_of(self, task: dict[str, Any]) -> dict[str, Any]:
        """The runs/get-output fields of one finished (or running) attempt."""
        output: dict[str, Any] = {}
        kind = task_kind(task)
        result = self._result(task["run_id"])
        if kind == "notebook_task":
            notebook: dict[str, Any] = {}
            if "exit_value" in result:
                notebook = {"result": result["exit_value"], "truncated": bool(result.get("truncated"))}
            output["notebook_output"] = notebook
        error = result.get("error") or (task.get("_output") or {}).get("error")
        if error:
            output["error"] = error
        if result.get("error_trace"):
            output["error_trace"] = result["error_trace"]
        log = self._dir(task["run_id"]) / "output.log"
        if kind in SUBPROCESS_KINDS and log.exists():
            size = log.stat().st_size
            with open(log, "rb") as handle:
                handle.seek(max(0, size - OUTPUT_LIMIT))
                output["logs"] = handle.read().decode("utf-8", errors="replace")
            output["logs_truncated"] = size > OUTPUT_LIMIT
        return output


def _resolve(value: str, refs: dict[str, str]) -> str:
    """Dynamic value references such as `{{job.parameters.date}}` or `{{job.run_id}}`."""
    return _REFERENCE.sub(lambda m: refs.get(m.group(1), m.group(0)), value)
