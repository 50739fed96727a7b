"""One statement, executed: Databricks SQL → sqlglot (databricks → duckdb) → DuckDB → Arrow.

Each statement gets a fresh in-memory DuckDB connection. Every table it names is resolved in
the catalog and registered as a view over its Delta table (`deltalake`'s Arrow dataset), so the
Delta log stays the truth. Writes (CREATE TABLE [AS], INSERT [OVERWRITE], UPDATE, DELETE, MERGE)
run against a DuckDB copy of the target and commit a new Delta version with `write_deltalake`.
Anything else fails with an UNSUPPORTED_FEATURE `SqlError` naming what is not supported.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import sqlglot
from deltalake import DeltaTable, write_deltalake
from sqlglot import exp
from sqlglot.errors import ParseError

from airflow_dbx_provider.emulator.services.sql_catalog import (
    DEFAULT_CATALOG,
    DEFAULT_SCHEMA,
    SqlCatalog,
    SqlError,
    not_supported,
    table_not_found,
)
from airflow_dbx_provider.emulator.services.sql_context import StatementContext
from airflow_dbx_provider.emulator.services.sql_copy_into import copy_into, is_copy_into, tokens
from airflow_dbx_provider.emulator.services.sql_describe_detail import describe_detail, is_describe_detail

if TYPE_CHECKING:
    from pathlib import Path

warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


def _syntax_error(err: Exception) -> SqlError:
    return SqlError("PARSE_SYNTAX_ERROR", f"Syntax error: {err}", "42601")


def _engine_error(err: duckdb.Error) -> SqlError:
    if isinstance(err, duckdb.InterruptException):
        return SqlError("OPERATION_CANCELED", "The statement was canceled.", "HY008", error_code="CANCELLED")
    if isinstance(err, duckdb.CatalogException):
        return SqlError("UNRESOLVED_OBJECT", str(err).splitlines()[0], "42704")
    if isinstance(err, duckdb.ParserException):
        return _syntax_error(err)
    if isinstance(err, duckdb.ConversionException | duckdb.InvalidInputException):
        return SqlError("CAST_INVALID_INPUT", str(err).splitlines()[0], "22018")
    if isinstance(err, duckdb.BinderException):
        return SqlError("UNRESOLVED_COLUMN", str(err).splitlines()[0], "42703")
    return SqlError("INTERNAL_ERROR", str(err).splitlines()[0], "XX000", error_code="INTERNAL_ERROR")


class SqlEngine:
    def __init__(self, catalog: SqlCatalog) -> None:
        self.catalog = catalog

    def execute(self, sql: str, ctx: StatementContext) -> pa.Table:
        """The result set (DML and DDL answer with Databricks' count columns, or none)."""
        toks = tokens(sql)  # COPY INTO and DESCRIBE DETAIL are parsed in their own modules
        if is_describe_detail(toks):
            return describe_detail(self.catalog, toks, ctx)
        tree = None
        if not is_copy_into(toks):
            try:
                statements = [s for s in sqlglot.parse(sql, read="databricks") if s is not None]
            except (ParseError, sqlglot.errors.TokenError) as err:
                raise _syntax_error(err) from None
            if len(statements) != 1:
                raise not_supported(
                    "more than one statement per request" if statements else "an empty statement"
                )
            tree = _bind_parameters(statements[0], ctx.parameters)
        con = duckdb.connect()
        try:
            ctx.on_connect(con)
            if tree is None:
                return copy_into(self.catalog, con, sql, toks, ctx)
            return _Run(self.catalog, con, ctx).statement(tree)
        except duckdb.Error as err:
            raise _engine_error(err) from None
        finally:
            con.close()


def _bind_parameters(tree: exp.Expr, parameters: list[dict[str, Any]]) -> exp.Expr:
    named = {str(p.get("name")): p for p in parameters if p.get("name")}
    positional = [p for p in parameters if not p.get("name")]

    def literal(param: dict[str, Any]) -> exp.Expr:
        value, type_name = param.get("value"), str(param.get("type") or "STRING")
        try:
            data_type = exp.DataType.build(type_name, dialect="databricks")
        except (ParseError, ValueError):
            raise SqlError(
                "INVALID_PARAMETER_TYPE", f"Invalid parameter type {type_name!r}.", "22023"
            ) from None
        if value is None:
            return exp.cast(exp.null(), data_type)
        if data_type.is_type(*exp.DataType.TEXT_TYPES):
            return exp.Literal.string(str(value))
        return exp.cast(exp.Literal.string(str(value)), data_type)

    position = iter(positional)

    def bind(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Placeholder):
            return node
        if node.name and node.name != "?":
            if node.name not in named:
                raise SqlError("UNBOUND_SQL_PARAMETER", f"Found the unbound parameter: {node.name}.", "42P02")
            return literal(named[node.name])
        param = next(position, None)
        if param is None:
            raise SqlError("UNBOUND_SQL_PARAMETER", "Found an unbound positional parameter.", "42P02")
        return literal(param)

    return tree.transform(bind)


def _delta_path(table: exp.Table) -> str | None:
    """`delta.\\`dbfs:/path\\``: a Delta table read by its location."""
    if table.db.lower() == "delta" and not table.catalog and table.name.startswith(("dbfs:/", "/")):
        return table.name
    return None


class _Run:
    """One statement on one connection."""

    def __init__(self, catalog: SqlCatalog, con: duckdb.DuckDBPyConnection, ctx: StatementContext) -> None:
        self.catalog = catalog
        self.con = con
        self.ctx = ctx
        self._views: dict[str, str] = {}

    # ---- dispatch ----------------------------------------------------------------------------------
    def statement(self, tree: exp.Expr) -> pa.Table:
        if isinstance(tree, exp.Query):
            return self.query(tree)
        if isinstance(tree, exp.Create):
            kind = str(tree.args.get("kind") or "").upper()
            if kind == "TABLE":
                return self.create_table(tree)
            if kind in ("SCHEMA", "DATABASE"):
                return self.create_schema(tree)
            raise not_supported(f"CREATE {kind}")
        if isinstance(tree, exp.Drop):
            return self.drop(tree)
        if isinstance(tree, exp.Insert | exp.Update | exp.Delete | exp.Merge):
            with self.catalog.write_lock:
                return self.dml(tree)
        if isinstance(tree, exp.Describe):
            return self.describe(tree)
        if isinstance(tree, exp.Use):
            return pa.table({})
        if isinstance(tree, exp.Command) and tree.name.upper() == "SHOW":
            return self.show(tree.expression.name if tree.expression else "")
        first = tree.sql(dialect="databricks").split(maxsplit=1)
        raise not_supported(f"{first[0].upper() if first else type(tree).__name__} statements")

    # ---- names ---------------------------------------------------------------------------------------
    def full_name(self, table: exp.Table) -> str:
        parts = [table.catalog, table.db, table.name]
        return self.catalog.full_name(parts, self.ctx.catalog, self.ctx.schema)

    def table_path(self, table: exp.Table) -> tuple[str, Path]:
        """(name, local path) of a table reference, by name or by `delta.\\`path\\``."""
        path = _delta_path(table)
        if path is not None:
            return path, self.catalog.local_path(path)
        name = self.full_name(table)
        return name, self.catalog.local_path(self.catalog.lookup(name)["storage_location"])

    def view_of(self, table: exp.Table) -> str:
        """A DuckDB view over the Delta table a reference names (registered once per statement)."""
        name, path = self.table_path(table)
        if name not in self._views:
            view = f"__delta_{len(self._views)}"
            try:
                dataset = DeltaTable(str(path)).to_pyarrow_dataset()
            except Exception:  # deltalake raises TableNotFoundError and friends
                raise table_not_found(name) from None
            self.con.register(view, dataset)
            self._views[name] = view
        return self._views[name]

    def rewrite_sources(self, tree: exp.Expr, skip: exp.Table | None = None) -> exp.Expr:
        """Replace every table reference (not CTE names, not `skip`) by its Delta view."""
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in list(tree.find_all(exp.Table)):
            if isinstance(table.this, exp.Func) and table.this.sql(dialect="duckdb").upper().startswith(
                "RANGE("
            ):
                # Databricks' range() names its column `id`; DuckDB's says `range`
                name = table.alias or "range"
                table.set(
                    "alias", exp.TableAlias(this=exp.to_identifier(name), columns=[exp.to_identifier("id")])
                )
                continue
            if table is skip or not isinstance(table.this, exp.Identifier):
                continue
            if not table.db and table.name.lower() in ctes:
                continue
            view = self.view_of(table)
            alias = table.alias or (table.name if _delta_path(table) is None else "")
            table.set("this", exp.to_identifier(view, quoted=True))
            table.set("db", None)
            table.set("catalog", None)
            if alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        return tree

    def run(self, tree: exp.Expr) -> pa.Table:
        sql = tree.sql(dialect="duckdb")
        return self.con.sql(sql).to_arrow_table()

    # ---- statements --------------------------------------------------------------------------------
    def query(self, tree: exp.Expr) -> pa.Table:
        if isinstance(tree, exp.Select):
            _name_projections(tree)
        return self.run(self.rewrite_sources(tree))

    def create_table(self, tree: exp.Create) -> pa.Table:
        schema_node = tree.this if isinstance(tree.this, exp.Schema) else None
        table = schema_node.this if schema_node is not None else tree.this
        if not isinstance(table, exp.Table):
            raise not_supported("this CREATE TABLE form")
        props = tree.args.get("properties")
        location = None
        partition_by: list[str] = []
        for prop in props.expressions if props else []:
            if isinstance(prop, exp.FileFormatProperty) and prop.name.upper() not in ("DELTA", ""):
                raise not_supported(f"tables USING {prop.name.upper()} (only DELTA)")
            if isinstance(prop, exp.LocationProperty):
                location = prop.this.name
            if isinstance(prop, exp.PartitionedByProperty) and isinstance(prop.this, exp.Schema):
                partition_by = [col.name for col in prop.this.expressions]
        name = self.full_name(table)
        replace = bool(tree.args.get("replace"))
        with self.catalog.write_lock:
            if self.catalog.exists(name) and not replace:
                if tree.args.get("exists"):
                    return pa.table({})
                raise SqlError(
                    "TABLE_OR_VIEW_ALREADY_EXISTS",
                    f"Cannot create table or view `{name}` because it already exists.",
                    "42P07",
                )
            managed = location is None
            location = location or self.catalog.managed_location(name)
            path = self.catalog.local_path(location)
            query = tree.expression
            if isinstance(query, exp.Query):
                data = self.query(query)
            elif schema_node is not None and schema_node.expressions:
                columns = ", ".join(
                    f"CAST(NULL AS {col.args['kind'].sql(dialect='duckdb')}) AS "
                    f"{exp.to_identifier(col.name, quoted=True).sql(dialect='duckdb')}"
                    for col in schema_node.expressions
                    if isinstance(col, exp.ColumnDef)
                )
                data = self.con.sql(f"SELECT {columns} LIMIT 0").to_arrow_table()
            elif (path / "_delta_log").is_dir():
                data = None  # an existing Delta table: register its location
            elif managed and not replace:
                data = None  # a schemaless placeholder (Databricks allows it; COPY INTO fills it)
            else:
                raise SqlError(
                    "DELTA_SCHEMA_NOT_PROVIDED", f"Table schema is not provided for `{name}`.", "42908"
                )
            if data is not None:
                data = _writable(data)
                path.mkdir(parents=True, exist_ok=True)
                write_deltalake(
                    str(path),
                    data,
                    mode="overwrite" if replace else "error",
                    schema_mode="overwrite" if replace else None,
                    partition_by=partition_by or None,
                )
            self.catalog.register(name, location, managed=managed, owner=self.ctx.user)
        return pa.table({})

    def create_schema(self, tree: exp.Create) -> pa.Table:
        table = tree.this
        catalog = table.catalog or self.ctx.catalog or DEFAULT_CATALOG
        schema = table.db or table.name
        self.catalog.create_schema(
            catalog, schema, self.ctx.user, if_not_exists=bool(tree.args.get("exists"))
        )
        return pa.table({})

    def drop(self, tree: exp.Drop) -> pa.Table:
        kind = str(tree.args.get("kind") or "").upper()
        tables = tree.args.get("tables") or [tree.this]
        table = tables[0] if len(tables) == 1 else None
        with self.catalog.write_lock:
            if kind == "TABLE" and isinstance(table, exp.Table):
                name = self.full_name(table)
                if not self.catalog.exists(name) and tree.args.get("exists"):
                    return pa.table({})
                self.catalog.drop(name)
                return pa.table({})
            if kind in ("SCHEMA", "DATABASE") and isinstance(table, exp.Table):
                catalog = table.catalog or self.ctx.catalog or DEFAULT_CATALOG
                self.catalog.drop_schema(
                    catalog,
                    table.db or table.name,
                    cascade=bool(tree.args.get("cascade")),
                    if_exists=bool(tree.args.get("exists")),
                )
                return pa.table({})
        raise not_supported(f"DROP {kind}")

    def dml(self, tree: exp.Expr) -> pa.Table:
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if not isinstance(target, exp.Table):
            raise not_supported(f"{type(tree).__name__.upper()} into this target")
        name, path = self.table_path(target)
        source_view = self.view_of(target)
        local = exp.to_identifier(target.name, quoted=True).sql(dialect="duckdb")
        is_insert = isinstance(tree, exp.Insert)
        overwrite = is_insert and bool(tree.args.get("overwrite"))
        limit = " LIMIT 0" if is_insert else ""
        self.con.execute(f'CREATE TEMP TABLE {local} AS SELECT * FROM "{source_view}"{limit}')
        self.rewrite_sources(tree, skip=target)
        target.set("db", None)
        target.set("catalog", None)
        target.set("this", exp.to_identifier(target.name, quoted=True))
        if overwrite:
            tree.set("overwrite", None)
        count = self.con.execute(tree.sql(dialect="duckdb")).fetchone()
        affected = int(count[0]) if count else 0
        data = self.con.sql(f"SELECT * FROM {local}").to_arrow_table()
        schema = DeltaTable(str(path)).to_pyarrow_dataset().schema
        try:
            data = data.cast(schema)
        except (pa.ArrowInvalid, ValueError, TypeError):
            data = _writable(data)
        write_deltalake(str(path), data, mode="append" if is_insert and not overwrite else "overwrite")
        if is_insert:
            return pa.table({"num_affected_rows": [affected], "num_inserted_rows": [affected]})
        return pa.table({"num_affected_rows": [affected]})

    def describe(self, tree: exp.Describe) -> pa.Table:
        table = tree.this
        if not isinstance(table, exp.Table):
            raise not_supported("DESCRIBE of this object")
        view = self.view_of(table)
        described = self.con.execute(f'DESCRIBE "{view}"').fetchall()
        return pa.table(
            {
                "col_name": [row[0] for row in described],
                "data_type": [_databricks_type_text(str(row[1])) for row in described],
                "comment": pa.array([None] * len(described), pa.string()),
            }
        )

    def show(self, text: str) -> pa.Table:
        words = text.split()
        catalog = self.ctx.catalog or DEFAULT_CATALOG
        if words and words[0].upper() == "TABLES":
            schema = self.ctx.schema or DEFAULT_SCHEMA
            if len(words) >= 3 and words[1].upper() in ("IN", "FROM"):
                parts = words[2].strip("`").split(".")
                catalog, schema = (parts[0], parts[1]) if len(parts) == 2 else (catalog, parts[0])
            docs = self.catalog.tables_in(catalog, schema)
            return pa.table(
                {
                    "database": [schema] * len(docs),
                    "tableName": [d["name"] for d in docs],
                    "isTemporary": [False] * len(docs),
                }
            )
        if words and words[0].upper() in ("SCHEMAS", "DATABASES"):
            return pa.table({"databaseName": self.catalog.schemas_in(catalog)})
        raise not_supported(f"SHOW {words[0].upper() if words else ''}".strip())


def _name_projections(select: exp.Select) -> None:
    """Unnamed expressions get Databricks' column names (`count(1)`, `sum(amount)`), not DuckDB's."""
    named: list[exp.Expr] = []
    for projection in select.expressions:
        if isinstance(projection, exp.Column | exp.Alias | exp.Star):
            named.append(projection)
            continue
        text = "count(1)" if isinstance(projection, exp.Count) and projection.find(exp.Star) else None
        if text is None:
            text = projection.sql(dialect="databricks")
            text = re.sub(r"\b([A-Z_]+)\(", lambda m: m.group(1).lower() + "(", text)
        named.append(exp.alias_(projection, text, quoted=True))
    select.set("expressions", named)


def _writable(data: pa.Table) -> pa.Table:
    """Types Delta can store: NULL-typed columns become strings."""
    fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in data.schema]
    return data.cast(pa.schema(fields))


def _databricks_type_text(duck_type: str) -> str:
    mapping = {
        "INTEGER": "int",
        "BIGINT": "bigint",
        "VARCHAR": "string",
        "DOUBLE": "double",
        "BOOLEAN": "boolean",
    }
    return mapping.get(duck_type.upper(), duck_type.lower())
