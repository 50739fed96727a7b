"""COPY INTO <table> FROM '<location>': files from the emulator's DBFS appended to a Delta table.

Parsed here from sqlglot's tokens (sqlglot parses only part of Databricks' COPY INTO grammar).
As Databricks: idempotent (the files a table has loaded are remembered in `_copy_into_log/` at
its location and skipped unless COPY_OPTIONS ('force' = 'true')); columns are matched by name;
new columns need COPY_OPTIONS ('mergeSchema' = 'true'), which also fills a schemaless
placeholder table (`CREATE TABLE t`); `(SELECT expression_list FROM '<location>')` is run by
DuckDB over the files read. The answer is one row: num_affected_rows, num_inserted_rows,
num_skipped_corrupt_files. Options the emulator does not honour fail naming the option.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlglot
from deltalake import DeltaTable, write_deltalake
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from airflow_dbx_provider.emulator.services.sql_catalog import SqlError, not_supported
from airflow_dbx_provider.emulator.services.sql_file_sources import (
    FORMAT_OPTIONS,
    FORMATS,
    CorruptFile,
    check_options,
    flag,
    list_files,
    reader,
)

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

    from airflow_dbx_provider.emulator.services.sql_catalog import SqlCatalog
    from airflow_dbx_provider.emulator.services.sql_context import StatementContext

SOURCE_VIEW = "__copy_source"
COPY_OPTIONS = frozenset({"force", "mergeschema"})
STATE_DIR = "_copy_into_log"


def tokens(sql: str) -> list[Token]:
    try:
        return [t for t in sqlglot.Dialect.get_or_raise("databricks").tokenize(sql)]
    except (TokenError, ParseError) as err:
        raise SqlError("PARSE_SYNTAX_ERROR", f"Syntax error: {err}", "42601") from None


def is_copy_into(toks: list[Token]) -> bool:
    return len(toks) >= 2 and toks[0].token_type == TokenType.COPY and toks[1].token_type == TokenType.INTO


def syntax_error(near: Token | None) -> SqlError:
    where = f"'{near.text}'" if near is not None else "end of input"
    return SqlError("PARSE_SYNTAX_ERROR", f"Syntax error at or near {where}.", "42601")


class TokenStream:
    """A cursor over one statement's tokens (a trailing `;` ends it)."""

    def __init__(self, toks: list[Token]) -> None:
        self.toks = toks[:-1] if toks and toks[-1].token_type == TokenType.SEMICOLON else toks
        self.pos = 0

    def peek(self) -> Token | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def word(self) -> str:
        tok = self.peek()
        return tok.text.upper() if tok is not None and tok.token_type != TokenType.STRING else ""

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise syntax_error(None)
        self.pos += 1
        return tok

    def expect(self, kind: TokenType) -> Token:
        tok = self.next()
        if tok.token_type != kind:
            raise syntax_error(tok)
        return tok

    def expect_word(self, word: str) -> None:
        if self.word() != word:
            raise syntax_error(self.peek())
        self.pos += 1

    def table_name(self) -> list[str]:
        parts = [self.name_part()]
        while (tok := self.peek()) is not None and tok.token_type == TokenType.DOT:
            self.pos += 1
            parts.append(self.name_part())
        return parts

    def name_part(self) -> str:
        tok = self.next()
        if tok.token_type in (TokenType.STRING, TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA):
            raise syntax_error(tok)
        return tok.text

    def skip_parens(self) -> list[Token]:
        """The tokens inside a balanced `( ... )` (the cursor is on the `(`)."""
        self.expect(TokenType.L_PAREN)
        start, depth = self.pos, 1
        while depth:
            tok = self.next()
            depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tok.token_type, 0)
        return self.toks[start : self.pos - 1]

    def options(self) -> dict[str, str]:
        """`( 'key' = value, ... )`."""
        inner = TokenStream(self.skip_parens())
        result: dict[str, str] = {}
        while inner.peek() is not None:
            key = inner.next()
            inner.expect(TokenType.EQ)
            value = inner.next()
            if value.token_type in (TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA):
                raise syntax_error(value)
            result[key.text] = value.text
            if inner.peek() is not None:
                inner.expect(TokenType.COMMA)
        return result


