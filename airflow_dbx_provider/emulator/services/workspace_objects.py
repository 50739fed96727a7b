"""(being written)"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.workspace_state import WorkspaceState


class WorkspaceObjectsService:
    def __init__(self, state: WorkspaceState) -> None:
        self.state = state
