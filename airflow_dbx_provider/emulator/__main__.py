"""`python -m airflow_dbx_provider.emulator` (same as the `dbx-emulator` command)."""

from airflow_dbx_provider.emulator.cli import run

run()
