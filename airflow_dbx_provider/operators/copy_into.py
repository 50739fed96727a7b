"""``DatabricksCopyIntoOperator``: load files into a Delta table with ``COPY INTO``, as the official one.

The statement is built from the official arguments, every value quoted as a SQL string literal
and every name checked, so no argument can end the statement or inject SQL. Bad input fails with
a one-line ``DatabricksConfigError`` naming the argument, before any request. The statement runs
through ``DatabricksSqlHook`` (the Statement Execution API). Unlike the official operator (which
returns nothing), the result row is returned: ``{"num_affected_rows": ..., "num_inserted_rows":
..., "num_skipped_corrupt_files": ...}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.sql_dbapi import DatabricksSqlHook

if TYPE_CHECKING:
    from airflow.sdk import Context

COPY_INTO_APPROVED_FORMATS = ("CSV", "JSON", "AVRO", "ORC", "PARQUET", "TEXT", "BINARYFILE")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAME_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|`(?:[^`]|``)+`")
_OPTION_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_DISALLOWED_SQL_TOKENS = (";", "--", "/*", "*/")


def quote(value: Any) -> str:
    """A SQL literal: strings single-quoted with ``\\`` and ``'`` escaped, as Databricks reads them."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table_identifier(name: str, field: str = "table_name") -> str:
    """``table``, ``schema.table`` or ``catalog.schema.table``; parts plain or back-quoted."""
    parts: list[str] = []
    position = 0
    while True:
        match = _NAME_PART.match(name, position)
        if match is None:
            raise DatabricksConfigError(
                f"{field} {name!r} is not a table name: use table, schema.table or catalog.schema.table"
                " (letters, digits and _, or `back-quoted` parts)"
            )
        parts.append(match.group())
        position = match.end()
        if position == len(name):
            break
        if name[position] != ".":
            raise DatabricksConfigError(f"{field} {name!r}: unexpected {name[position]!r} at {position}")
        position += 1
    if len(parts) > 3:
        raise DatabricksConfigError(f"{field} {name!r} has more than three parts")
    return ".".join(parts)


def _options(
    clause: str, field: str, options: Mapping[str, Any] | None, *, quote_keys: bool, redact: bool = False
) -> str:
    if not options:
        return ""
    if not isinstance(options, Mapping):
        raise DatabricksConfigError(f"{field} must be a dict of option names to values")
    pairs = []
    for key, value in options.items():
        if not isinstance(key, str) or not _OPTION_KEY.match(key):
            raise DatabricksConfigError(f"{field}: {key!r} is not an option name")
        if value is None or isinstance(value, Mapping | list | tuple | set):
            raise DatabricksConfigError(f"{field}: the value of {key!r} must be a string, number or bool")
        pairs.append(f"{quote(key) if quote_keys else key} = {quote('***' if redact else value)}")
    return f"{clause} ({', '.join(pairs)})"


def check_expression_list(expression_list: str) -> None:
    """One SELECT list: no statement separators or comments, quotes and parentheses balanced."""
    for token in _DISALLOWED_SQL_TOKENS:
        if token in expression_list:
            raise DatabricksConfigError("expression_list must not contain statement separators or comments")
    import sqlglot
    from sqlglot.tokens import TokenType

    try:
        toks = sqlglot.Dialect.get_or_raise("databricks").tokenize(expression_list)
    except Exception as err:
        raise DatabricksConfigError(f"expression_list does not parse: {str(err).splitlines()[0]}") from None
    depth = 0
    for tok in toks:
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tok.token_type, 0)
        if depth < 0:
            break
    if depth != 0:
        raise DatabricksConfigError("expression_list has unbalanced parentheses")


