"""Task `libraries`: installed into a directory the task's Python subprocess gets on PYTHONPATH.

One install directory per library set (`<data_dir>/libraries/<hash>/`), shared by the tasks
and clusters that ask for the same set and kept across runs and resets (a cache: a set is
installed once). The installer is `uv pip install --target` (the `uv` of the emulator's
environment, else `python -m pip`), started as a subprocess and polled from the engine tick,
never waited on. It uses the machine's package index (pip/uv configuration and environment),
the library's `repo`, or `EmulatorConfig.library_index_url`; `library_offline` forbids the
network (a wheel from DBFS still installs).

What each library kind does (Databricks installs every kind on the cluster; here):

- `pypi` {package, repo}: satisfied without installing when its distribution name is in
  `EmulatorConfig.preinstalled_libraries` (the runtime's preinstalled set), else installed.
- `whl` (`dbfs:/...`, a local path or `/Volumes/...` under DBFS): installed from the file, no
  network for the wheel itself; a missing file fails.
- `requirements` (`dbfs:/...` file): `-r` of that file.
- `jar`, `maven`, `cran`: accepted and not installed (no JVM or R here); a `jar` on DBFS must exist.
- `egg`: fails, as on Databricks Runtime 14 and later.

A failure ends the task as Databricks does: life cycle INTERNAL_ERROR, result FAILED,
termination code LIBRARY_INSTALLATION_ERROR (CLIENT_ERROR), and a state message naming the
library and the installer's last error line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import EmulatorError

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.config import EmulatorConfig

LIBRARY_ERROR_CODE = "LIBRARY_INSTALLATION_ERROR"
IGNORED_KINDS = ("jar", "maven", "cran")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def describe(library: dict[str, Any]) -> str:
    """How Databricks names a library in its error: `pypi {\\n  package: "x"\\n}`, `whl: "dbfs:/..."`."""
    kind, value = next(iter(library.items()), ("library", ""))
    if isinstance(value, dict):
        fields = "".join(f'\n  {k}: "{v}"' for k, v in value.items())
        return f"{kind} {{{fields}\n}}"
    return f'{kind}: "{value}"'


class LibraryFailure(Exception):
    def __init__(self, library: dict[str, Any], detail: str) -> None:
        super().__init__(detail)
        self.library = library
        self.detail = detail


@dataclass
class _Install:
    proc: subprocess.Popen[bytes]
    target: Path
    log: Path
    libraries: list[dict[str, Any]]


class LibraryInstaller:
    def __init__(self, root: Path, config: EmulatorConfig, dbfs_path: Callable[[str], Path]) -> None:
        self._root = root
        self._config = config
        self._dbfs_path = dbfs_path
        self._running: dict[str, _Install] = {}  # library-set hash → its install

    def prepare(self, libraries: Any) -> str | None:
        """Start installing what `libraries` needs; returns the set's key (None: nothing to install).

        Raises LibraryFailure for a library that cannot be installed at all.
        """
        if not libraries:
            return None
        if not isinstance(libraries, list):
            raise LibraryFailure({"libraries": str(libraries)}, "libraries must be a list.")
        args: list[str] = []
        wanted: list[dict[str, Any]] = []
        fingerprint: list[Any] = []
        preinstalled = {normalise(n) for n in self._config.preinstalled_libraries}
        for library in libraries:
            found = self._arguments(library, preinstalled)
            if found:
                args.extend(found)
                wanted.append(library)
                fingerprint.append([library, [self._stamp(a) for a in found]])
        if not args:
            return None
        index = self._config.library_index_url
        key = hashlib.sha256(
            json.dumps([fingerprint, index, self._config.library_offline], sort_keys=True).encode()
        ).hexdigest()[:16]
        target = self._root / key
        if (target / ".installed").exists() or key in self._running:
            return key
        staging = self._root / f"{key}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        log = self._root / f"{key}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [*self._installer(), "--target", str(staging), *self._index_args(wanted), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._running[key] = _Install(proc, target, log, wanted)
        return key

    def poll(self, key: str) -> Path | None:
        """The installed directory once ready, None while installing; LibraryFailure on failure."""
        target = self._root / key
        install = self._running.get(key)
        if install is None:
            if (target / ".installed").exists():
                return target
            raise LibraryFailure({"libraries": key}, "The installation was interrupted.")
        code = install.proc.poll()
        if code is None:
            return None
        del self._running[key]
        staging = self._root / f"{key}.staging"
        if code != 0:
            shutil.rmtree(staging, ignore_errors=True)
            lines = [ln.strip() for ln in install.log.read_text(errors="replace").splitlines() if ln.strip()]
            library = install.libraries[0] if len(install.libraries) == 1 else self._culprit(install, lines)
            raise LibraryFailure(library, _last_error(lines) or f"The installer exited with code {code}.")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        (target / ".installed").write_text("")
        return target

    def kill_all(self) -> None:
        for install in self._running.values():
            if install.proc.poll() is None:
                install.proc.kill()
                install.proc.wait(timeout=5)
        self._running.clear()

    # -- helpers ----------------------------------------------------------------------------------
    def _arguments(self, library: Any, preinstalled: set[str]) -> list[str]:
        """Installer arguments for one library ([] when nothing is to install)."""
        if not isinstance(library, dict) or len(library) != 1:
            raise LibraryFailure({"library": str(library)}, "A library must name exactly one kind.")
        kind, value = next(iter(library.items()))
        if kind == "pypi":
            package = value.get("package") if isinstance(value, dict) else None
            name = _NAME.match(str(package or ""))
            if not name:
                raise LibraryFailure(library, "pypi library must specify a package.")
            if normalise(name.group(1)) in preinstalled:
                return []
            return [str(package)]
        if kind in ("whl", "requirements", "jar"):
            local = self._file(library, str(value))
            if kind == "jar":
                return []
            return ["-r", str(local)] if kind == "requirements" else [str(local)]
        if kind in IGNORED_KINDS:
            return []
        if kind == "egg":
            raise LibraryFailure(
                library, "Python egg libraries are not supported on Databricks Runtime 14.0 and above."
            )
        raise LibraryFailure(library, f"Unsupported library type: {kind}.")

    def _file(self, library: dict[str, Any], path: str) -> Path:
        if path.startswith("/dbfs/"):
            path = "dbfs:/" + path.removeprefix("/dbfs/")
        local = Path(path)
        if path.startswith(("dbfs:/", "/Volumes/")):
            try:
                local = Path(self._dbfs_path(path))
            except EmulatorError as err:
                raise LibraryFailure(library, err.message) from None
        if not local.is_file():
            raise LibraryFailure(library, f"java.io.FileNotFoundException: File {path} does not exist.")
        return local

    @staticmethod
    def _stamp(argument: str) -> Any:
        """A file's size and mtime join the cache key, so a replaced wheel is installed again."""
        path = Path(argument)
        if os.sep in argument and path.is_file():
            stat = path.stat()
            return [argument, stat.st_size, stat.st_mtime_ns]
        return argument

    def _installer(self) -> list[str]:
        try:
            import uv

            return [uv.find_uv_bin(), "pip", "install", "--python", sys.executable, "--quiet"]
        except (ImportError, FileNotFoundError):
            return [sys.executable, "-m", "pip", "install", "--no-input", "--disable-pip-version-check", "-q"]

    def _index_args(self, libraries: list[dict[str, Any]]) -> list[str]:
        uses_uv = "uv" in Path(self._installer()[0]).name
        if self._config.library_offline:
            return ["--offline"] if uses_uv else ["--no-index"]
        repos = [
            lib["pypi"]["repo"]
            for lib in libraries
            if isinstance(lib.get("pypi"), dict) and lib["pypi"].get("repo")
        ]
        index = self._config.library_index_url or (repos[0] if repos else None)
        return ["--index-url", str(index)] if index else []

    @staticmethod
    def _culprit(install: _Install, lines: list[str]) -> dict[str, Any]:
        """The library the installer's output names, else the first of the set."""
        text = "\n".join(lines).lower()
        for library in install.libraries:
            value = next(iter(library.values()))
            name = value.get("package", "") if isinstance(value, dict) else Path(str(value)).name
            match = _NAME.match(str(name))
            if match and normalise(match.group(1)) in normalise(text):
                return library
        return install.libraries[0]


def _last_error(lines: list[str]) -> str:
    """The installer's last error line (pip: `ERROR: No matching distribution found for x`), with
    the cause uv prints under it (`cause: Because x was not found ...`)."""
    errors = [i for i, line in enumerate(lines) if line.lower().startswith(("error", "×"))]
    if not errors:
        return lines[-1] if lines else ""
    first = errors[-1]
    causes = [
        line.removeprefix("╰─▶").removeprefix("cause:").strip()
        for line in lines[first + 1 :]
        if line.startswith(("cause:", "╰─▶"))
    ]
    return " ".join([lines[first], *causes])


def failure_message(failure: LibraryFailure, cluster_id: str | None) -> str:
    """The task's state_message, worded as Databricks words it."""
    where = f"cluster {cluster_id}" if cluster_id else "serverless compute"
    return (
        f"Library installation failed for library due to user error for {describe(failure.library)}\n"
        f" Error messages:\nLibrary installation attempted on the driver node of {where} and failed. "
        "Please refer to the following error message to fix the library or contact Databricks support. "
        f"Error Code: DRIVER_LIBRARY_INSTALLATION_FAILURE. Error Message: {failure.detail}"
    )
