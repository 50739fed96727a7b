"""Access control lists of notebooks, directories and clusters (Permissions API 2.0).

Levels as Databricks documents them:
- notebooks and directories: CAN_READ < CAN_RUN < CAN_EDIT < CAN_MANAGE;
- clusters: CAN_ATTACH_TO < CAN_RESTART < CAN_MANAGE.

Admins hold CAN_MANAGE on everything; an object's creator holds CAN_MANAGE on it. What a
principal may do is the highest level it holds directly, through a group (every principal is in
`users`), as creator, or inherited from a folder above (the services pass that chain in). One
document per object: `object_acls/<type>/<id>` = `{"entries": [{"kind", "name", "level"}]}`.
This module knows no workspace path or cluster state: the workspace and clusters services ask it.
`render_acl` writes the response for job ACLs (services/permissions.py) as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import invalid_parameter, permission_denied

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.store import Store

WORKSPACE_RANKS = {"CAN_READ": 1, "CAN_RUN": 2, "CAN_EDIT": 3, "CAN_MANAGE": 4}
CLUSTER_RANKS = {"CAN_ATTACH_TO": 1, "CAN_RESTART": 2, "CAN_MANAGE": 3}
RANKS = {"notebooks": WORKSPACE_RANKS, "directories": WORKSPACE_RANKS, "clusters": CLUSTER_RANKS}
OBJECT_TYPES = {"notebooks": "notebook", "directories": "directory", "clusters": "cluster"}
DESCRIPTIONS = {
    "CAN_READ": "Can view and export",
    "CAN_RUN": "Can view, export and run",
    "CAN_EDIT": "Can view, run and edit",
    "CAN_MANAGE": "Can do everything, including delete and change permissions",
    "CAN_ATTACH_TO": "Can attach notebooks and jobs to the cluster",
    "CAN_RESTART": "Can attach to, start, restart and terminate the cluster",
}
KINDS = ("user_name", "group_name", "service_principal_name")
MAX_ACL_ENTRIES = 1000


@dataclass(frozen=True)
class Grant:
    """One source of a level: `name` (a principal or group) holds `level` on the object."""

    kind: str
    name: str
    level: str
    inherited_from: str | None = None  # e.g. "/directories/123"


def is_admin(principal: Principal) -> bool:
    return principal.is_admin or "admins" in principal.groups


class ObjectAcls:
    def __init__(self, store: Store) -> None:
        self._acls = store.collection("object_acls")

    def direct(self, object_type: str, object_id: str | int) -> list[Grant]:
        doc = self._acls.get(f"{object_type}/{object_id}")
        return [Grant(e["kind"], e["name"], e["level"]) for e in (doc or {}).get("entries", [])]

    def forget(self, object_type: str, object_id: str | int) -> None:
        self._acls.delete(f"{object_type}/{object_id}")

    @staticmethod
    def level(principal: Principal, object_type: str, grants: Iterable[Grant]) -> int:
        """The principal's rank on an object given every grant that applies to it (0: none)."""
        ranks = RANKS[object_type]
        if is_admin(principal):
            return max(ranks.values())
        groups = {"users", *principal.groups}
        best = 0
        for grant in grants:
            mine = grant.name in groups if grant.kind == "group_name" else grant.name == principal.name
            if mine:
                best = max(best, ranks.get(grant.level, 0))
        return best

    @staticmethod
    def require(
        principal: Principal, object_type: str, grants: Iterable[Grant], needed: str, what: str
    ) -> None:
        if ObjectAcls.level(principal, object_type, grants) < RANKS[object_type][needed]:
            raise permission_denied(f"User {principal.name} does not have {needed} permission on {what}.")

    def update(self, object_type: str, object_id: str | int, acl: Any, *, replace: bool) -> None:
        """PUT (`replace`) sets every direct entry; PATCH upserts the listed principals."""
        requested = _parse(object_type, acl)
        if replace:
            entries = requested
        else:
            touched = {(e["kind"], e["name"]) for e in requested}
            current = (self._acls.get(f"{object_type}/{object_id}") or {}).get("entries", [])
            entries = [e for e in current if (e["kind"], e["name"]) not in touched] + requested
        if len(entries) > MAX_ACL_ENTRIES:
            raise invalid_parameter(f"An access control list holds at most {MAX_ACL_ENTRIES} entries.")
        self._acls.put(f"{object_type}/{object_id}", {"entries": entries})

    @staticmethod
    def render(object_type: str, object_id: str | int, grants: Iterable[Grant]) -> dict[str, Any]:
        return render_acl(object_type, object_id, OBJECT_TYPES[object_type], grants)

    @staticmethod
    def levels(object_type: str) -> list[dict[str, str]]:
        return [
            {"permission_level": level, "description": DESCRIPTIONS[level]} for level in RANKS[object_type]
        ]


def render_acl(
    object_type: str, object_id: str | int, wire_type: str, grants: Iterable[Grant]
) -> dict[str, Any]:
    """The Permissions API response (job ACLs too): grants grouped per principal, each marked
    inherited or not, plus the admins group's CAN_MANAGE inherited from ``/<object_type>/``."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for grant in grants:
        permission: dict[str, Any] = {
            "permission_level": grant.level,
            "inherited": grant.inherited_from is not None,
        }
        if grant.inherited_from is not None:
            permission["inherited_from_object"] = [grant.inherited_from]
        grouped.setdefault((grant.kind, grant.name), []).append(permission)
    grouped.setdefault(("group_name", "admins"), []).append(
        {
            "permission_level": "CAN_MANAGE",
            "inherited": True,
            "inherited_from_object": [f"/{object_type}/"],
        }
    )
    acl = []
    for (kind, name), permissions in grouped.items():
        item: dict[str, Any] = {kind: name}
        if kind != "group_name":
            item["display_name"] = name
        item["all_permissions"] = permissions
        acl.append(item)
    return {
        "object_id": f"/{object_type}/{object_id}",
        "object_type": wire_type,
        "access_control_list": acl,
    }


def _parse(object_type: str, acl: Any) -> list[dict[str, Any]]:
    if acl is None:
        return []
    if not isinstance(acl, list):
        raise invalid_parameter("access_control_list must be a list.")
    if len(acl) > MAX_ACL_ENTRIES:
        raise invalid_parameter(f"An access control list holds at most {MAX_ACL_ENTRIES} entries.")
    ranks = RANKS[object_type]
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for item in acl:
        if not isinstance(item, dict):
            raise invalid_parameter("Each access_control_list entry must be an object.")
        named = [(kind, item[kind]) for kind in KINDS if item.get(kind)]
        if len(named) != 1 or not isinstance(named[0][1], str) or len(named[0][1]) > 255:
            raise invalid_parameter(
                "Each access control entry needs exactly one of user_name, group_name or service_principal_name."
            )
        kind, name = named[0]
        level = item.get("permission_level")
        if not isinstance(level, str) or level.upper() not in ranks:
            raise invalid_parameter(
                f"Permission level {level!r} is not supported for {object_type}; "
                f"use one of {', '.join(ranks)}."
            )
        entries[(kind, name)] = {"kind": kind, "name": name, "level": level.upper()}
    return list(entries.values())
