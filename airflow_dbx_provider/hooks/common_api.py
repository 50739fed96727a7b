"""REST methods both hooks carry: what triggers and deferrable operators and sensors call.

Each method builds a flow (:mod:`.core`) and hands it to ``_run``. ``DatabricksHook._run`` drives
it and returns the value (``JsonT`` is ``dict[str, Any]``); ``DatabricksAsyncHook._run`` returns a
coroutine of it, so ``await hook.get_run(...)`` works. A call both hooks need is one method here
plus its :class:`~airflow_dbx_provider.hooks.api.EP` entry; sync-only calls live in the mixins.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from airflow_dbx_provider.hooks.api import EP, RUN_PAGED_KEYS, runs_list_params
from airflow_dbx_provider.hooks.core import ClientCore
from airflow_dbx_provider.hooks.exchange import Flow

JsonT = TypeVar("JsonT")


class CommonApi(ClientCore, Generic[JsonT]):
    """``get_run``, ``list_runs_page`` and ``cancel_run`` for both hooks (the run pollers' calls)."""

    def _run(self, flow: Flow[dict[str, Any]]) -> JsonT:
        raise NotImplementedError

    def get_run(
        self,
        run_id: int,
        include_history: bool = False,
        *,
        retry_deadline_seconds: float | None = None,
        **extra: Any,
    ) -> JsonT:
        """The run, with every page of ``tasks`` (and the other 2.2 paged arrays) merged."""
        params = {"run_id": run_id, "include_history": include_history, **extra}
        return self._run(self._paged_flow(EP.RUNS_GET, RUN_PAGED_KEYS, params, retry_deadline_seconds))

    def list_runs_page(
        self,
        job_id: int | None = None,
        active_only: bool = False,
        completed_only: bool = False,
        run_type: str | None = None,
        limit: int = 25,
        expand_tasks: bool = False,
        page_token: str | None = None,
        *,
        retry_deadline_seconds: float | None = None,
        **extra: Any,
    ) -> JsonT:
        """One page of runs: ``{runs, next_page_token?}``, newest first."""
        params = runs_list_params(job_id, active_only, completed_only, run_type, limit, expand_tasks)
        params = {**params, "page_token": page_token, **extra}
        return self._run(self._call_flow(EP.RUNS_LIST, params, retry_deadline_seconds))

    def cancel_run(self, run_id: int, *, retry_deadline_seconds: float | None = None, **extra: Any) -> JsonT:
        """Ask for cancellation (asynchronous on the server side)."""
        params = {"run_id": run_id, **extra}
        return self._run(self._call_flow(EP.RUNS_CANCEL, params, retry_deadline_seconds))
