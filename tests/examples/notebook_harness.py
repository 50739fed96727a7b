"""Run a Databricks notebook source file in-process with a minimal local `dbutils`.

Only for checking the example notebooks' logic quickly; the DAG tests run them for real on the
emulator. DBFS is a local folder, exactly like the FUSE mount the notebooks use.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class NotebookExit(Exception):
    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


@dataclass
class FileInfo:
    path: str
    name: str
    size: int


class _Widgets:
    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    def text(self, name: str, default: str, label: str | None = None) -> None:
        self._values.setdefault(name, default)

    def get(self, name: str) -> str:
        return self._values[name]


class _Secrets:
    def __init__(self, secrets: dict[tuple[str, str], str]) -> None:
        self._secrets = secrets

    def get(self, scope: str, key: str) -> str:
        return self._secrets[(scope, key)]


class _Fs:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _local(self, path: str) -> Path:
        return self._root / path.removeprefix("dbfs:").lstrip("/")

    def ls(self, path: str) -> list[FileInfo]:
        local = self._local(path)
        return [
            FileInfo(f"dbfs:/{child.relative_to(self._root)}", child.name, child.stat().st_size)
            for child in sorted(local.iterdir())
        ]

    def mkdirs(self, path: str) -> bool:
        self._local(path).mkdir(parents=True, exist_ok=True)
        return True

    def rm(self, path: str, recurse: bool = False) -> bool:
        local = self._local(path)
        if local.is_dir():
            shutil.rmtree(local)
        elif local.exists():
            local.unlink()
        return True


class _Notebook:
    def exit(self, value: str) -> None:
        raise NotebookExit(value)


class FakeDbutils:
    def __init__(self, fuse_root: Path, widgets: dict[str, str], secrets: dict[tuple[str, str], str]) -> None:
        self.widgets = _Widgets(widgets)
        self.secrets = _Secrets(secrets)
        self.fs = _Fs(fuse_root)
        self.notebook = _Notebook()


def run_notebook(
    path: Path,
    *,
    fuse_root: Path,
    widgets: dict[str, str],
    secrets: dict[tuple[str, str], str] | None = None,
    host: str = "http://127.0.0.1:1",
) -> str | None:
    """Execute the notebook; return what it passed to dbutils.notebook.exit (None if it never did)."""
    dbutils = FakeDbutils(fuse_root, widgets, secrets or {})
    saved = {name: os.environ.get(name) for name in ("DATABRICKS_DBFS_FUSE_ROOT", "DATABRICKS_HOST")}
    os.environ["DATABRICKS_DBFS_FUSE_ROOT"] = str(fuse_root)
    os.environ["DATABRICKS_HOST"] = host
    namespace: dict[str, Any] = {"dbutils": dbutils, "__name__": "__main__"}
    try:
        exec(compile(path.read_text(), str(path), "exec"), namespace)
    except NotebookExit as done:
        return done.value
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return None
