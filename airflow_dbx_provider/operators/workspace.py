"""Put a notebook into the workspace as a DAG step, so a DAG can ship the code its job runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.runs.hook_mixin import DatabricksHookMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

#: File suffix -> the Workspace API's `language` for a SOURCE import.
LANGUAGE_BY_SUFFIX = {".py": "PYTHON", ".sql": "SQL", ".scala": "SCALA", ".r": "R"}
LANGUAGES = frozenset(LANGUAGE_BY_SUFFIX.values())


class DatabricksImportNotebookOperator(DatabricksHookMixin, BaseOperator):
    """Import a notebook (``source_file`` on the Airflow worker, or inline ``content``) to
    ``workspace_path``; returns the workspace path.

    Overwrites by default, so re-running the DAG deploys the current version of the notebook. The
    parent folder is created first (``workspace/mkdirs`` is idempotent).
    """

    template_fields: Sequence[str] = ("workspace_path", "source_file", "content", "databricks_conn_id")
    ui_color = "#1CB1C2"

    def __init__(
        self,
        *,
        workspace_path: str,
        source_file: str | Path | None = None,
        content: str | None = None,
        language: str | None = None,
        overwrite: bool = True,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (source_file is None) == (content is None):
            raise DatabricksConfigError("give exactly one of source_file and content")
        if language is not None and language.upper() not in LANGUAGES:
            raise DatabricksConfigError(
                f"language must be one of {', '.join(sorted(LANGUAGES))}, got {language!r}"
            )
        self.workspace_path = workspace_path
        self.source_file = str(source_file) if source_file is not None else None
        self.content = content
        self.language = language.upper() if language else None
        self.overwrite = overwrite
        self._use_connection(databricks_conn_id, hook_params)

    def execute(self, context: Context) -> str:
        path = str(self.workspace_path)
        if not path.startswith("/") or "\x00" in path:
            raise DatabricksConfigError(f"workspace_path must be an absolute workspace path, got {path!r}")
        data, language = self._source()
        parent = path.rsplit("/", 1)[0]
        if parent:
            self.hook.workspace_mkdirs(parent)
        self.hook.workspace_import(path, data, format="SOURCE", language=language, overwrite=self.overwrite)
        self.log.info("Imported %s notebook to %s (%d bytes)", language, path, len(data))
        return path

    def _source(self) -> tuple[bytes, str]:
        if self.content is not None:
            return self.content.encode(), self.language or "PYTHON"
        file = Path(str(self.source_file))
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise DatabricksConfigError(f"source_file {file}: {exc.strerror or exc}") from None
        language = self.language or LANGUAGE_BY_SUFFIX.get(file.suffix.lower())
        if language is None:
            raise DatabricksConfigError(
                f"source_file {file}: cannot tell the notebook language from {file.suffix!r}; pass language="
            )
        return data, language
