"""Workspace objects (notebooks, files, folders) in the store, plus read-only notebooks on disk.

Notebook source and Jupyter formats: services/notebook_formats.py.

With `config.workspace_dir` set, `<workspace_dir>/a/b.py` appears as the notebook `/a/b`
and its folders as directories; stored objects take precedence over disk ones.
"""

from __future__ import annotations

import base64
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import (
    EmulatorError,
    already_exists,
    invalid_parameter,
    permission_denied,
    resource_does_not_exist,
)
from airflow_dbx_provider.emulator.services.disk_notebooks import DiskNotebooks
from airflow_dbx_provider.emulator.services.notebook_formats import (
    EXTENSIONS,
    FILE_TYPES,
    LANGUAGES,
    header,
    jupyter_to_source,
    source_to_jupyter,
)
from airflow_dbx_provider.emulator.services.object_acls import Grant, ObjectAcls

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.store import Store

MAX_IMPORT_BYTES = 10 * 1024 * 1024
DEFAULT_FOLDERS = ("/Users", "/Shared", "/Repos")
# Workspace paths: Databricks refuses longer ones; a bound also keeps every walk up a path short.
MAX_PATH_LENGTH = 4096
MAX_PATH_DEPTH = 100
MAX_DELETE_OBJECTS = 100_000  # one recursive delete touches at most this many objects


def normalize(path: str | None) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise invalid_parameter(f"Path ({path if isinstance(path, str) else ''}) is not absolute.")
    if len(path) > MAX_PATH_LENGTH:
        raise invalid_parameter(f"Path is longer than {MAX_PATH_LENGTH} characters.")
    if "\x00" in path or any(0xD800 <= ord(c) <= 0xDFFF for c in path):
        raise invalid_parameter("Path contains a character that is not allowed (NUL or a lone surrogate).")
    parts = [p for p in PurePosixPath(path).parts[1:] if p not in ("", ".")]
    if ".." in parts:
        raise invalid_parameter(f"Path ({path}) must not contain '..'.")
    if len(parts) > MAX_PATH_DEPTH:
        raise invalid_parameter(f"Path is nested deeper than {MAX_PATH_DEPTH} folders.")
    return "/" + "/".join(parts)


def _missing(path: str) -> EmulatorError:
    return resource_does_not_exist(f"Path ({path}) doesn't exist.")


