"""Importing this package registers every API route with `routing.route`."""

from airflow_dbx_provider.emulator.handlers import (  # noqa: F401
    clusters,
    dbfs,
    identity,
    jobs,
    permissions,
    secrets,
    workspace,
)
