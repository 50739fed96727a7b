"""Defaults common to the run operators, the run sensor and the run trigger.

The default connection id is the hooks' own: ``airflow_dbx_provider.hooks.DEFAULT_CONN_ID``.
"""

from __future__ import annotations

from airflow_dbx_provider._compat import conf

#: Seconds between state checks: sync waits, sensor pokes and the trigger's detection delay.
DEFAULT_POLLING_PERIOD_SECONDS = 30


def default_deferrable() -> bool:
    """``[operators] default_deferrable``: whether a wait defers when ``deferrable`` is not given."""
    return conf.getboolean("operators", "default_deferrable", fallback=False)
