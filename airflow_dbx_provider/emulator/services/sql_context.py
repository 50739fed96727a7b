"""What one SQL statement's execution knows; shared by the engine and the statements it delegates to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb


@dataclass
class StatementContext:
    """Defaults, parameters, who runs it, and a hook to reach its DuckDB connection."""

    catalog: str | None = None
    schema: str | None = None
    parameters: list[dict[str, Any]] = field(default_factory=list)
    user: str = ""
    on_connect: Callable[[duckdb.DuckDBPyConnection], None] = lambda con: None
