"""The Delta table view: schema, history and first rows of a DBFS folder holding `_delta_log`.

Read with `deltalake` (the emulator extra) in a worker thread, never on the event loop. Every
value is made JSON-safe here (dates, decimals and bytes become strings), so the page only ever
puts text into the DOM.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
from pathlib import Path
from typing import Any

from airflow_dbx_provider.emulator.errors import EmulatorError, invalid_parameter

MAX_ROWS = 100
MAX_HISTORY = 50
MAX_CELL_CHARS = 1000


def read_delta_table(folder: Path, dbfs_path: str, rows: int) -> dict[str, Any]:
    """What the page shows of the table at `folder` (the local path of `dbfs_path`)."""
    if not (folder / "_delta_log").is_dir():
        raise invalid_parameter(f"{dbfs_path} is not a Delta table: it has no _delta_log folder.")
    try:
        from deltalake import DeltaTable
    except ImportError:
        raise EmulatorError(
            "FEATURE_DISABLED",
            "The Delta table view needs the `deltalake` package (pip install 'airflow-dbx-provider[emulator]').",
            501,
        ) from None
    try:
        table = DeltaTable(str(folder))
        root = folder.resolve()
        for uri in table.file_uris():
            # A log is data a notebook wrote: never let it point the reader outside the table.
            local = Path(uri.removeprefix("file://"))
            if not local.resolve().is_relative_to(root):
                raise invalid_parameter(f"{dbfs_path}: the Delta log names a file outside the table.")
        schema = [
            {"name": field.name, "type": _type_name(field.type), "nullable": bool(field.nullable)}
            for field in table.schema().fields
        ]
        metadata = table.metadata()
        history = [_history_entry(entry) for entry in table.history(MAX_HISTORY)]
        head = table.to_pyarrow_dataset().head(max(0, min(rows, MAX_ROWS)))
        columns = list(head.column_names)
        values = [[_cell(row.get(name)) for name in columns] for row in head.to_pylist()]
    except EmulatorError:
        raise
    except Exception as exc:  # a corrupt or unreadable log: say so, do not answer 500
        raise invalid_parameter(
            f"{dbfs_path}: cannot read the Delta table ({type(exc).__name__}: {exc})."
        ) from None
    return {
        "path": dbfs_path,
        "version": table.version(),
        "name": metadata.name,
        "description": metadata.description,
        "partition_columns": list(metadata.partition_columns),
        "num_files": len(table.file_uris()),
        "schema": schema,
        "history": history,
        "columns": columns,
        "rows": values,
    }


def _type_name(delta_type: Any) -> str:
    primitive = getattr(delta_type, "type", None)
    if isinstance(primitive, str):
        return primitive
    to_json = getattr(delta_type, "to_json", None)
    return str(to_json() if callable(to_json) else delta_type)


def _history_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": entry.get("version"),
        "timestamp": entry.get("timestamp"),
        "operation": entry.get("operation"),
        "parameters": _cell(entry.get("operationParameters") or {}),
        "metrics": _cell(entry.get("operationMetrics") or {}),
    }


def _cell(value: Any) -> Any:
    """A JSON-safe, bounded rendering of one value."""
    text: Any
    if value is None or isinstance(value, bool | int | str):
        text = value
    elif isinstance(value, float):
        text = value if math.isfinite(value) else str(value)
    elif isinstance(value, dt.datetime | dt.date | dt.time):
        text = value.isoformat()
    elif isinstance(value, decimal.Decimal | dt.timedelta):
        text = str(value)
    elif isinstance(value, bytes):
        text = "base64:" + base64.b64encode(value[:MAX_CELL_CHARS]).decode()
    elif isinstance(value, dict):
        text = {str(k): _cell(v) for k, v in value.items()}
    elif isinstance(value, list | tuple):
        text = [_cell(v) for v in value]
    else:
        text = str(value)
    if isinstance(text, str) and len(text) > MAX_CELL_CHARS:
        return text[:MAX_CELL_CHARS] + "…"
    return text
