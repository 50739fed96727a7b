"""The `dbutils` object a notebook sees inside the emulator (widgets, notebook, secrets, fs).

DBFS addressing: `dbutils.fs` takes `dbfs:/x` (or `/x`) and works on the emulator's DBFS files
directly under `$DATABRICKS_DBFS_FUSE_ROOT` (`<data_dir>/dbfs`). Libraries that want a local
path (pandas, deltalake) use the FUSE path `/dbfs/x` on a real cluster; portable notebooks map
it as `os.environ.get("DATABRICKS_DBFS_FUSE_ROOT", "/dbfs") + "/x"`. Secrets are fetched over
HTTP from the emulator with the run's short-lived token (`DATABRICKS_HOST`/`DATABRICKS_TOKEN`).

Standard library only: this module runs in the task subprocess.
"""

from __future__ import annotations

import base64
import builtins
import json
import os
import shutil
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple


class NotebookExit(BaseException):
    """Raised by `dbutils.notebook.exit`; a BaseException so `except Exception` can't swallow it."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class FileInfo(NamedTuple):
    path: str
    name: str
    size: int
    modificationTime: int


class Widgets:
    def __init__(self, values: dict[str, str]) -> None:
        self._given = dict(values)
        self._values = dict(values)

    def get(self, name: str) -> str:
        if name not in self._values:
            raise ValueError(f"InputWidgetNotDefined: No input widget named {name} is defined")
        return self._values[name]

    def getArgument(self, name: str, defaultValue: str | None = None) -> str | None:
        return self._values.get(name, defaultValue)

    def getAll(self) -> dict[str, str]:
        return dict(self._values)

    def _define(self, name: str, default: Any) -> None:
        self._values[name] = self._given.get(name, "" if default is None else str(default))

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:
        self._define(name, defaultValue)

    def dropdown(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._define(name, defaultValue)

    def combobox(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._define(name, defaultValue)

    def multiselect(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._define(name, defaultValue)

    def remove(self, name: str) -> None:
        self._values.pop(name, None)

    def removeAll(self) -> None:
        self._values.clear()


class Notebook:
    def exit(self, value: Any) -> None:
        raise NotebookExit("" if value is None else str(value))

    def run(self, path: str, timeout_seconds: int = 0, arguments: dict[str, str] | None = None) -> str:
        raise NotImplementedError("dbutils.notebook.run is not supported by the Databricks emulator")


class Secrets:
    def _call(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        host = os.environ.get("DATABRICKS_HOST", "").rstrip("/")
        url = f"{host}/api/2.0/secrets/{endpoint}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {os.environ.get('DATABRICKS_TOKEN', '')}"}
        )
        context = None
        if os.environ.get("DBX_EMULATOR_CA_BUNDLE"):
            context = ssl.create_default_context(cafile=os.environ["DBX_EMULATOR_CA_BUNDLE"])
        try:
            with urllib.request.urlopen(request, timeout=30, context=context) as response:
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as err:
            try:
                body = json.loads(err.read() or b"{}")
            except ValueError:
                body = {}
            raise RuntimeError(
                f"{body.get('error_code', err.code)}: {body.get('message', err.reason)}"
            ) from None

    def getBytes(self, scope: str, key: str) -> bytes:
        return base64.b64decode(self._call("get", {"scope": scope, "key": key}).get("value", ""))

    def get(self, scope: str, key: str) -> str:
        return self.getBytes(scope, key).decode("utf-8")

    def list(self, scope: str) -> list[Any]:
        return list(self._call("list", {"scope": scope}).get("secrets", []))

    def listScopes(self) -> builtins.list[Any]:
        return list(self._call("scopes/list", {}).get("scopes", []))


class Fs:
    """`dbutils.fs` over the local DBFS root (`dbfs:/a` → `$DATABRICKS_DBFS_FUSE_ROOT/a`)."""

    def _local(self, path: str) -> Path:
        """The same path rules as the REST API (services/dbfs.py `normalize`, `local_path`):
        absolute, no `..`, no NUL, and never through a symbolic link out of the DBFS root."""
        if path.startswith("file:"):  # the driver's local disk, as on Databricks
            return Path(path[5:])
        root = Path(os.environ.get("DATABRICKS_DBFS_FUSE_ROOT", "/dbfs"))
        raw = path
        if raw.startswith("dbfs:"):
            raw = raw[5:]
        elif raw.startswith("/dbfs/"):
            raw = raw[5:]
        if not raw.startswith("/") or "\x00" in raw or len(raw) > 4096:
            raise ValueError(f"IllegalArgumentException: Path must be absolute and well-formed: {path}")
        parts = [p for p in raw.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise ValueError(f"IllegalArgumentException: Path must not contain '..': {path}")
        local = root.joinpath(*parts)
        current = root
        for part in parts:
            current = current / part
            if current.is_symlink():
                raise PermissionError(
                    f"Path {path} goes through a symbolic link, which DBFS does not follow."
                )
        return local

    def _missing(self, path: str) -> FileNotFoundError:
        return FileNotFoundError(f"java.io.FileNotFoundException: File {path} does not exist.")

    def ls(self, path: str) -> list[FileInfo]:
        local = self._local(path)
        if not local.exists():
            raise self._missing(path)
        entries = sorted(local.iterdir()) if local.is_dir() else [local]
        base = "dbfs:/" + str(self._local_rel(local)).strip("/.")
        result = []
        for entry in entries:
            stat = entry.stat()
            name = entry.name + ("/" if entry.is_dir() else "")
            full = (base.rstrip("/") + "/" + name) if local.is_dir() else base
            result.append(
                FileInfo(full, name, 0 if entry.is_dir() else stat.st_size, int(stat.st_mtime * 1000))
            )
        return result

    def _local_rel(self, local: Path) -> Path:
        root = Path(os.environ.get("DATABRICKS_DBFS_FUSE_ROOT", "/dbfs"))
        try:
            return local.relative_to(root)
        except ValueError:
            return local

    def put(self, file: str, contents: str, overwrite: bool = False) -> bool:
        local = self._local(file)
        if local.exists() and not overwrite:
            raise FileExistsError(f"File {file} already exists and overwrite is false.")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(contents)
        return True

    def head(self, file: str, maxBytes: int = 65536) -> str:
        local = self._local(file)
        if not local.is_file():
            raise self._missing(file)
        with open(local, "rb") as handle:
            return handle.read(maxBytes).decode("utf-8", errors="replace")

    def mkdirs(self, dir: str) -> bool:
        self._local(dir).mkdir(parents=True, exist_ok=True)
        return True

    def rm(self, dir: str, recurse: bool = False) -> bool:
        local = self._local(dir)
        if not local.exists():
            return False
        if local.is_dir():
            if recurse:
                shutil.rmtree(local)
            else:
                local.rmdir()
        else:
            local.unlink()
        return True

    def cp(self, from_: str, to: str, recurse: bool = False) -> bool:
        source, target = self._local(from_), self._local(to)
        if not source.exists():
            raise self._missing(from_)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            if not recurse:
                raise IsADirectoryError(f"{from_} is a directory; pass recurse=True")
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
        return True

    def mv(self, from_: str, to: str, recurse: bool = False) -> bool:
        source, target = self._local(from_), self._local(to)
        if not source.exists():
            raise self._missing(from_)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))
        return True


class DBUtils:
    def __init__(self, widgets: dict[str, str] | None = None) -> None:
        self.widgets = Widgets(widgets or {})
        self.notebook = Notebook()
        self.secrets = Secrets()
        self.fs = Fs()

    def help(self) -> None:
        print("Emulated dbutils: widgets, notebook.exit, secrets, fs (ls, put, head, mkdirs, rm, cp, mv).")