@dataclass
class CopyInto:
    target: list[str]
    source: str = ""
    select: str | None = None  # the SELECT over SOURCE_VIEW, in Databricks SQL
    file_format: str = ""
    files: list[str] | None = None
    pattern: str | None = None
    format_options: dict[str, str] = field(default_factory=dict)
    copy_options: dict[str, str] = field(default_factory=dict)


def parse(sql: str, toks: list[Token]) -> CopyInto:
    stream = TokenStream(toks)
    stream.pos = 2  # COPY INTO
    stmt = CopyInto(target=stream.table_name())
    if stream.word() == "WITH":  # the target's storage credential: DBFS needs none
        stream.pos += 1
        stream.skip_parens()
    if stream.word() == "BY" or ((tok := stream.peek()) is not None and tok.token_type == TokenType.L_PAREN):
        raise not_supported("COPY INTO with BY POSITION or a column list")
    stream.expect(TokenType.FROM)
    if (tok := stream.peek()) is not None and tok.token_type == TokenType.L_PAREN:
        _select_source(sql, stmt, stream)
    else:
        stmt.source = stream.expect(TokenType.STRING).text
        _source_options(stream, stmt.source)
    while stream.peek() is not None:
        word = stream.word()
        stream.pos += 1
        if word == "FILEFORMAT":
            stream.expect(TokenType.EQ)
            stmt.file_format = stream.next().text.upper()
        elif word == "VALIDATE":
            raise not_supported("COPY INTO ... VALIDATE")
        elif word == "FILES" and stmt.pattern is None:
            stream.expect(TokenType.EQ)
            inner = TokenStream(stream.skip_parens())
            stmt.files = []
            while inner.peek() is not None:
                stmt.files.append(inner.expect(TokenType.STRING).text)
                if inner.peek() is not None:
                    inner.expect(TokenType.COMMA)
        elif word == "PATTERN" and stmt.files is None:
            stream.expect(TokenType.EQ)
            stmt.pattern = stream.expect(TokenType.STRING).text
        elif word == "FORMAT_OPTIONS":
            stmt.format_options = stream.options()
        elif word == "COPY_OPTIONS":
            stmt.copy_options = stream.options()
        else:
            raise syntax_error(stream.toks[stream.pos - 1])
    if not stmt.file_format:
        raise syntax_error(None)
    return stmt


def _source_options(stream: TokenStream, source: str) -> None:
    """`WITH (CREDENTIAL ... ENCRYPTION ...)` on a source: Databricks allows them on cloud URIs only."""
    if stream.word() != "WITH":
        return
    stream.pos += 1
    inner = {t.text.upper() for t in stream.skip_parens()}
    scheme = source.split(":", 1)[0] if ":" in source else "dbfs"
    if "CREDENTIAL" in inner:
        raise SqlError(
            "COPY_INTO_CREDENTIALS_NOT_ALLOWED_ON",
            f"Invalid scheme {scheme}. COPY INTO source credentials currently only supports "
            "s3/s3n/s3a/wasbs/abfss.",
            "0A000",
        )
    raise SqlError(
        "COPY_INTO_ENCRYPTION_NOT_ALLOWED_ON",
        f"Invalid scheme {scheme}. COPY INTO source encryption currently only supports s3/s3n/s3a/abfss.",
        "0A000",
    )


