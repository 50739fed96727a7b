"""Jobs API methods (``/api/{2.2|2.1}/jobs/...``) of the sync hook: one short method per REST call.

The run calls the async hook needs too (``get_run``, ``list_runs_page``, ``cancel_run``) live in
:mod:`.common_api`, written once for both hooks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from airflow_dbx_provider.exceptions import DatabricksInvalidParameterError
from airflow_dbx_provider.hooks.api import EP, JOB_PAGED_KEYS, Endpoint, runs_list_params
from airflow_dbx_provider.hooks.core import ClientCore
from airflow_dbx_provider.hooks.exchange import Flow

T = TypeVar("T")


class _Caller(ClientCore):
    """What the sync mixins need from the hook (implemented by ``DatabricksHook``)."""

    def _run(self, flow: Flow[T]) -> T:
        raise NotImplementedError

    def call(
        self, endpoint: Endpoint, /, *, retry_deadline_seconds: float | None = None, **params: Any
    ) -> Any:
        raise NotImplementedError

    def _iterate(self, endpoint: Endpoint, item_key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Yield every item of a token-paginated list; stop only when next_page_token is missing/empty."""
        token: str | None = None
        while True:
            page = self.call(endpoint, **params, page_token=token)
            yield from page.get(item_key) or []
            token = page.get("next_page_token")
            if not token:
                return


class JobsMixin(_Caller):
    def create_job(self, settings: dict[str, Any], **extra: Any) -> int:
        """Create a saved job; returns its ``job_id``. Not retried on 5xx (it would duplicate the job)."""
        return int(self.call(EP.JOBS_CREATE, **{**settings, **extra})["job_id"])

    def get_job(
        self, job_id: int, *, retry_deadline_seconds: float | None = None, **extra: Any
    ) -> dict[str, Any]:
        """The job, with every page of ``tasks``/``job_clusters`` merged (2.2 pages them at 100)."""
        params = {"job_id": job_id, **extra}
        return self._run(self._paged_flow(EP.JOBS_GET, JOB_PAGED_KEYS, params, retry_deadline_seconds))

    def list_jobs(
        self, name: str | None = None, expand_tasks: bool = False, limit: int = 100, **extra: Any
    ) -> Iterator[dict[str, Any]]:
        """Every job (all pages), optionally filtered by exact name."""
        return self._iterate(EP.JOBS_LIST, "jobs", name=name, expand_tasks=expand_tasks, limit=limit, **extra)

    def find_job_id_by_name(self, name: str) -> int | None:
        """The id of the one job called ``name``, None if none; raises if the name is ambiguous."""
        ids = [int(job["job_id"]) for job in self.list_jobs(name=name)]
        if len(ids) > 1:
            raise DatabricksInvalidParameterError(
                f"{len(ids)} jobs are named {name!r} (ids {', '.join(map(str, ids[:10]))}); use a job_id",
                status_code=400,
                error_code="AMBIGUOUS_JOB_NAME",
                method="GET",
                endpoint="jobs/list",
            )
        return ids[0] if ids else None

    def update_job(
        self,
        job_id: int,
        new_settings: dict[str, Any],
        fields_to_remove: list[str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        return self.call(
            EP.JOBS_UPDATE,
            job_id=job_id,
            new_settings=new_settings,
            fields_to_remove=fields_to_remove,
            **extra,
        )

    def reset_job(self, job_id: int, new_settings: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return self.call(EP.JOBS_RESET, job_id=job_id, new_settings=new_settings, **extra)

    def delete_job(self, job_id: int, **extra: Any) -> dict[str, Any]:
        return self.call(EP.JOBS_DELETE, job_id=job_id, **extra)

    def run_now(self, job_id: int, **params: Any) -> dict[str, Any]:
        """Trigger a job; returns ``{run_id, number_in_job}``. Pass ``idempotency_token`` to make it retry-safe."""
        return self.call(EP.JOBS_RUN_NOW, job_id=job_id, **params)

    def submit_run(self, spec: dict[str, Any], **extra: Any) -> int:
        """Submit a one-time run; returns ``run_id``. Retried on 5xx only if it carries ``idempotency_token``."""
        return int(self.call(EP.RUNS_SUBMIT, **{**spec, **extra})["run_id"])

    def get_run_output(self, run_id: int, **extra: Any) -> dict[str, Any]:
        """Output of a task run (a multi-task parent run is rejected by Databricks)."""
        return self.call(EP.RUNS_GET_OUTPUT, run_id=run_id, **extra)

    def list_runs(
        self,
        job_id: int | None = None,
        active_only: bool = False,
        completed_only: bool = False,
        run_type: str | None = None,
        limit: int = 25,
        expand_tasks: bool = False,
        **extra: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every run (all pages), newest first."""
        params = runs_list_params(job_id, active_only, completed_only, run_type, limit, expand_tasks)
        return self._iterate(EP.RUNS_LIST, "runs", **params, **extra)

    def cancel_all_runs(
        self, job_id: int | None = None, all_queued_runs: bool = False, **extra: Any
    ) -> dict[str, Any]:
        return self.call(EP.RUNS_CANCEL_ALL, job_id=job_id, all_queued_runs=all_queued_runs or None, **extra)

    def delete_run(self, run_id: int, **extra: Any) -> dict[str, Any]:
        return self.call(EP.RUNS_DELETE, run_id=run_id, **extra)

    def repair_run(
        self,
        run_id: int,
        rerun_tasks: list[str] | None = None,
        rerun_all_failed_tasks: bool = False,
        latest_repair_id: int | None = None,
        **overrides: Any,
    ) -> int:
        """Re-run failed or chosen tasks of a run; returns ``repair_id``."""
        answer = self.call(
            EP.RUNS_REPAIR,
            run_id=run_id,
            rerun_tasks=rerun_tasks,
            rerun_all_failed_tasks=rerun_all_failed_tasks or None,
            latest_repair_id=latest_repair_id,
            **overrides,
        )
        return int(answer["repair_id"])

    def get_run_page_url(self, run_id: int) -> str:
        return str(self.call(EP.RUNS_GET, run_id=run_id)["run_page_url"])
