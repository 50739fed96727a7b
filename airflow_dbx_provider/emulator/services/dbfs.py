"""DBFS: real files under `<data_dir>/dbfs/`, streaming handles staged under `<data_dir>/dbfs-staging/`.

Open handles are persisted in the store (with their staged bytes on disk), so a restart in
the middle of `w.dbfs.upload()` loses nothing. Statuses: 404 for RESOURCE_DOES_NOT_EXIST and
400 for every other error; the historic statuses are unverified, and the SDK maps by
error_code anyway.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import (
    EmulatorError,
    already_exists,
    invalid_parameter,
    resource_does_not_exist,
)

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.store import Store

MB = 1024 * 1024
MAX_BLOCK_BYTES = MB
MAX_READ_BYTES = MB
DEFAULT_READ_BYTES = MB // 2
HANDLE_IDLE_MS = 10 * 60 * 1000


def _missing(path: str) -> EmulatorError:
    return resource_does_not_exist(f"No file or directory exists on path {path}.")


def _exists(path: str) -> EmulatorError:
    return already_exists(f"A file or directory already exists at the input path dbfs:{path}.")


def block_too_large(size: int) -> EmulatorError:
    return EmulatorError(
        "MAX_BLOCK_SIZE_EXCEEDED",
        f"The block of {size} bytes exceeds the maximum of {MAX_BLOCK_BYTES} bytes.",
        400,
    )


MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255
MAX_PATH_DEPTH = 100


def normalize(path: str | None) -> str:
    """`dbfs:/a/b/` → `/a/b`; rejects relative paths, `..` escapes, NUL and over-long paths.

    `runtime/dbutils.py` applies the same rules inside a notebook (it cannot import this).
    """
    if not path:
        raise invalid_parameter("Missing required field: path")
    if not isinstance(path, str):
        raise invalid_parameter("Invalid value for field path: expected a string")
    if len(path) > MAX_PATH_BYTES:
        raise invalid_parameter(f"Path is longer than {MAX_PATH_BYTES} characters.")
    if "\x00" in path or any(0xD800 <= ord(c) <= 0xDFFF for c in path):
        raise invalid_parameter("Path contains a character that is not allowed (NUL or a lone surrogate).")
    raw = path[5:] if path.startswith("dbfs:") else path
    if not raw.startswith("/"):
        raise invalid_parameter(f"Path must be absolute: {path}")
    parts = [p for p in PurePosixPath(raw).parts[1:] if p not in ("", ".")]
    if ".." in parts:
        raise invalid_parameter(f"Path must not contain '..': {path}")
    if len(parts) > MAX_PATH_DEPTH or any(len(p.encode()) > MAX_NAME_BYTES for p in parts):
        raise invalid_parameter(
            f"Path is nested deeper than {MAX_PATH_DEPTH} or has a name longer than {MAX_NAME_BYTES} bytes."
        )
    return "/" + "/".join(parts)


def _symlink(normalized: str) -> EmulatorError:
    return invalid_parameter(f"Path {normalized} goes through a symbolic link, which DBFS does not follow.")


MAX_DELETE_ENTRIES = 1_000_000


def remove_tree(top: Path, keep_top: bool = False) -> None:
    """Delete a directory tree without recursion (a notebook can nest folders thousands deep)
    and without following symbolic links; at most MAX_DELETE_ENTRIES entries per call."""
    pending, folders, seen = [top], [], 0
    while pending:
        folder = pending.pop()
        folders.append(folder)
        with os.scandir(folder) as entries:
            for entry in entries:
                seen += 1
                if seen > MAX_DELETE_ENTRIES:
                    raise EmulatorError(
                        "MAX_LIST_SIZE_EXCEEDED",
                        f"More than {MAX_DELETE_ENTRIES} entries; delete in parts.",
                        400,
                    )
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                else:
                    os.unlink(entry.path)
    for folder in reversed(folders):  # deepest first
        if folder != top or not keep_top:
            os.rmdir(folder)


class DbfsService:
    def __init__(self, store: Store, clock: Clock, data_dir: Path) -> None:
        self._store = store
        self._clock = clock
        self.root = data_dir / "dbfs"
        self.staging = data_dir / "dbfs-staging"
        self._handles = store.collection("dbfs_handles")
        self._ensure_dirs()

    def _ensure_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.staging.mkdir(parents=True, exist_ok=True)

    # ---- contract used by runs -------------------------------------------------------------
    def local_path(self, dbfs_path: str) -> Path:
        """Where a DBFS path lives on disk (the file need not exist); never through a symlink.

        A notebook can leave a symlink under the root; following it would let any user read,
        write or delete outside the DBFS root over REST, so a path through one is refused.
        """
        normalized = normalize(dbfs_path)
        current = self.root
        for part in normalized.split("/")[1:]:
            current = current / part
            if current.is_symlink():
                raise _symlink(normalized)
        return current

    # ---- files -------------------------------------------------------------------------------
    def put(self, path: str, contents: bytes, overwrite: bool) -> None:
        normalized = normalize(path)
        target = self._writable_target(normalized, overwrite)
        self._write(target, contents)

    def create(self, path: str, overwrite: bool) -> int:
        normalized = normalize(path)
        self._writable_target(normalized, overwrite)
        handle = self._store.next_id("dbfs_handle", start=1_000_000)
        (self.staging / str(handle)).write_bytes(b"")
        self._handles.put(
            handle,
            {"path": normalized, "overwrite": overwrite, "last_used": self._clock.now_ms()},
        )
        return handle

    def add_block(self, handle: int, data: bytes) -> None:
        info = self._handle(handle)
        if len(data) > MAX_BLOCK_BYTES:
            raise block_too_large(len(data))
        with (self.staging / str(handle)).open("ab") as staged:
            staged.write(data)
        info["last_used"] = self._clock.now_ms()
        self._handles.put(handle, info)

    def close_handle(self, handle: int) -> None:
        info = self._handle(handle)
        staged = self.staging / str(handle)
        self._handles.delete(handle)
        try:
            target = self._writable_target(info["path"], info["overwrite"])
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            self._touch(target)
        finally:
            staged.unlink(missing_ok=True)

    def read(self, path: str, offset: int, length: int) -> bytes:
        normalized = normalize(path)
        if offset < 0 or length < 0:
            raise invalid_parameter("offset and length must be non-negative.")
        if length > MAX_READ_BYTES:
            raise EmulatorError(
                "MAX_READ_SIZE_EXCEEDED",
                f"Cannot read more than {MAX_READ_BYTES} bytes at a time (asked {length}).",
                400,
            )
        target = self._existing(normalized)
        if target.is_dir():
            raise invalid_parameter(f"Cannot read a directory: {normalized}.")
        with target.open("rb") as source:
            source.seek(offset)
            return source.read(length)

    def get_status(self, path: str) -> dict[str, Any]:
        normalized = normalize(path)
        return self._status(normalized, self._existing(normalized))

    def list_dir(self, path: str) -> list[dict[str, Any]]:
        normalized = normalize(path)
        target = self._existing(normalized)
        if not target.is_dir():
            return [self._status(normalized, target)]
        prefix = normalized.rstrip("/")
        return [
            self._status(f"{prefix}/{child.name}", child)
            for child in sorted(target.iterdir())
            if not child.is_symlink()  # never followed, so never shown
        ]

    def mkdirs(self, path: str) -> None:
        normalized = normalize(path)
        self.local_path(normalized)  # refuses a path through a symlink
        current = self.root
        for part in normalized.split("/")[1:]:
            current = current / part
            if current.exists() and not current.is_dir():
                raise _exists(self._dbfs_of(current))
        current.mkdir(parents=True, exist_ok=True)

    def delete(self, path: str, recursive: bool) -> None:
        """Deleting a missing path is a no-op, as `dbutils.fs.rm` suggests (unverified)."""
        normalized = normalize(path)
        target = self.local_path(normalized)
        if not target.exists():
            return
        if target.is_dir():
            if any(target.iterdir()) and not recursive:
                raise EmulatorError(
                    "IO_ERROR", f"Cannot delete non-empty directory {normalized} without recursive=true.", 400
                )
            try:
                remove_tree(target, keep_top=target == self.root)
            except OSError as exc:  # e.g. a tree deeper than PATH_MAX that a notebook left
                raise EmulatorError("IO_ERROR", f"Cannot delete {normalized}: {exc.strerror}.", 400) from None
        else:
            target.unlink()

    def move(self, source_path: str, destination_path: str) -> None:
        source_norm, dest_norm = normalize(source_path), normalize(destination_path)
        source = self._existing(source_norm)
        destination = self.local_path(dest_norm)
        if destination.exists():
            raise _exists(dest_norm)
        if source == self.root or destination.is_relative_to(source):
            raise invalid_parameter(f"Cannot move {source_norm} into itself.")
        self._ensure_parent(dest_norm)
        os.replace(source, destination)

    # ---- lifecycle ---------------------------------------------------------------------------
    def tick(self) -> None:
        """Drop handles idle for more than 10 minutes, as Databricks does."""
        now = self._clock.now_ms()
        for key in self._handles:
            info = self._handles.get(key)
            if info is not None and now - info["last_used"] > HANDLE_IDLE_MS:
                self._handles.delete(key)
                (self.staging / key).unlink(missing_ok=True)

    def after_reset(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.staging, ignore_errors=True)
        self._ensure_dirs()

    # ---- internals ---------------------------------------------------------------------------
    def _handle(self, handle: int) -> dict[str, Any]:
        info = self._handles.get(handle)
        if info is None:
            raise resource_does_not_exist(f"Handle {handle} does not exist or has timed out.")
        return info

    def _existing(self, normalized: str) -> Path:
        target = self.local_path(normalized)
        if not target.exists():
            raise _missing(normalized)
        return target

    def _writable_target(self, normalized: str, overwrite: bool) -> Path:
        target = self.local_path(normalized)
        if normalized == "/" or target.is_dir() or (target.exists() and not overwrite):
            raise _exists(normalized)
        self._ensure_parent(normalized)
        return target

    def _ensure_parent(self, normalized: str) -> None:
        parent = str(PurePosixPath(normalized).parent)
        self.mkdirs(parent)

    def _write(self, target: Path, contents: bytes) -> None:
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        tmp.write_bytes(contents)
        os.replace(tmp, target)
        self._touch(target)

    def _touch(self, target: Path) -> None:
        seconds = self._clock.now_ms() / 1000
        os.utime(target, (seconds, seconds))

    def _dbfs_of(self, local: Path) -> str:
        return "/" + local.relative_to(self.root).as_posix()

    @staticmethod
    def _status(normalized: str, target: Path) -> dict[str, Any]:
        stat = target.stat()
        is_dir = target.is_dir()
        return {
            "path": normalized,
            "is_dir": is_dir,
            "file_size": 0 if is_dir else stat.st_size,
            "modification_time": int(stat.st_mtime * 1000),
        }
