"""The workspace directory behind SCIM Users, Groups and ServicePrincipals.

The configured principals (the admin plus `EmulatorConfig.principals`, with their groups) are
the directory's fixed part; users, service principals and groups created over SCIM are kept in
the store (a reset forgets them, and the configured ones come back). A created principal gets
no token: only configured principals can call the API. Ids are stable numbers derived from the
name, so a principal keeps its id across resets and `Me` agrees with `Users`.

Group membership is one relation, read both ways: a group's `members` and a principal's
`groups` (`{"display", "value": group id, "$ref": "Groups/<id>", "type": "direct"}`). Every
workspace has the `admins` and `users` groups; `users` holds every principal and, as on
Databricks, is not listed among a principal's `groups`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import EmulatorError

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.store import Store

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
SP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

# Resource type → (kind stored, the attribute holding its unique name, schema, $ref prefix)
KINDS: dict[str, tuple[str, str, str, str]] = {
    "Users": ("user", "userName", USER_SCHEMA, "Users"),
    "ServicePrincipals": ("service_principal", "applicationId", SP_SCHEMA, "ServicePrincipals"),
    "Groups": ("group", "displayName", GROUP_SCHEMA, "Groups"),
}
SYSTEM_GROUPS = ("admins", "users")
DEFAULT_ENTITLEMENTS = ("workspace-access", "databricks-sql-access")
_FILTER_RE = re.compile(r'^\s*(\w+(?:\.\w+)?)\s+(eq|ne|co|sw|ew)\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


def scim_error(status: int, detail: str, scim_type: str | None = None) -> EmulatorError:
    """SCIM's own error body (the SDK maps it to `SCIM_<status>` and the status class)."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "detail": detail, "status": str(status)}
    if scim_type:
        body["scimType"] = scim_type
    return EmulatorError(f"SCIM_{status}", detail, status, body=body)


def scim_id(kind: str, name: str) -> str:
    """A stable numeric id (users keep the one SCIM Me has always reported)."""
    key = name if kind != "group" else "group:" + name
    return str(int(hashlib.sha256(key.encode()).hexdigest()[:12], 16))


def _matches(resource: dict[str, Any], expression: str) -> bool:
    """`attr op "value"` terms joined by `and` / `or` (left to right, `and` binds tighter)."""
    return any(
        all(_term(resource, term) for term in re.split(r"\s+and\s+", alternative, flags=re.IGNORECASE))
        for alternative in re.split(r"\s+or\s+", expression, flags=re.IGNORECASE)
    )


def _term(resource: dict[str, Any], term: str) -> bool:
    found = _FILTER_RE.match(term)
    if found is None:
        raise scim_error(400, f"Invalid filter: {term.strip()!r}.", "invalidFilter")
    attribute, op, wanted = found.group(1), found.group(2).lower(), found.group(3).replace('\\"', '"')
    head, _, sub = attribute.partition(".")
    value = next((v for k, v in resource.items() if k.lower() == head.lower()), None)
    if isinstance(value, list):  # emails.value, groups.display, members.value ...
        values = [str(item.get(sub or "value", "")) for item in value if isinstance(item, dict)]
    else:
        values = [] if value is None else [str(value).lower() if isinstance(value, bool) else str(value)]
    if op == "ne":
        return all(v.lower() != wanted.lower() for v in values)
    test: Callable[[str], bool] = {
        "eq": lambda v: v.lower() == wanted.lower(),
        "co": lambda v: wanted.lower() in v.lower(),
        "sw": lambda v: v.lower().startswith(wanted.lower()),
        "ew": lambda v: v.lower().endswith(wanted.lower()),
    }[op]
    return any(test(v) for v in values)


def _project(resource: dict[str, Any], attributes: str | None, excluded: str | None) -> dict[str, Any]:
    if attributes:
        wanted = {a.strip().split(".")[0].lower() for a in attributes.split(",") if a.strip()}
        return {k: v for k, v in resource.items() if k.lower() in wanted or k == "id"}
    if excluded:
        dropped = {a.strip().split(".")[0].lower() for a in excluded.split(",") if a.strip()}
        return {k: v for k, v in resource.items() if k.lower() not in dropped or k == "id"}
    return resource