def _select_source(sql: str, stmt: CopyInto, stream: TokenStream) -> None:
    """`( SELECT expression_list FROM '<location>' )`: the SELECT kept, reading SOURCE_VIEW."""
    inner = TokenStream(stream.skip_parens())
    if inner.word() != "SELECT":
        raise syntax_error(inner.peek())
    depth = 0
    for i, tok in enumerate(inner.toks):
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tok.token_type, 0)
        nxt = inner.toks[i + 1] if i + 1 < len(inner.toks) else None
        if (
            depth == 0
            and tok.token_type == TokenType.FROM
            and nxt is not None
            and nxt.token_type == TokenType.STRING
        ):
            stmt.source = nxt.text
            rest = inner.toks[i + 2 :]
            if rest and rest[0].text.upper() == "WITH":
                tail = TokenStream(rest)
                _source_options(tail, stmt.source)
            start, end = inner.toks[0].start, inner.toks[-1].end + 1
            stmt.select = sql[start : tok.start] + f"FROM {SOURCE_VIEW}" + sql[nxt.end + 1 : end]
            return
    raise syntax_error(inner.toks[-1] if inner.toks else None)


# ---- execution -----------------------------------------------------------------------------------
def copy_into(
    catalog: SqlCatalog, con: duckdb.DuckDBPyConnection, sql: str, toks: list[Token], ctx: StatementContext
) -> pa.Table:
    stmt = parse(sql, toks)
    fmt = stmt.file_format
    if fmt not in FORMATS:
        raise SqlError(
            "COPY_INTO_SOURCE_FILE_FORMAT_NOT_SUPPORTED",
            "The format of the source files must be one of CSV, JSON, AVRO, ORC, PARQUET, TEXT, or BINARYFILE.",
            "42KDI",
        )
    if fmt not in FORMAT_OPTIONS:
        raise not_supported(f"FILEFORMAT = {fmt}")
    check_options(fmt, stmt.format_options)
    for key in stmt.copy_options:
        if key.lower() not in COPY_OPTIONS:
            raise not_supported(f"the COPY_OPTIONS option '{key}'")
    format_options = {k.lower(): v for k, v in stmt.format_options.items()}
    copy_options = {k.lower(): v for k, v in stmt.copy_options.items()}
    force, merge = flag(copy_options, "force"), flag(copy_options, "mergeschema")
    ignore_corrupt = flag(format_options, "ignorecorruptfiles")

    if not stmt.source.startswith(("dbfs:/", "/")):
        raise not_supported(f"COPY INTO sources outside DBFS ({stmt.source})")
    name, path = _target(catalog, stmt.target, ctx)
    with catalog.write_lock:
        table_id, schema = _delta_state(path)
        files = list_files(
            stmt.source,
            catalog.local_path(stmt.source),
            files=stmt.files,
            pattern=stmt.pattern,
            name_filter=format_options.get("pathglobfilter"),
            ignore_missing=flag(format_options, "ignoremissingfiles"),
        )
        loaded = _loaded_files(path, table_id)
        read = reader(fmt, format_options)
        parts, done, corrupt = [], [], 0
        for file in files:
            if file.uri in loaded and not force:
                continue
            try:
                parts.append(read(con, file))
            except CorruptFile as err:
                if not ignore_corrupt:
                    raise SqlError(
                        "FAILED_READ_FILE.NO_HINT",
                        f"Encountered error while reading file {file.uri}. {err}",
                        "KD001",
                    ) from None
                corrupt += 1
                continue
            done.append(file.uri)
        inserted = 0
        if parts:
            data = _union(parts)
            if stmt.select is not None:
                con.register(SOURCE_VIEW, data)
                query = sqlglot.transpile(stmt.select, read="databricks", write="duckdb")[0]
                data = con.sql(query).to_arrow_table()
            data = _fit(data, schema, merge=merge, name=name, table_id=table_id)
            if data.num_rows or schema is None:
                path.mkdir(parents=True, exist_ok=True)
                write_deltalake(str(path), data, mode="append", schema_mode="merge" if merge else None)
            inserted = data.num_rows
            table_id, _ = _delta_state(path)
        if done:
            _remember(path, table_id, loaded | set(done))
    return pa.table(
        {
            "num_affected_rows": pa.array([inserted], pa.int64()),
            "num_inserted_rows": pa.array([inserted], pa.int64()),
            "num_skipped_corrupt_files": pa.array([corrupt], pa.int64()),
        }
    )


