"""The emulator's workspace UI: runs, jobs, DBFS, Delta tables and secret scopes in a browser."""

from airflow_dbx_provider.emulator.ui.pages import handle_ui, is_ui_path
from airflow_dbx_provider.emulator.ui.sessions import UiSessions

__all__ = ["UiSessions", "handle_ui", "is_ui_path"]