class ScimDirectory:
    def __init__(self, store: Store, configured: Callable[[], list[Principal]]) -> None:
        self._created = store.collection("scim_resources")  # id → {"kind", "name", ...}
        self._deleted = store.collection("scim_deleted")  # ids of configured principals deleted
        self._joined = store.collection(
            "scim_memberships"
        )  # principal id → {"groups": [...]} joined over SCIM
        self._configured = configured

    # -- the directory as records ------------------------------------------------------------

    def _records(self) -> dict[str, dict[str, Any]]:
        """Every live principal and group: id → {"kind", "name", "display", "groups"|"members"}."""
        records: dict[str, dict[str, Any]] = {}
        group_names: set[str] = set(SYSTEM_GROUPS)
        for principal in self._configured():
            entry = {
                "kind": principal.kind,
                "name": principal.name,
                "display": principal.name.split("@")[0] if principal.kind == "user" else principal.name,
                "groups": list(principal.groups),
                "entitlements": [
                    *DEFAULT_ENTITLEMENTS,
                    *(["allow-cluster-create"] if principal.is_admin else []),
                ],
                "active": True,
            }
            records[scim_id("user", principal.name)] = entry
            group_names.update(principal.groups)
        for record_id, doc in self._created.items():
            records[record_id] = {**doc, "groups": list(doc.get("groups", []))}
        for record_id, doc in self._joined.items():
            if record_id in records:
                records[record_id]["groups"] = [*records[record_id].get("groups", []), *doc["groups"]]
        for name in group_names:
            records.setdefault(
                scim_id("group", name), {"kind": "group", "name": name, "display": name, "entitlements": []}
            )
        for record_id in self._deleted:
            records.pop(record_id, None)
        return records

    def _group_members(self, records: dict[str, dict[str, Any]], group: dict[str, Any]) -> list[str]:
        return [
            record_id
            for record_id, record in records.items()
            if record["kind"] != "group"
            and (group["name"] == "users" or group["name"] in record.get("groups", []))
        ]

    def _render(self, records: dict[str, dict[str, Any]], record_id: str) -> dict[str, Any]:
        record = records[record_id]
        kind = record["kind"]
        if kind == "group":
            body: dict[str, Any] = {
                "schemas": [GROUP_SCHEMA],
                "id": record_id,
                "displayName": record["name"],
                "meta": {"resourceType": "WorkspaceGroup"},
            }
            members = [
                {
                    "display": records[m]["display"] if records[m]["kind"] == "user" else records[m]["name"],
                    "value": m,
                    "$ref": ("Users/" if records[m]["kind"] == "user" else "ServicePrincipals/") + m,
                }
                for m in self._group_members(records, record)
            ]
            if members:
                body["members"] = members
            if record.get("entitlements"):
                body["entitlements"] = [{"value": e} for e in record["entitlements"]]
            return body
        groups = [
            {
                "display": g,
                "type": "direct",
                "value": scim_id("group", g),
                "$ref": "Groups/" + scim_id("group", g),
            }
            for g in record.get("groups", [])
            if g != "users" and scim_id("group", g) in records
        ]
        body = {"schemas": [USER_SCHEMA if kind == "user" else SP_SCHEMA], "id": record_id}
        if kind == "user":
            body["userName"] = record["name"]
            body["emails"] = [{"value": record["name"], "type": "work", "primary": True}]
        else:
            body["applicationId"] = record["name"]
        body["displayName"] = record["display"]
        body["active"] = record.get("active", True)
        if groups:
            body["groups"] = groups
        if record.get("entitlements"):
            body["entitlements"] = [{"value": e} for e in record["entitlements"]]
        if record.get("externalId"):
            body["externalId"] = record["externalId"]
        return body

    # -- SCIM operations ---------------------------------------------------------------------

    def me(self, principal: Principal) -> dict[str, Any]:
        records = self._records()
        record_id = scim_id("user", principal.name)
        if record_id not in records:  # deleted over SCIM while its token lives on
            records[record_id] = {"kind": principal.kind, "name": principal.name, "display": principal.name}
        body = self._render(records, record_id)
        # Me answers a service principal as a user whose userName is its application id.
        body.setdefault("userName", body.get("applicationId", principal.name))
        return body

    def list_resources(
        self,
        resource_type: str,
        *,
        filter_expr: str | None = None,
        start_index: int = 1,
        count: int | None = None,
        attributes: str | None = None,
        excluded_attributes: str | None = None,
        sort_by: str | None = None,
        descending: bool = False,
    ) -> dict[str, Any]:
        kind = KINDS[resource_type][0]
        records = self._records()
        rendered = [self._render(records, rid) for rid, rec in records.items() if rec["kind"] == kind]
        if filter_expr and filter_expr.strip():
            rendered = [r for r in rendered if _matches(r, filter_expr)]
        if sort_by:
            rendered.sort(key=lambda r: str(r.get(sort_by, "")).lower(), reverse=descending)
        total = len(rendered)
        start = max(start_index, 1)
        page = rendered[start - 1 :] if count is None else rendered[start - 1 : start - 1 + max(count, 0)]
        body: dict[str, Any] = {
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(page),
        }
        if page:  # Databricks leaves `Resources` out of an empty page
            body["Resources"] = [_project(r, attributes, excluded_attributes) for r in page]
        return body

    def get(self, resource_type: str, resource_id: str, attributes: str | None = None) -> dict[str, Any]:
        kind = KINDS[resource_type][0]
        records = self._records()
        if records.get(resource_id, {}).get("kind") != kind:
            raise scim_error(404, f"{_noun(resource_type)} with id {resource_id} not found.")
        return _project(self._render(records, resource_id), attributes, None)

    def create(self, resource_type: str, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
        _require_admin(caller)
        kind, name_attr, _, _ = KINDS[resource_type]
        name = body.get(name_attr)
        if resource_type == "ServicePrincipals" and not name:
            name = body.get("displayName")  # Databricks generates the application id; here: the display name
        if not isinstance(name, str) or not name.strip():
            raise scim_error(400, f"Request is missing {name_attr}.", "invalidValue")
        records = self._records()
        record_id = scim_id("group" if kind == "group" else "user", name)
        if record_id in records:
            raise scim_error(
                409, f"{_noun(resource_type)} with {_label(name_attr)} {name} already exists.", "uniqueness"
            )
        record: dict[str, Any] = {
            "kind": kind,
            "name": name,
            "display": body.get("displayName") or (name.split("@")[0] if kind == "user" else name),
            "entitlements": [
                e["value"] for e in body.get("entitlements") or [] if isinstance(e, dict) and "value" in e
            ],
            "active": body.get("active", True) is not False,
        }
        if body.get("externalId"):
            record["externalId"] = str(body["externalId"])
        if kind == "group":
            joins = [(m, name) for m in self._check_refs(records, body.get("members"), want_group=False)]
        else:
            joins = [
                (record_id, records[g]["name"])
                for g in self._check_refs(records, body.get("groups"), want_group=True)
            ]
        self._deleted.delete(record_id)
        self._joined.delete(record_id)
        self._created.put(record_id, record)
        for member_id, group in joins:  # membership is kept on the principal's side
            joined = self._joined.get(member_id) or {"groups": []}
            joined["groups"] = [*joined["groups"], group]
            self._joined.put(member_id, joined)
        return self.get(resource_type, record_id)

    def delete(self, resource_type: str, caller: Principal, resource_id: str) -> None:
        _require_admin(caller)
        kind = KINDS[resource_type][0]
        records = self._records()
        record = records.get(resource_id)
        if record is None or record["kind"] != kind:
            raise scim_error(404, f"{_noun(resource_type)} with id {resource_id} not found.")
        if kind == "group" and record["name"] in SYSTEM_GROUPS:
            raise scim_error(400, f"Cannot delete the system group {record['name']}.", "mutability")
        if resource_id in self._created:
            self._created.delete(resource_id)
        else:
            self._deleted.put(resource_id, {"name": record["name"]})
        self._joined.delete(resource_id)
        if kind == "group":  # its members leave it (a configured group comes back after a reset)
            for member_id, doc in self._joined.items():
                if record["name"] in doc["groups"]:
                    self._joined.put(member_id, {"groups": [g for g in doc["groups"] if g != record["name"]]})

    # -- helpers -----------------------------------------------------------------------------

    def _check_refs(self, records: dict[str, dict[str, Any]], refs: Any, *, want_group: bool) -> list[str]:
        """The ids in `[{"value": id}, ...]`, each a live group (or principal), else SCIM 404."""
        ids: list[str] = []
        for ref in refs or []:
            value = str(ref.get("value", "")) if isinstance(ref, dict) else ""
            record = records.get(value)
            if record is None or (record["kind"] == "group") != want_group:
                raise scim_error(404, f"{'Group' if want_group else 'Member'} with id {value} not found.")
            ids.append(value)
        return ids


def _require_admin(caller: Principal) -> None:
    if not (caller.is_admin or "admins" in caller.groups):
        raise scim_error(403, "User is not authorized to perform this operation. Only workspace admins may.")


def _noun(resource_type: str) -> str:
    return {"Users": "User", "Groups": "Group", "ServicePrincipals": "Service principal"}[resource_type]


def _label(attribute: str) -> str:
    return {"userName": "username", "displayName": "name", "applicationId": "application id"}[attribute]
