"""Requests that span services, orchestrated here so no service calls back up into another.

Deleting a job removes its runs (killing their task processes), then its settings and ACL
(the jobs service drops the ACL through permissions). Everything else a handler calls lives
in one service, or in one that depends only downward (runs → jobs → permissions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.services.jobs import JobsService
    from airflow_dbx_provider.emulator.services.runs import RunsService


class JobOperations:
    def __init__(self, jobs: JobsService, runs: RunsService) -> None:
        self._jobs = jobs
        self._runs = runs

    def delete_job(self, principal: Principal, job_id: int) -> None:
        """jobs/delete: needs CAN_MANAGE; the job's runs go first, then the job and its ACL."""
        self._jobs.check(principal, job_id, "CAN_MANAGE")
        self._runs.forget_job(job_id)
        self._jobs.delete(job_id)
