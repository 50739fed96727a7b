"""Checks of the ids an operator or sensor is given (after templating), made before any API call.

A rendered template is a string, so ``run_id="12abc"`` or ``job_id="{{ bad }}"`` would otherwise
surface as a bare ``ValueError`` traceback from ``int()``, or be sent to the workspace. Each check
raises one line naming the argument, like the operators' other bad-input errors.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_dbx_provider.exceptions import DatabricksConfigError

#: Databricks job and run ids are positive int64 values.
MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"^\s*\+?[0-9]{1,19}\s*$")
_CLUSTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def positive_id(value: Any, name: str) -> int:
    """``value`` as a positive int64 id (an int, or a string of digits); else one-line DatabricksConfigError."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    if number is None or not 0 < number <= MAX_ID:
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise DatabricksConfigError(f"{name} must be a positive integer, got {shown}")
    return number


def is_cluster_id(value: Any) -> bool:
    """A plausible cluster id: letters, digits, '-', '_' and '.' (e.g. ``0923-164208-meows279``)."""
    return isinstance(value, str) and bool(_CLUSTER_ID.fullmatch(value))
