"""DESCRIBE DETAIL <table> | '<path>' | delta.`<path>`: one row about a Delta table, as Databricks.

Databricks' columns in its order (the official partition sensor reads `partitionColumns` as the
8th): format, id, name, description, location, createdAt, lastModified, partitionColumns,
clusteringColumns, numFiles, sizeInBytes, properties, minReaderVersion, minWriterVersion,
tableFeatures, statistics. Read from the Delta log; a schemaless placeholder table (no log yet)
answers with no files.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from deltalake import DeltaTable
from sqlglot.tokens import Token, TokenType

from airflow_dbx_provider.emulator.services.sql_catalog import SqlError

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_dbx_provider.emulator.services.sql_catalog import SqlCatalog
    from airflow_dbx_provider.emulator.services.sql_context import StatementContext

TIMESTAMP = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema(
    [
        ("format", pa.string()),
        ("id", pa.string()),
        ("name", pa.string()),
        ("description", pa.string()),
        ("location", pa.string()),
        ("createdAt", TIMESTAMP),
        ("lastModified", TIMESTAMP),
        ("partitionColumns", pa.list_(pa.string())),
        ("clusteringColumns", pa.list_(pa.string())),
        ("numFiles", pa.int64()),
        ("sizeInBytes", pa.int64()),
        ("properties", pa.map_(pa.string(), pa.string())),
        ("minReaderVersion", pa.int32()),
        ("minWriterVersion", pa.int32()),
        ("tableFeatures", pa.list_(pa.string())),
        ("statistics", pa.map_(pa.string(), pa.int64())),
    ]
)
# The features a (reader, writer) protocol version implies, before table features (writer 7).
_LEGACY_FEATURES = {2: ["appendOnly", "invariants"], 3: ["appendOnly", "invariants", "checkConstraints"]}


def is_describe_detail(toks: list[Token]) -> bool:
    return (
        len(toks) >= 2
        and toks[0].token_type in (TokenType.DESCRIBE, TokenType.DESC)
        and toks[1].token_type == TokenType.VAR
        and toks[1].text.upper() == "DETAIL"
    )


def _syntax_error(near: Token | None) -> SqlError:
    where = f"'{near.text}'" if near is not None else "end of input"
    return SqlError("PARSE_SYNTAX_ERROR", f"Syntax error at or near {where}.", "42601")


def _target(toks: list[Token]) -> tuple[str | None, list[str]]:
    """(a path given as a string, or the table name's parts)."""
    rest = toks[2:-1] if toks[-1].token_type == TokenType.SEMICOLON else toks[2:]
    if not rest:
        raise _syntax_error(None)
    if rest[0].token_type == TokenType.STRING:
        if len(rest) > 1:
            raise _syntax_error(rest[1])
        return rest[0].text, []
    parts: list[str] = []
    for i, tok in enumerate(rest):
        expect_dot = i % 2 == 1
        if expect_dot != (tok.token_type == TokenType.DOT) or tok.token_type == TokenType.STRING:
            raise _syntax_error(tok)
        if not expect_dot:
            parts.append(tok.text)
    if len(rest) % 2 == 0:
        raise _syntax_error(None)
    return None, parts


def describe_detail(catalog: SqlCatalog, toks: list[Token], ctx: StatementContext) -> pa.Table:
    path_text, parts = _target(toks)
    if (
        path_text is None
        and len(parts) == 2
        and parts[0].lower() == "delta"
        and parts[1].startswith(("dbfs:/", "/"))
    ):
        path_text = parts[1]
    doc: dict[str, Any] | None = None
    if path_text is not None:
        name, location = None, path_text
    else:
        name = catalog.full_name(parts, ctx.catalog, ctx.schema)
        doc = catalog.lookup(name)
        location = str(doc["storage_location"])
    local = catalog.local_path(location)
    if (local / "_delta_log").is_dir():
        row = _from_log(local)
    elif doc is not None:  # a placeholder table: no columns, no log yet
        created = datetime.fromtimestamp(int(doc.get("created_at", 0)) / 1000, tz=UTC)
        row = _placeholder(str(name), created)
    else:
        raise SqlError("DELTA_MISSING_DELTA_TABLE", f"`{location}` is not a Delta table.", "42P01")
    row.update(name=name, location=location)
    return pa.Table.from_pylist([row], schema=SCHEMA)


def _from_log(local: Path) -> dict[str, Any]:
    table = DeltaTable(str(local))
    metadata, protocol = table.metadata(), table.protocol()
    adds = pa.table(table.get_add_actions(flatten=True))
    last = table.history(1)
    modified_ms = int(last[0].get("timestamp", metadata.created_time)) if last else metadata.created_time
    features = list(_LEGACY_FEATURES.get(protocol.min_writer_version, []))
    features += [
        f for f in (protocol.reader_features or []) + (protocol.writer_features or []) if f not in features
    ]
    return {
        "format": "delta",
        "id": metadata.id,
        "description": metadata.description,
        "createdAt": datetime.fromtimestamp(metadata.created_time / 1000, tz=UTC),
        "lastModified": datetime.fromtimestamp(modified_ms / 1000, tz=UTC),
        "partitionColumns": list(metadata.partition_columns),
        "clusteringColumns": [],
        "numFiles": adds.num_rows,
        "sizeInBytes": sum(adds.column("size_bytes").to_pylist()) if adds.num_rows else 0,
        "properties": dict(metadata.configuration),
        "minReaderVersion": protocol.min_reader_version,
        "minWriterVersion": protocol.min_writer_version,
        "tableFeatures": features,
        "statistics": {"numRowsDeletedByDeletionVectors": 0, "numDeletionVectors": 0},
    }


def _placeholder(name: str, created: datetime) -> dict[str, Any]:
    return {
        "format": "delta",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "description": None,
        "createdAt": created,
        "lastModified": created,
        "partitionColumns": [],
        "clusteringColumns": [],
        "numFiles": 0,
        "sizeInBytes": 0,
        "properties": {},
        "minReaderVersion": 1,
        "minWriterVersion": 2,
        "tableFeatures": list(_LEGACY_FEATURES[2]),
        "statistics": {"numRowsDeletedByDeletionVectors": 0, "numDeletionVectors": 0},
    }
