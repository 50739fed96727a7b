"""Source files for COPY INTO: which files a location names, and each file read into Arrow.

Reads follow Spark's defaults as Databricks applies them: CSV without a header names its columns
`_c0`, `_c1`, ... and, without `inferSchema`, reads every column as STRING (inferred integers
that fit become INT); JSON is one object per line with the fields sorted by name (integers
BIGINT); TEXT is one `value` per line; BINARYFILE gives `path`, `modificationTime`, `length`,
`content`. Files and directories whose names start with `_` or `.` are hidden, as in Spark.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from airflow_dbx_provider.emulator.services.sql_catalog import SqlError, not_supported

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import duckdb

# What Databricks accepts as FILEFORMAT, and what the emulator reads (no Avro reader here).
FORMATS = ("CSV", "JSON", "AVRO", "ORC", "PARQUET", "TEXT", "BINARYFILE")
GENERIC_OPTIONS = frozenset(
    {"ignorecorruptfiles", "ignoremissingfiles", "mergeschema", "pathglobfilter", "recursivefilelookup"}
)
FORMAT_OPTIONS: dict[str, frozenset[str]] = {
    "CSV": frozenset(
        {"header", "inferschema", "sep", "delimiter", "quote", "escape", "nullvalue", "encoding"}
    ),
    "JSON": frozenset({"multiline", "encoding"}),
    "PARQUET": frozenset(),
    "ORC": frozenset(),
    "TEXT": frozenset({"wholetext", "encoding"}),
    "BINARYFILE": frozenset(),
}


@dataclass(frozen=True)
class SourceFile:
    """One file: its DBFS URI (the identity COPY INTO remembers) and where it is on disk."""

    uri: str
    local: Path


class CorruptFile(Exception):
    """A file the reader cannot parse (skipped with `ignoreCorruptFiles`)."""


def path_not_found(uri: str) -> SqlError:
    return SqlError("PATH_NOT_FOUND", f"Path does not exist: {uri}.", "42K03")


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Hadoop glob syntax (`*`, `?`, `[a-c]`, `[^a]`, `{x,y}`, `\\` escapes) as an anchored regex."""
    out: list[str] = []
    i, depth = 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise SqlError(
                    "INVALID_PATTERN", f"Unclosed character class in pattern '{pattern}'.", "42000"
                )
            body = pattern[i + 1 : end]
            if body[:1] in ("^", "!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        raise SqlError("INVALID_PATTERN", f"Unclosed group in pattern '{pattern}'.", "42000")
    return re.compile("".join(out) + r"\Z")


def list_files(
    source: str,
    local: Path,
    *,
    files: list[str] | None,
    pattern: str | None,
    name_filter: str | None,
    ignore_missing: bool,
) -> list[SourceFile]:
    """The files `source` names (a file, or a directory walked recursively), sorted."""
    base = source.rstrip("/")
    if base.startswith("/") and not base.startswith("/Volumes/"):
        base = "dbfs:" + base  # one identity per file, however the location was spelled
    if files is not None:
        found = []
        for name in files:
            target = local / name.lstrip("/")
            if target.is_file():
                found.append(SourceFile(f"{base}/{name.lstrip('/')}", target))
            elif not ignore_missing:
                raise path_not_found(f"{base}/{name.lstrip('/')}")
        return found
    if local.is_file():
        return [SourceFile(base, local)]
    if not local.is_dir():
        raise path_not_found(source)
    regex = glob_regex(pattern) if pattern else None
    names = glob_regex(name_filter) if name_filter else None
    found = []
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        relative = path.relative_to(local).as_posix()
        if any(part.startswith(("_", ".")) for part in relative.split("/")):
            continue
        if regex is not None and not regex.match(relative):
            continue
        if names is not None and not names.match(path.name):
            continue
        found.append(SourceFile(f"{base}/{relative}", path))
    return found


def check_options(file_format: str, options: dict[str, str]) -> None:
    """Every FORMAT_OPTIONS key must be one the emulator honours for this format."""
    allowed = GENERIC_OPTIONS | FORMAT_OPTIONS.get(file_format, frozenset())
    for key in options:
        if key.lower() not in allowed:
            raise not_supported(f"the FORMAT_OPTIONS option '{key}' for FILEFORMAT = {file_format}")
    encoding = options.get("encoding")
    if encoding is not None and encoding.lower().replace("-", "") != "utf8":
        raise not_supported(f"FORMAT_OPTIONS ('encoding' = '{encoding}') (only UTF-8)")


def flag(options: dict[str, str], key: str, default: bool = False) -> bool:
    """A boolean option (`'true'`/`'false'`, any case); anything else is an error naming it."""
    value = options.get(key)
    if value is None:
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise SqlError(
        "INVALID_OPTION_VALUE", f"The value '{value}' of the option '{key}' must be true or false.", "42K06"
    )


def reader(
    file_format: str, options: dict[str, str]
) -> Callable[[duckdb.DuckDBPyConnection, SourceFile], pa.Table]:
    """A function reading one file of this format with these (lower-cased) FORMAT_OPTIONS."""
    readers: dict[str, Callable[[duckdb.DuckDBPyConnection, SourceFile, dict[str, str]], pa.Table]] = {
        "CSV": _read_csv,
        "JSON": _read_json,
        "PARQUET": _read_parquet,
        "ORC": _read_orc,
        "TEXT": _read_text,
        "BINARYFILE": _read_binary,
    }
    read = readers[file_format]

    def one(con: duckdb.DuckDBPyConnection, file: SourceFile) -> pa.Table:
        try:
            return read(con, file, options)
        except SqlError:
            raise
        except Exception as err:  # pyarrow, duckdb and json each raise their own
            raise CorruptFile(
                f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            ) from None

    return one


def _read_csv(con: duckdb.DuckDBPyConnection, file: SourceFile, options: dict[str, str]) -> pa.Table:
    header = flag(options, "header")
    infer = flag(options, "inferschema")
    kwargs: dict[str, Any] = {"header": header, "all_varchar": not infer}
    sep = options.get("sep", options.get("delimiter"))
    if sep is not None:
        kwargs["sep"] = sep
    if "quote" in options:
        kwargs["quotechar"] = options["quote"]
    if "escape" in options:
        kwargs["escapechar"] = options["escape"]
    if "nullvalue" in options:
        kwargs["na_values"] = [options["nullvalue"]]
    table = con.read_csv(str(file.local), **kwargs).to_arrow_table()
    if not header:
        table = table.rename_columns([f"_c{i}" for i in range(table.num_columns)])
    if infer:  # Spark infers INT for integers that fit, BIGINT beyond
        columns = []
        for column in table.columns:
            if pa.types.is_int64(column.type) and column.null_count < len(column):
                low, high = pc.min_max(column).values()
                if -(2**31) <= low.as_py() and high.as_py() < 2**31:
                    column = column.cast(pa.int32())
            columns.append(column)
        table = pa.table(columns, names=table.column_names)
    return table


def _read_json(con: duckdb.DuckDBPyConnection, file: SourceFile, options: dict[str, str]) -> pa.Table:
    text = file.local.read_text(encoding="utf-8")
    if flag(options, "multiline"):
        parsed = json.loads(text)
        records = parsed if isinstance(parsed, list) else [parsed]
    else:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    if not all(isinstance(r, dict) for r in records):
        raise CorruptFile("not a JSON object per record")
    names = sorted({key for record in records for key in record})
    arrays = []
    for name in names:
        values = [record.get(name) for record in records]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: Spark reads them as strings
            arrays.append(
                pa.array(
                    [None if v is None else json.dumps(v) if not isinstance(v, str) else v for v in values]
                )
            )
    return pa.table(arrays, names=names) if names else pa.table({})


def _read_parquet(con: duckdb.DuckDBPyConnection, file: SourceFile, options: dict[str, str]) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(file.local)


def _read_orc(con: duckdb.DuckDBPyConnection, file: SourceFile, options: dict[str, str]) -> pa.Table:
    from pyarrow import orc

    return orc.read_table(file.local)


def _read_text(con: duckdb.DuckDBPyConnection, file: SourceFile, options: dict[str, str]) -> pa.Table:
    text = file.local.read_text(encoding="utf-8")
    lines = [text] if flag(options, "wholetext") else text.splitlines()
    return pa.table({"value": pa.array(lines, pa.string())})


def _read_binary(con: duckdb.DuckDBPyConnection, file: SourceFile, options: dict[str, str]) -> pa.Table:
    data = file.local.read_bytes()
    modified = datetime.fromtimestamp(file.local.stat().st_mtime, tz=UTC)
    return pa.table(
        {
            "path": pa.array([file.uri], pa.string()),
            "modificationTime": pa.array([modified], pa.timestamp("us", tz="UTC")),
            "length": pa.array([len(data)], pa.int64()),
            "content": pa.array([data], pa.binary()),
        }
    )
