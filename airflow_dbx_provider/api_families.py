"""Endpoint families and their request rates: one table for the hook's limiter and the emulator's.

Databricks limits requests per endpoint family, not per workspace: ``runs/get`` polls go at the
runs-read rate without eating the budget of ``runs/submit`` or DBFS uploads. The hooks pace
themselves per family (``hooks/rate_limit.py``) and the emulator answers 429 per family
(``emulator/control.py``); both read this module, so they cannot drift apart.

A pure leaf module: standard library only, no Airflow, no hooks, no emulator.
"""

from __future__ import annotations

#: Requests/s per workspace for each family. The figures Databricks is reported to publish
#: (runs/get 100, runs/submit 35, jobs/create 20, DBFS 30, permissions 100, workspace 60; third
#: party, unverified); clusters and secrets at 50; 30 where nothing is published.
FAMILY_RATES: dict[str, float] = {
    "runs_read": 100.0,  # runs/get, runs/list, runs/get-output
    "runs_submit": 35.0,  # runs/submit, run-now
    "runs_write": 30.0,  # runs/cancel, cancel-all, delete, repair
    "jobs": 20.0,  # jobs/create, reset, update, delete
    "jobs_read": 30.0,  # jobs/get, jobs/list
    "clusters": 50.0,
    "dbfs": 30.0,
    "secrets": 50.0,
    "workspace": 60.0,
    "permissions": 100.0,
    "sql_statements": 50.0,  # sql/statements: execute, get, cancel, result chunks (unpublished)
    "sql_warehouses": 20.0,  # sql/warehouses (unpublished)
    "other": 30.0,  # SCIM, OAuth token endpoints, anything not listed
}

OTHER = "other"


def family_of(method: str, path: str) -> str:
    """The family of ``method path``.

    ``path`` is either a full API path (``/api/2.2/jobs/runs/get``) or one relative to the version
    (``/jobs/runs/get``, as in the emulator's route templates). ``/preview/`` prefixes are ignored
    (``/api/2.0/preview/permissions/...`` is a permissions call).
    """
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        parts = parts[2:]
    elif parts and parts[0] in ("oidc", ".well-known"):
        return OTHER
    if parts and parts[0] == "preview":
        parts = parts[1:]
    if not parts:
        return OTHER
    service, action = parts[0], "/".join(parts[1:])
    if service == "jobs":
        if action in ("run-now", "runs/submit"):
            return "runs_submit"
        if action.startswith("runs/"):
            return "runs_read" if method.upper() == "GET" else "runs_write"
        return "jobs_read" if method.upper() == "GET" else "jobs"
    if service == "sql" and action.split("/", 1)[0] in ("statements", "warehouses"):
        return f"sql_{action.split('/', 1)[0]}"
    return service if service in FAMILY_RATES else OTHER


def rate_of(family: str) -> float:
    """The default rate of ``family`` (unknown names get the ``other`` rate)."""
    return FAMILY_RATES.get(family, FAMILY_RATES[OTHER])