class DatabricksCopyIntoOperator(BaseOperator):
    """Run ``COPY INTO <table_name> FROM <file_location>`` on a SQL warehouse (the official arguments).

    The warehouse: ``http_path`` (``/sql/1.0/warehouses/<id>``), ``sql_endpoint_name``, or
    ``warehouse_id`` in ``hook_params`` or the connection's extras. ``files`` and ``pattern``
    exclude each other; ``force_copy`` sets ``COPY_OPTIONS ('force' = ...)``; ``validate`` is
    ``True`` (``VALIDATE ALL``) or a row count. Thrift-driver options (``session_configuration``,
    ``http_headers``, ``client_parameters``) and ``query_tags`` are accepted and not used.
    """

    template_fields: Sequence[str] = (
        "file_location",
        "files",
        "table_name",
        "databricks_conn_id",
        "query_tags",
    )
    ui_color = "#1CB1C2"

    def __init__(
        self,
        *,
        table_name: str,
        file_location: str,
        file_format: str,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        http_path: str | None = None,
        sql_endpoint_name: str | None = None,
        session_configuration: dict[str, str] | None = None,
        http_headers: list[tuple[str, str]] | None = None,
        client_parameters: dict[str, Any] | None = None,
        catalog: str | None = None,
        schema: str | None = None,
        files: list[str] | None = None,
        pattern: str | None = None,
        expression_list: str | None = None,
        credential: dict[str, str] | None = None,
        storage_credential: str | None = None,
        encryption: dict[str, str] | None = None,
        format_options: dict[str, str] | None = None,
        force_copy: bool | None = None,
        copy_options: dict[str, str] | None = None,
        validate: bool | int | None = None,
        query_tags: dict[str, str | None] | None = None,
        include_airflow_query_tags: bool = True,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(file_format, str) or file_format.upper() not in COPY_INTO_APPROVED_FORMATS:
            raise DatabricksConfigError(
                f"file_format {file_format!r} is not one of {', '.join(COPY_INTO_APPROVED_FORMATS)}"
            )
        if files is not None and pattern is not None:
            raise DatabricksConfigError("files and pattern exclude each other: give one of them")
        if expression_list is not None:
            check_expression_list(expression_list)
        if storage_credential is not None and not _PLAIN_NAME.match(storage_credential):
            raise DatabricksConfigError(f"storage_credential {storage_credential!r} is not a credential name")
        if validate is not None and not isinstance(validate, bool):
            if not isinstance(validate, int) or validate <= 0:
                raise DatabricksConfigError(
                    f"validate must be True, False or a positive row count, not {validate!r}"
                )
        self.table_name = table_name
        self.file_location = file_location
        self.files = files
        self._file_format = file_format.upper()
        self.databricks_conn_id = databricks_conn_id
        self._http_path = http_path
        self._sql_endpoint_name = sql_endpoint_name
        self.session_config = session_configuration
        self._http_headers = http_headers
        self._client_parameters = client_parameters or {}
        self._catalog = catalog
        self._schema = schema
        self._pattern = pattern
        self._expression_list = expression_list
        self._credential = credential
        self._storage_credential = storage_credential
        self._encryption = encryption
        self._format_options = format_options
        self._copy_options = dict(copy_options or {})
        if force_copy is not None:
            self._copy_options["force"] = "true" if force_copy else "false"
        self._validate = validate
        self.query_tags = query_tags or {}
        self.include_airflow_query_tags = include_airflow_query_tags
        self.hook_params = dict(hook_params or {})
        self._sql: str | None = None
        # the options render now, so that a bad one fails at DAG parse time, not in the worker
        self._option_clauses()

    @cached_property
    def _hook(self) -> DatabricksSqlHook:
        return DatabricksSqlHook(
            self.databricks_conn_id,
            http_path=self._http_path,
            sql_endpoint_name=self._sql_endpoint_name,
            session_configuration=self.session_config,
            http_headers=self._http_headers,
            catalog=self._catalog,
            schema=self._schema,
            caller="DatabricksCopyIntoOperator",
            **self.hook_params,
        )

    def _get_hook(self) -> DatabricksSqlHook:
        return self._hook

    def _option_clauses(self, redact: bool = False) -> tuple[str, str, str]:
        """(source WITH clause, FORMAT_OPTIONS, COPY_OPTIONS); ``redact`` hides credential values."""
        source_with = ""
        if self._credential is not None or self._encryption is not None:
            credential = _options(
                "CREDENTIAL", "credential", self._credential, quote_keys=False, redact=redact
            )
            encryption = _options(
                "ENCRYPTION", "encryption", self._encryption, quote_keys=False, redact=redact
            )
            source_with = f" WITH ({' '.join(c for c in (credential, encryption) if c)})"
        return (
            source_with,
            _options("FORMAT_OPTIONS", "format_options", self._format_options, quote_keys=True),
            _options("COPY_OPTIONS", "copy_options", self._copy_options, quote_keys=True),
        )

    def _create_sql_query(self, redact: bool = False) -> str:
        """The statement, from the rendered arguments (checked here, before any request)."""
        if not self.table_name:
            raise DatabricksConfigError("table_name must not be empty")
        if not self.file_location:
            raise DatabricksConfigError("file_location must not be empty")
        if self.files is not None and self._pattern is not None:
            raise DatabricksConfigError("files and pattern exclude each other: give one of them")
        table = table_identifier(str(self.table_name))
        source_with, format_options, copy_options = self._option_clauses(redact)
        location = quote(self.file_location) + source_with
        if self._expression_list is not None:
            location = f"(SELECT {self._expression_list} FROM {location})"
        lines = [
            f"COPY INTO {table}"
            + (f" WITH (CREDENTIAL {self._storage_credential})" if self._storage_credential else ""),
            f"FROM {location}",
            f"FILEFORMAT = {self._file_format}",
        ]
        if self._validate is True:
            lines.append("VALIDATE ALL")
        elif self._validate is not None and self._validate is not False:
            lines.append(f"VALIDATE {int(self._validate)} ROWS")
        if self._pattern is not None:
            lines.append(f"PATTERN = {quote(self._pattern)}")
        elif self.files is not None:
            files = [self.files] if isinstance(self.files, str) else list(self.files)
            if not files:
                raise DatabricksConfigError("files must list at least one file")
            lines.append(f"FILES = ({', '.join(quote(f) for f in files)})")
        lines += [clause for clause in (format_options, copy_options) if clause]
        return "\n".join(lines)

    def execute(self, context: Context) -> dict[str, Any]:
        self._sql = self._create_sql_query()
        self.log.info("Executing: %s", self._create_sql_query(redact=True))  # no secret in the log
        cursor = self._get_hook().get_conn().cursor()
        cursor.execute(self._sql)
        names = [str(d[0]) for d in cursor.description or []]
        row = cursor.fetchone()
        result = dict(zip(names, row, strict=False)) if row is not None else {}
        self.log.info("COPY INTO %s: %s", self.table_name, result)
        return result

    def on_kill(self) -> None:
        """Nothing to do here: the hook cancels its running statement."""
