"""The SQL catalog: `catalog.schema.table` names over Delta tables in the emulator's DBFS.

The catalog only maps a name to a Delta location (managed tables live under
`dbfs:/user/hive/warehouse/<catalog>/<schema>/<table>`); the Delta log at that location is the
truth about schema and rows, read through `deltalake`, so a table a notebook writes is queryable
at once. `SqlError` is a statement failure: the statement ends FAILED with this error in its
status (HTTP 200), unlike `EmulatorError`, which is an HTTP error.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.store import Store

DEFAULT_CATALOG = "main"
DEFAULT_SCHEMA = "default"
WAREHOUSE_ROOT = "dbfs:/user/hive/warehouse"


class SqlError(Exception):
    """A failed statement: `error_code` (the ServiceError code), a message and its SQLSTATE."""

    def __init__(self, error_class: str, message: str, sql_state: str, error_code: str = "BAD_REQUEST"):
        text = f"[{error_class}] {message} SQLSTATE: {sql_state}"
        super().__init__(text)
        self.error_class = error_class
        self.message = text
        self.sql_state = sql_state
        self.error_code = error_code


def table_not_found(name: str) -> SqlError:
    quoted = ".".join(f"`{part}`" for part in name.split("."))
    return SqlError(
        "TABLE_OR_VIEW_NOT_FOUND",
        f"The table or view {quoted} cannot be found. Verify the spelling and correctness of the "
        "schema and catalog.",
        "42P01",
    )


def not_supported(what: str) -> SqlError:
    return SqlError(
        "UNSUPPORTED_FEATURE",
        f"The emulator's SQL warehouse does not support {what}.",
        "0A000",
    )


class SqlCatalog:
    """Table names → Delta locations, persisted in the store; reads and writes go to the files."""

    def __init__(self, store: Store, clock: Clock, dbfs_path: Callable[[str], Path]) -> None:
        self._store = store
        self._clock = clock
        self._dbfs_path = dbfs_path
        self._tables = store.collection("sql_tables")
        self._schemas = store.collection("sql_schemas")
        self.write_lock = threading.RLock()  # one writer at a time: Delta commits, catalog docs

    # ---- names -----------------------------------------------------------------------------------
    @staticmethod
    def full_name(parts: list[str], catalog: str | None, schema: str | None) -> str:
        """`t`, `s.t` or `c.s.t` completed with the statement's default catalog and schema."""
        parts = [p.lower() for p in parts if p]
        if len(parts) == 1:
            parts = [schema or DEFAULT_SCHEMA, *parts]
        if len(parts) == 2:
            parts = [catalog or DEFAULT_CATALOG, *parts]
        if len(parts) != 3:
            raise SqlError("INVALID_IDENTIFIER", f"Invalid table name {'.'.join(parts)!r}.", "42602")
        return ".".join(parts)

    def local_path(self, location: str) -> Path:
        if not location.startswith(("dbfs:/", "/")):
            raise not_supported(f"table locations outside DBFS ({location})")
        return self._dbfs_path(location)

    # ---- tables ------------------------------------------------------------------------------------
    def lookup(self, name: str) -> dict[str, Any]:
        doc = self._tables.get(name)
        if doc is None:
            raise table_not_found(name)
        return doc

    def exists(self, name: str) -> bool:
        return name in self._tables

    def managed_location(self, name: str) -> str:
        return f"{WAREHOUSE_ROOT}/{name.replace('.', '/')}"

    def register(self, name: str, location: str, *, managed: bool, owner: str) -> None:
        catalog, schema, table = name.split(".")
        with self._store.lock:
            self._ensure_schema(catalog, schema, owner)
            self._tables.put(
                name,
                {
                    "full_name": name,
                    "catalog_name": catalog,
                    "schema_name": schema,
                    "name": table,
                    "storage_location": location,
                    "table_type": "MANAGED" if managed else "EXTERNAL",
                    "data_source_format": "DELTA",
                    "owner": owner,
                    "created_at": self._clock.now_ms(),
                },
            )

    def drop(self, name: str) -> None:
        doc = self.lookup(name)
        with self._store.lock:
            self._tables.delete(name)
        if doc["table_type"] == "MANAGED":
            shutil.rmtree(self.local_path(doc["storage_location"]), ignore_errors=True)

    def tables_in(self, catalog: str, schema: str) -> list[dict[str, Any]]:
        return sorted(
            (d for d in self._tables.values() if (d["catalog_name"], d["schema_name"]) == (catalog, schema)),
            key=lambda d: str(d["name"]),
        )

    # ---- schemas ---------------------------------------------------------------------------------
    def create_schema(self, catalog: str, schema: str, owner: str, *, if_not_exists: bool) -> None:
        key = f"{catalog}.{schema}".lower()
        if key in self._schemas and not if_not_exists:
            raise SqlError(
                "SCHEMA_ALREADY_EXISTS",
                f"Cannot create schema `{schema}` because it already exists.",
                "42P06",
            )
        with self._store.lock:
            self._ensure_schema(catalog, schema, owner)

    def drop_schema(self, catalog: str, schema: str, *, cascade: bool, if_exists: bool) -> None:
        key = f"{catalog}.{schema}".lower()
        if key not in self._schemas:
            if if_exists:
                return
            raise SqlError("SCHEMA_NOT_FOUND", f"The schema `{catalog}`.`{schema}` cannot be found.", "42704")
        tables = self.tables_in(catalog, schema)
        if tables and not cascade:
            raise SqlError(
                "SCHEMA_NOT_EMPTY", f"Cannot drop a schema `{schema}` because it contains objects.", "2BP01"
            )
        for doc in tables:
            self.drop(doc["full_name"])
        with self._store.lock:
            self._schemas.delete(key)

    def schemas_in(self, catalog: str) -> list[str]:
        return sorted(d["name"] for d in self._schemas.values() if d["catalog_name"] == catalog)

    def _ensure_schema(self, catalog: str, schema: str, owner: str) -> None:
        key = f"{catalog}.{schema}".lower()
        if key not in self._schemas:
            self._schemas.put(key, {"catalog_name": catalog, "name": schema, "owner": owner})