class WorkspaceObjectsService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        home_owners: Sequence[str],
        workspace_dir: Path | None,
        acls: ObjectAcls,
    ) -> None:
        """`home_owners`: principal names that get `/Users/<name>`; `workspace_dir`: disk notebooks."""
        self._acls = acls
        self._store = store
        self._clock = clock
        self._home_owners = tuple(home_owners)
        self._disk = DiskNotebooks(workspace_dir)
        self._objects = store.collection("workspace_objects")
        self.after_reset()

    def after_reset(self) -> None:
        """Every workspace has `/`, `/Users`, `/Shared`, `/Repos` and a home folder per principal."""
        for folder in ("/", *DEFAULT_FOLDERS):
            if folder not in self._objects:
                self._put_object(folder, "DIRECTORY", None, None)
        for name in self._home_owners:  # a user's home folder belongs to them
            if f"/Users/{name}" not in self._objects:
                self._put_object(f"/Users/{name}", "DIRECTORY", None, None, owner=name)

    # ---- contract used by runs -------------------------------------------------------------
    def read_notebook(self, path: str) -> str:
        """The source of a NOTEBOOK, from the store or from `workspace_dir`."""
        obj = self._find(normalize(path))
        if obj["object_type"] != "NOTEBOOK":
            raise invalid_parameter(f"Path ({path}) is not a notebook.")
        return self._content(obj).decode("utf-8")

    # ---- API operations ----------------------------------------------------------------------
    def get_status(self, principal: Principal, path: str) -> dict[str, Any]:
        obj = self._find(normalize(path))
        self._require(principal, obj, "CAN_READ")
        return self._public(obj)

    def list_objects(
        self, principal: Principal, path: str, modified_after: int | None = None
    ) -> list[dict[str, Any]]:
        obj = self._find(normalize(path))
        self._require(principal, obj, "CAN_READ")
        if obj["object_type"] != "DIRECTORY":
            return [self._public(obj)]
        children = [c for c in self._children(obj["path"]) if self._may(principal, c, "CAN_READ")]
        if modified_after is not None:
            children = [
                c for c in children if c["object_type"] != "NOTEBOOK" or c["modified_at"] > modified_after
            ]
        return [self._public(c) for c in children]

    def mkdirs(self, principal: Principal, path: str) -> None:
        normalized = normalize(path)
        current = ""
        parent: dict[str, Any] = self._find("/")
        for part in normalized.split("/")[1:]:
            current = f"{current}/{part}"
            existing = self._lookup(current)
            if existing is None:
                self._require(principal, parent, "CAN_MANAGE")
                self._put_object(current, "DIRECTORY", None, None, owner=principal.name)
                existing = self._find(current)
            elif existing["object_type"] != "DIRECTORY":
                raise already_exists(f"{current} already exists and it is not a folder")
            parent = existing

    def delete(self, principal: Principal, path: str, recursive: bool) -> None:
        normalized = normalize(path)
        obj = self._find(normalized)
        self._require(principal, obj, "CAN_MANAGE")
        descendants = self._descendants(normalized)
        if obj.get("_disk") or any(c.get("_disk") for c in descendants):
            raise permission_denied(
                f"Path ({normalized}) comes from the emulator's workspace_dir and is read-only."
            )
        if normalized == "/" or normalized in DEFAULT_FOLDERS:
            raise invalid_parameter(f"Path ({normalized}) cannot be deleted.")
        if descendants and not recursive:
            raise EmulatorError("DIRECTORY_NOT_EMPTY", f"Folder ({normalized}) is not empty.", 400)
        if normalized.count("/") == 2 and normalized.startswith("/Users/"):
            if normalized[len("/Users/") :] in self._home_owners:
                raise permission_denied(f"Path ({normalized}) is a user's home folder and cannot be deleted.")
        for child in descendants:  # a user may delete a folder only with CAN_MANAGE on all it holds
            self._require(principal, child, "CAN_MANAGE")
        for child in descendants:
            self._objects.delete(child["path"])
            self._acls.forget(_acl_type(child), child["object_id"])
        self._objects.delete(normalized)
        self._acls.forget(_acl_type(obj), obj["object_id"])

    def import_object(
        self,
        principal: Principal,
        path: str,
        content: bytes,
        fmt: str,
        language: str | None,
        overwrite: bool,
    ) -> None:
        """SOURCE/AUTO/RAW/JUPYTER imports; the parent folder must exist (Databricks does not create it)."""
        normalized = normalize(path)
        fmt = (fmt or "SOURCE").upper()
        language = language.upper() if language else None
        if len(content) > MAX_IMPORT_BYTES:
            raise EmulatorError(
                "MAX_NOTEBOOK_SIZE_EXCEEDED",
                f"The content exceeds the maximum size of {MAX_IMPORT_BYTES} bytes.",
                400,
            )
        if language is not None and language not in LANGUAGES:
            raise invalid_parameter(f"Invalid language {language}: must be one of {', '.join(LANGUAGES)}.")
        object_type = "NOTEBOOK"
        if fmt == "SOURCE":
            if language is None:
                raise invalid_parameter("The language field is required when importing with format SOURCE.")
        elif fmt == "AUTO":
            suffix = PurePosixPath(normalized).suffix.lower()
            detected = EXTENSIONS.get(suffix)
            if detected and content.lstrip().startswith(header(detected).encode()):
                language, normalized = detected, normalized[: -len(suffix)]
            else:
                object_type, language = "FILE", None
        elif fmt == "RAW":
            object_type, language = "FILE", None
        elif fmt == "JUPYTER":
            content, language = jupyter_to_source(content), "PYTHON"
            if normalized.endswith(".ipynb"):
                normalized = normalized[: -len(".ipynb")]
        else:
            raise invalid_parameter(f"Import format {fmt} is not supported by the emulator.")
        parent = str(PurePosixPath(normalized).parent)
        parent_obj = self._lookup(parent)
        if parent_obj is None or parent_obj["object_type"] != "DIRECTORY":
            raise resource_does_not_exist(f"The parent folder ({parent}) does not exist.")
        existing = self._lookup(normalized)
        if existing is None:
            self._require(principal, parent_obj, "CAN_MANAGE")  # create: manage the folder
        else:
            self._require(principal, existing, "CAN_EDIT")  # overwrite: edit the object
            if not overwrite or existing["object_type"] == "DIRECTORY":
                raise already_exists(f"Path ({normalized}) already exists.")
            if existing.get("_disk"):
                raise permission_denied(
                    f"Path ({normalized}) comes from the emulator's workspace_dir and is read-only."
                )
        self._put_object(normalized, object_type, language, content, previous=existing, owner=principal.name)

    def export(self, principal: Principal, path: str, fmt: str) -> tuple[bytes, str]:
        """(content, file_type) of a notebook or file; folders need DBC, which is not emulated."""
        obj = self._find(normalize(path))
        self._require(principal, obj, "CAN_READ")
        fmt = (fmt or "SOURCE").upper()
        if obj["object_type"] == "DIRECTORY":
            raise invalid_parameter(f"Exporting folders ({obj['path']}) is not supported by the emulator.")
        content = self._content(obj)
        if obj["object_type"] == "FILE":
            return content, PurePosixPath(obj["path"]).suffix.lstrip(".")
        language = obj.get("language") or "PYTHON"
        if fmt in ("SOURCE", "AUTO"):
            first = header(language).encode()
            if not content.lstrip().startswith(first):
                content = first + b"\n" + content
            return content, FILE_TYPES[language]
        if fmt == "JUPYTER":
            return source_to_jupyter(content.decode("utf-8"), language), "ipynb"
        raise invalid_parameter(f"Export format {fmt} is not supported by the emulator.")

    # ---- internals ---------------------------------------------------------------------------
    def _put_object(
        self,
        path: str,
        object_type: str,
        language: str | None,
        content: bytes | None,
        previous: dict[str, Any] | None = None,
        owner: str | None = None,
    ) -> None:
        now = self._clock.now_ms()
        object_id = (
            previous["object_id"]
            if previous
            else self._store.next_id("workspace_object", start=100_000_000_000_000)
        )
        doc: dict[str, Any] = {
            "path": path,
            "object_type": object_type,
            "object_id": object_id,
            "resource_id": str(object_id),
            "created_at": previous["created_at"] if previous else now,
            "modified_at": now,
        }
        if language:
            doc["language"] = language
        if previous and previous.get("_owner"):
            doc["_owner"] = previous["_owner"]  # overwriting does not change who created it
        elif owner:
            doc["_owner"] = owner
        if content is not None:
            if object_type == "FILE":
                doc["size"] = len(content)
            doc["_content"] = base64.b64encode(content).decode()
        self._objects.put(path, doc)

    def _lookup(self, path: str) -> dict[str, Any] | None:
        return self._objects.get(path) or self._disk.lookup(path)

    def _find(self, path: str) -> dict[str, Any]:
        obj = self._lookup(path)
        if obj is None:
            raise _missing(path)
        return obj

    def _children(self, folder: str) -> list[dict[str, Any]]:
        found = {
            o["path"]: o for o in self._objects.values() if o["path"] != "/" and _parent(o["path"]) == folder
        }
        for disk_child in self._disk.children(folder):
            found.setdefault(disk_child["path"], disk_child)
        return sorted(found.values(), key=lambda o: o["path"])

    def _descendants(self, folder: str) -> list[dict[str, Any]]:
        """Everything below a folder, found in one pass over the stored objects (no recursion)."""
        prefix = folder.rstrip("/") + "/"
        stored = {o["path"]: o for o in self._objects.values() if o["path"].startswith(prefix)}
        if len(stored) > MAX_DELETE_OBJECTS:
            raise EmulatorError(
                "MAX_LIST_SIZE_EXCEEDED",
                f"Folder ({folder}) holds more than {MAX_DELETE_OBJECTS} objects; delete it in parts.",
                400,
            )
        pending = [folder]
        while pending and self._disk.root is not None:  # read-only disk objects, iteratively
            for child in self._disk.children(pending.pop()):
                stored.setdefault(child["path"], child)
                if child["object_type"] == "DIRECTORY":
                    pending.append(child["path"])
        return sorted(stored.values(), key=lambda o: o["path"])

    # ---- permissions -------------------------------------------------------------------------
    def _grants(self, obj: dict[str, Any]) -> list[Grant]:
        """Every grant on an object: its own ACL, its creator, defaults, and the folders above it."""
        grants: list[Grant] = []
        path = obj["path"]
        if path in ("/", "/Users", "/Repos"):
            grants.append(Grant("group_name", "users", "CAN_READ"))
        if obj.get("_disk"):
            grants.append(Grant("group_name", "users", "CAN_RUN"))
        current: dict[str, Any] | None = obj
        inherited_from: str | None = None
        while current is not None:
            if current["path"] == "/Shared":
                grants.append(Grant("group_name", "users", "CAN_MANAGE", inherited_from))
            if current.get("_owner"):
                grants.append(Grant("user_name", current["_owner"], "CAN_MANAGE", inherited_from))
            for grant in self._acls.direct(_acl_type(current), current["object_id"]):
                grants.append(Grant(grant.kind, grant.name, grant.level, inherited_from))
            if current["path"] == "/":
                break
            parent = _parent(current["path"])
            current = self._lookup(parent)
            if current is not None:
                inherited_from = f"/directories/{current['object_id']}"
        return grants

    def _may(self, principal: Principal, obj: dict[str, Any], level: str) -> bool:
        ranks = {"CAN_READ": 1, "CAN_RUN": 2, "CAN_EDIT": 3, "CAN_MANAGE": 4}
        return ObjectAcls.level(principal, _acl_type(obj), self._grants(obj)) >= ranks[level]

    def _require(self, principal: Principal, obj: dict[str, Any], level: str) -> None:
        kind = "directory" if obj["object_type"] == "DIRECTORY" else "notebook"
        ObjectAcls.require(principal, _acl_type(obj), self._grants(obj), level, f"{kind} {obj['path']}")

    def _by_id(self, object_type: str, object_id: str) -> dict[str, Any]:
        wanted = "DIRECTORY" if object_type == "directories" else None
        for obj in self._objects.values():
            if str(obj["object_id"]) == object_id and (
                obj["object_type"] == wanted if wanted else obj["object_type"] != "DIRECTORY"
            ):
                return obj
        raise resource_does_not_exist(f"{object_type[:-1].capitalize()} {object_id} does not exist.")

    def get_permissions(self, principal: Principal, object_type: str, object_id: str) -> dict[str, Any]:
        obj = self._by_id(object_type, object_id)
        self._require(principal, obj, "CAN_READ")
        return ObjectAcls.render(object_type, obj["object_id"], self._grants(obj))

    def set_permissions(
        self, principal: Principal, object_type: str, object_id: str, acl: Any, *, replace: bool
    ) -> dict[str, Any]:
        obj = self._by_id(object_type, object_id)
        self._require(principal, obj, "CAN_MANAGE")
        self._acls.update(object_type, obj["object_id"], acl, replace=replace)
        return ObjectAcls.render(object_type, obj["object_id"], self._grants(obj))

    def permission_levels(
        self, principal: Principal, object_type: str, object_id: str
    ) -> list[dict[str, str]]:
        obj = self._by_id(object_type, object_id)
        self._require(principal, obj, "CAN_READ")
        return ObjectAcls.levels(object_type)

    def _content(self, obj: dict[str, Any]) -> bytes:
        if obj.get("_disk"):
            return Path(obj["_disk"]).read_bytes()
        return base64.b64decode(obj.get("_content", ""))

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}


def _acl_type(obj: dict[str, Any]) -> str:
    return "directories" if obj["object_type"] == "DIRECTORY" else "notebooks"


def _parent(path: str) -> str:
    return str(PurePosixPath(path).parent)