def _target(catalog: SqlCatalog, parts: list[str], ctx: StatementContext) -> tuple[str, Path]:
    """(name, local path): a catalog table, or `delta.\\`<path>\\`` (which must already be Delta)."""
    if len(parts) == 2 and parts[0].lower() == "delta" and parts[1].startswith(("dbfs:/", "/")):
        path = catalog.local_path(parts[1])
        if not (path / "_delta_log").is_dir():
            raise SqlError("DELTA_MISSING_DELTA_TABLE", f"`{parts[1]}` is not a Delta table.", "42P01")
        return parts[1], path
    name = catalog.full_name(parts, ctx.catalog, ctx.schema)
    return name, catalog.local_path(catalog.lookup(name)["storage_location"])


def _delta_state(path: Path) -> tuple[str | None, pa.Schema | None]:
    """(table id, Arrow schema), or (None, None) for a schemaless placeholder table."""
    if not (path / "_delta_log").is_dir():
        return None, None
    table = DeltaTable(str(path))
    return str(table.metadata().id), table.to_pyarrow_dataset().schema


def _loaded_files(path: Path, table_id: str | None) -> set[str]:
    state = path / STATE_DIR / "loaded.json"
    if not state.is_file():
        return set()
    doc = json.loads(state.read_text())
    return set(doc.get("files", [])) if doc.get("table_id") == table_id else set()


def _remember(path: Path, table_id: str | None, files: set[str]) -> None:
    state = path / STATE_DIR / "loaded.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps({"table_id": table_id, "files": sorted(files)}))
    tmp.replace(state)


def _union(parts: list[pa.Table]) -> pa.Table:
    """All files' rows; columns missing from a file are NULL, conflicting types read as strings."""
    try:
        return pa.concat_tables(parts, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        names = list(dict.fromkeys(n for part in parts for n in part.column_names))
        as_text = [
            pa.table({n: part.column(n).cast(pa.string()) for n in part.column_names}) for part in parts
        ]
        return pa.concat_tables(as_text, promote_options="permissive").select(names)


def _schema_mismatch(table_id: str | None, columns: list[str]) -> SqlError:
    return SqlError(
        "_LEGACY_ERROR_TEMP_DELTA_0007",
        f"A schema mismatch detected when writing to the Delta table (Table ID: {table_id}). "
        f"Columns not in the table: {', '.join(columns)}. To enable schema migration, set "
        "COPY_OPTIONS ('mergeSchema' = 'true').",
        "42000",
    )


def _fit(
    data: pa.Table, schema: pa.Schema | None, *, merge: bool, name: str, table_id: str | None
) -> pa.Table:
    """The rows in the table's columns (by name, any case), cast to its types; new columns last."""
    data = data.cast(
        pa.schema(pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in data.schema)
    )
    if schema is None:
        if not merge:
            raise _schema_mismatch(table_id, data.column_names)
        return data
    by_name = {n.lower(): i for i, n in enumerate(data.column_names)}
    known = {f.name.lower() for f in schema}
    extra = [n for n in data.column_names if n.lower() not in known]
    if extra and not merge:
        raise _schema_mismatch(table_id, extra)
    columns: list[Any] = []
    for target in schema:
        index = by_name.get(target.name.lower())
        if index is None:
            columns.append(pa.nulls(data.num_rows, target.type))
            continue
        try:
            columns.append(data.column(index).cast(target.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as err:
            raise SqlError(
                "CAST_INVALID_INPUT",
                f"Column `{target.name}` of `{name}` cannot be cast to {target.type}: {str(err).splitlines()[0]}",
                "22018",
            ) from None
    names = [f.name for f in schema] + extra
    columns += [data.column(n) for n in extra]
    return pa.table(columns, names=names)
