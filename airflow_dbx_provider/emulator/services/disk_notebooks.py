"""Read-only notebooks on disk: with `config.workspace_dir` set, `<workspace_dir>/a/b.py` is the
notebook `/a/b` and its folders are directories (hidden names and `__pycache__` skipped). Each
document carries `_disk`, the local file, so the workspace service reads it and never writes it."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any


class DiskNotebooks:
    def __init__(self, root: Path | None) -> None:
        self.root = Path(root) if root else None

    def lookup(self, path: str) -> dict[str, Any] | None:
        root = self.root
        if root is None:
            return None
        relative = path.lstrip("/")
        folder = root / relative if relative else root
        if relative and folder.is_dir() and not _hidden(folder.name):
            return self._doc(path, folder, "DIRECTORY")
        notebook = root / f"{relative}.py"
        if relative and notebook.is_file() and not _hidden(notebook.name):
            return self._doc(path, notebook, "NOTEBOOK")
        return None

    def children(self, folder: str) -> list[dict[str, Any]]:
        root = self.root
        if root is None:
            return []
        base = root / folder.lstrip("/") if folder != "/" else root
        if not base.is_dir():
            return []
        prefix = folder.rstrip("/")
        children = []
        for entry in sorted(base.iterdir()):
            if _hidden(entry.name):
                continue
            if entry.is_dir():
                children.append(self._doc(f"{prefix}/{entry.name}", entry, "DIRECTORY"))
            elif entry.suffix == ".py":
                children.append(self._doc(f"{prefix}/{entry.stem}", entry, "NOTEBOOK"))
        return children

    @staticmethod
    def _doc(path: str, local: Path, object_type: str) -> dict[str, Any]:
        stat = local.stat()
        object_id = 900_000_000_000_000 + zlib.crc32(path.encode())
        doc: dict[str, Any] = {
            "path": path,
            "object_type": object_type,
            "object_id": object_id,
            "resource_id": str(object_id),
            "created_at": int(stat.st_ctime * 1000),
            "modified_at": int(stat.st_mtime * 1000),
            "_disk": str(local),
        }
        if object_type == "NOTEBOOK":
            doc["language"] = "PYTHON"
        return doc


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__"
