"""Job ACLs: CAN_VIEW < CAN_MANAGE_RUN < CAN_MANAGE ≤ IS_OWNER, admins inherit CAN_MANAGE.

One document per job (`job_acls/<job_id>`): `{"entries": [{"kind", "name", "level"}]}` where
kind is the wire field (`user_name`, `group_name`, `service_principal_name`). Exactly one
entry is IS_OWNER. A PUT without an owner keeps the current owner (Databricks answered
500 "The job must have exactly one owner." in 2022; current behaviour is unverified, and
keeping the owner is what clients that replace an ACL expect).

Every job has an ACL document from its creation (saved jobs and the one-off jobs of
runs/submit alike) until it is deleted, so "the job exists" is "its ACL exists" here and this
service needs no other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import invalid_parameter, permission_denied, resource_does_not_exist
from airflow_dbx_provider.emulator.services.object_acls import KINDS, Grant, is_admin, render_acl

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.store import Store

RANKS = {"CAN_VIEW": 1, "CAN_MANAGE_RUN": 2, "CAN_MANAGE": 3, "IS_OWNER": 4}
LABELS = {"CAN_VIEW": "View", "CAN_MANAGE_RUN": "Manage Run", "CAN_MANAGE": "Manage", "IS_OWNER": "Owner"}
DESCRIPTIONS = {
    "CAN_VIEW": "Can view the job, its settings and run results",
    "CAN_MANAGE_RUN": "Can view the job, and run or cancel it",
    "IS_OWNER": "Owns the job; can manage it and its permissions",
    "CAN_MANAGE": "Can manage the job: edit settings, delete it and change its permissions",
}


class PermissionsService:
    def __init__(self, store: Store) -> None:
        self._acls = store.collection("job_acls")

    # ---- contract used by jobs and runs ------------------------------------------------------
    def on_job_created(self, job_id: int, owner: Principal) -> None:
        kind, name = owner.principal_key
        self._acls.put(job_id, {"entries": [{"kind": kind, "name": name, "level": "IS_OWNER"}]})

    def on_job_deleted(self, job_id: int) -> None:
        self._acls.delete(job_id)

    def job_permission_level(self, principal: Principal, job_id: int) -> str | None:
        """The highest level the principal holds directly, through a group, or as an admin."""
        levels = []
        if is_admin(principal):
            levels.append("CAN_MANAGE")
        groups = {"users", *principal.groups}
        for entry in self._entries(job_id):
            if (entry["kind"] == "group_name" and entry["name"] in groups) or (
                entry["kind"] != "group_name" and entry["name"] == principal.name
            ):
                levels.append(entry["level"])
        return max(levels, key=RANKS.__getitem__) if levels else None

    def check_job(self, principal: Principal, job_id: int, required_level: str) -> None:
        granted = self.job_permission_level(principal, job_id)
        if granted is None or RANKS[granted] < RANKS[required_level]:
            label = LABELS.get(required_level, required_level)
            raise permission_denied(
                f"User {principal.name} does not have {label} permissions on Job with ID: {job_id}."
            )

    def apply_job_acl(
        self, job_id: int, access_control_list: list[dict[str, Any]] | None, principal: Principal
    ) -> None:
        """What jobs/create's `access_control_list` and Airflow's PATCH do: upsert the entries."""
        if access_control_list:
            self.update_job_permissions(principal, job_id, access_control_list, replace=False)

    # ---- API operations ----------------------------------------------------------------------
    def get_job_permissions(self, principal: Principal, job_id: int) -> dict[str, Any]:
        job = self._job_id(job_id)
        self.check_job(principal, job, "CAN_VIEW")
        return self._render(job)

    def permission_levels(self, principal: Principal, job_id: int) -> list[dict[str, str]]:
        job = self._job_id(job_id)
        self.check_job(principal, job, "CAN_VIEW")
        return [{"permission_level": level, "description": text} for level, text in DESCRIPTIONS.items()]

    def update_job_permissions(
        self, principal: Principal, job_id: int, access_control_list: Any, *, replace: bool
    ) -> dict[str, Any]:
        """PUT (`replace=True`) sets every direct permission; PATCH upserts the listed principals."""
        job = self._job_id(job_id)
        self.check_job(principal, job, "CAN_MANAGE")
        requested = self._parse(access_control_list)
        current = self._entries(job)
        owner = next((e for e in current if e["level"] == "IS_OWNER"), None)
        new_owners = [e for e in requested if e["level"] == "IS_OWNER"]
        if len(new_owners) > 1:
            raise invalid_parameter("The job must have exactly one owner.")
        if replace:
            entries = list(requested)
        else:
            touched = {(e["kind"], e["name"]) for e in requested}
            entries = [e for e in current if (e["kind"], e["name"]) not in touched] + requested
        if new_owners:
            entries = [e for e in entries if e["level"] != "IS_OWNER" or e is new_owners[0]]
        elif owner is not None and not any(e["level"] == "IS_OWNER" for e in entries):
            entries = [e for e in entries if (e["kind"], e["name"]) != (owner["kind"], owner["name"])] + [
                owner
            ]
        self._acls.put(job, {"entries": entries})
        return self._render(job)

    # ---- internals ---------------------------------------------------------------------------
    def _job_id(self, job_id: int) -> int:
        if job_id not in self._acls:
            raise resource_does_not_exist(f"Job {job_id} does not exist.")
        return job_id

    def _entries(self, job_id: int) -> list[dict[str, Any]]:
        doc = self._acls.get(job_id)
        return list(doc["entries"]) if doc else []

    @staticmethod
    def _parse(access_control_list: Any) -> list[dict[str, Any]]:
        if access_control_list is None:
            return []
        if not isinstance(access_control_list, list):
            raise invalid_parameter("access_control_list must be a list.")
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        for item in access_control_list:
            if not isinstance(item, dict):
                raise invalid_parameter("Each access_control_list entry must be an object.")
            named = [(kind, item[kind]) for kind in KINDS if item.get(kind)]
            if len(named) != 1:
                raise invalid_parameter(
                    "Each access control entry needs exactly one of user_name, group_name or service_principal_name."
                )
            kind, name = named[0]
            level = str(item.get("permission_level") or "").upper()
            if level not in RANKS:
                raise invalid_parameter(f"Permission level {level or '(missing)'} is not supported for jobs.")
            if level == "IS_OWNER" and kind == "group_name":
                raise invalid_parameter(f"Group {name} cannot be the owner of a job.")
            entries[(kind, str(name))] = {"kind": kind, "name": str(name), "level": level}
        return list(entries.values())

    def _render(self, job_id: int) -> dict[str, Any]:
        """The §7 response: direct entries grouped per principal, plus the inherited admins group."""
        grants = [Grant(e["kind"], e["name"], e["level"]) for e in self._entries(job_id)]
        return render_acl("jobs", job_id, "job", grants)
