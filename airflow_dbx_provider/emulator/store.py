"""Persistent state: JSON documents in SQLite, cached in memory, written through on change.

Reads never touch SQLite (runs/get must stay cheap with thousands of active runs); every
`put`/`delete` is committed at once, so a restarted emulator picks up where it stopped.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class Collection:
    def __init__(self, store: Store, name: str) -> None:
        self._store = store
        self.name = name
        self._items: dict[str, dict[str, Any]] = {}

    def get(self, key: str | int) -> dict[str, Any] | None:
        return self._items.get(str(key))

    def put(self, key: str | int, value: dict[str, Any]) -> None:
        """Store (or re-store after mutating) a document."""
        self._items[str(key)] = value
        self._store._write(self.name, str(key), value)

    def delete(self, key: str | int) -> None:
        if self._items.pop(str(key), None) is not None:
            self._store._remove(self.name, str(key))

    def values(self) -> list[dict[str, Any]]:
        return list(self._items.values())

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        return list(self._items.items())

    def __contains__(self, key: object) -> bool:
        return str(key) in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))


class Store:
    """All collections of one emulated workspace. `path=None` keeps everything in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._collections: dict[str, Collection] = {}
        if path is not None:  # private before the first byte is written; SQLite gives -wal/-shm the same mode
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            os.chmod(path, 0o600)
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS documents (collection TEXT, key TEXT, body TEXT, PRIMARY KEY (collection, key))"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER)")
        self._db.commit()
        self._load()

    def _load(self) -> None:
        for name, key, body in self._db.execute("SELECT collection, key, body FROM documents"):
            self.collection(name)._items[key] = json.loads(body)

    def collection(self, name: str) -> Collection:
        with self.lock:
            if name not in self._collections:
                self._collections[name] = Collection(self, name)
            return self._collections[name]

    def next_id(self, counter: str, start: int = 1) -> int:
        """A strictly increasing id that survives restarts."""
        with self.lock:
            row = self._db.execute("SELECT value FROM counters WHERE name = ?", (counter,)).fetchone()
            value = max(start, (row[0] + 1) if row else start)
            self._db.execute("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", (counter, value))
            self._db.commit()
            return value

    def _write(self, name: str, key: str, value: dict[str, Any]) -> None:
        body = json.dumps(value, separators=(",", ":"))
        with self.lock:
            self._db.execute(
                "INSERT OR REPLACE INTO documents (collection, key, body) VALUES (?, ?, ?)", (name, key, body)
            )
            self._db.commit()

    def _remove(self, name: str, key: str) -> None:
        with self.lock:
            self._db.execute("DELETE FROM documents WHERE collection = ? AND key = ?", (name, key))
            self._db.commit()

    def reset(self) -> None:
        """Forget everything (tests call this between cases through /_emulator/reset)."""
        with self.lock:
            self._db.execute("DELETE FROM documents")
            self._db.execute("DELETE FROM counters")
            self._db.commit()
            for collection in self._collections.values():
                collection._items.clear()

    def close(self) -> None:
        with self.lock:
            self._db.close()
