"""Secret scopes, secrets and scope ACLs (MANAGE > WRITE > READ).

Each scope keeps its secrets in its own store collection (`secrets:<scope>`), so a put
rewrites one small document and the 1000-key limit is a `len()`. Secret values never
appear in messages or logs.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import (
    EmulatorError,
    already_exists,
    invalid_parameter,
    permission_denied,
    resource_does_not_exist,
)

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.store import Collection, Store

LEVELS = {"READ": 1, "WRITE": 2, "MANAGE": 3}
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
MAX_VALUE_BYTES = 128 * 1024
MAX_KEYS_PER_SCOPE = 1000
MAX_SCOPES = 1000
BACKENDS = ("DATABRICKS", "AZURE_KEYVAULT")


def _check_name(value: str | None, what: str) -> str:
    if not value or not NAME_RE.match(value):
        raise invalid_parameter(
            f"{what} name '{value or ''}' is invalid: it must consist of alphanumeric characters, dashes, "
            "underscores and periods, and may not exceed 128 characters."
        )
    return value


class SecretsService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._scopes = store.collection("secret_scopes")

    # ---- contract used by runs (dbutils.secrets.get in notebooks) ---------------------------
    def get_secret_value(self, principal: Principal, scope: str, key: str) -> bytes:
        self._require(principal, self._scope(scope), "READ")
        secret = self._secrets(scope).get(key)
        if secret is None:
            raise resource_does_not_exist(f"Secret does not exist with scope: {scope} and key: {key}")
        return base64.b64decode(secret["value"])

    # ---- scopes ------------------------------------------------------------------------------
    def create_scope(
        self, principal: Principal, scope: str, initial_manage_principal: str | None, backend: str | None
    ) -> None:
        _check_name(scope, "Scope")
        backend = (backend or "DATABRICKS").upper()
        if backend not in BACKENDS:
            raise invalid_parameter(f"Invalid scope_backend_type: {backend}")
        if scope in self._scopes:
            raise already_exists(f"Scope {scope} already exists!")
        if len(self._scopes) >= MAX_SCOPES:
            raise EmulatorError(
                "RESOURCE_LIMIT_EXCEEDED", f"The maximum of {MAX_SCOPES} scopes has been reached.", 400
            )
        if initial_manage_principal not in (None, "", "users"):
            raise invalid_parameter("initial_manage_principal must be 'users' or omitted.")
        manager = "users" if initial_manage_principal == "users" else principal.name
        self._scopes.put(
            scope,
            {"name": scope, "backend_type": backend, "creator": principal.name, "acls": {manager: "MANAGE"}},
        )

    def list_scopes(self) -> list[dict[str, Any]]:
        return [
            {"name": s["name"], "backend_type": s["backend_type"]}
            for s in sorted_scopes(self._scopes.values())
        ]

    def delete_scope(self, principal: Principal, scope: str) -> None:
        self._require(principal, self._scope(scope), "MANAGE")
        secrets = self._secrets(scope)
        for key in secrets:
            secrets.delete(key)
        self._scopes.delete(scope)

    # ---- secrets -----------------------------------------------------------------------------
    def put(self, principal: Principal, scope: str, key: str, value: bytes) -> None:
        self._require(principal, self._scope(scope), "WRITE")
        _check_name(key, "Secret key")
        if len(value) > MAX_VALUE_BYTES:
            raise invalid_parameter(f"Secret value exceeds the maximum size of {MAX_VALUE_BYTES} bytes.")
        secrets = self._secrets(scope)
        if key not in secrets and len(secrets) >= MAX_KEYS_PER_SCOPE:
            raise EmulatorError(
                "RESOURCE_LIMIT_EXCEEDED",
                f"The scope {scope} already holds the maximum of {MAX_KEYS_PER_SCOPE} secrets.",
                400,
            )
        secrets.put(
            key,
            {
                "key": key,
                "value": base64.b64encode(value).decode(),
                "last_updated_timestamp": self._clock.now_ms(),
            },
        )

    def get(self, principal: Principal, scope: str, key: str) -> dict[str, Any]:
        value = self.get_secret_value(principal, scope, key)
        return {"key": key, "value": base64.b64encode(value).decode()}

    def list_secrets(self, principal: Principal, scope: str) -> list[dict[str, Any]]:
        self._require(principal, self._scope(scope), "READ")
        items = sorted(self._secrets(scope).values(), key=lambda s: s["key"])
        return [{"key": s["key"], "last_updated_timestamp": s["last_updated_timestamp"]} for s in items]

    def delete(self, principal: Principal, scope: str, key: str) -> None:
        self._require(principal, self._scope(scope), "WRITE")
        secrets = self._secrets(scope)
        if key not in secrets:
            raise resource_does_not_exist(f"Secret does not exist with scope: {scope} and key: {key}")
        secrets.delete(key)

    # ---- ACLs --------------------------------------------------------------------------------
    def put_acl(self, principal: Principal, scope: str, who: str, permission: str) -> None:
        doc = self._scope(scope)
        self._require(principal, doc, "MANAGE")
        if not who:
            raise invalid_parameter("Missing required field: principal")
        permission = (permission or "").upper()
        if permission not in LEVELS:
            raise invalid_parameter(f"Invalid permission {permission}: must be one of READ, WRITE, MANAGE.")
        doc["acls"][who] = permission
        self._scopes.put(scope, doc)

    def get_acl(self, principal: Principal, scope: str, who: str) -> dict[str, str]:
        doc = self._scope(scope)
        self._require(principal, doc, "MANAGE")
        if who not in doc["acls"]:
            raise resource_does_not_exist(f"Failed to get secret acl for principal {who} in scope {scope}.")
        return {"principal": who, "permission": doc["acls"][who]}

    def list_acls(self, principal: Principal, scope: str) -> list[dict[str, str]]:
        doc = self._scope(scope)
        self._require(principal, doc, "MANAGE")
        return [{"principal": who, "permission": level} for who, level in sorted(doc["acls"].items())]

    def delete_acl(self, principal: Principal, scope: str, who: str) -> None:
        doc = self._scope(scope)
        self._require(principal, doc, "MANAGE")
        if who not in doc["acls"]:
            raise resource_does_not_exist(
                f"Failed to delete secret acl for principal {who} in scope {scope}."
            )
        del doc["acls"][who]
        self._scopes.put(scope, doc)

    # ---- internals ---------------------------------------------------------------------------
    def permission(self, principal: Principal, scope_doc: dict[str, Any]) -> str | None:
        """The highest level granted to the principal, its groups, or everyone (`users`)."""
        if principal.is_admin or "admins" in principal.groups:
            return "MANAGE"
        names = {principal.name, "users", *principal.groups}
        granted = [level for who, level in scope_doc["acls"].items() if who in names]
        return max(granted, key=LEVELS.__getitem__) if granted else None

    def _require(self, principal: Principal, scope_doc: dict[str, Any], level: str) -> None:
        granted = self.permission(principal, scope_doc)
        if granted is None or LEVELS[granted] < LEVELS[level]:
            raise permission_denied(
                f"User {principal.name} does not have {level} permission on scope {scope_doc['name']}."
            )

    def _scope(self, scope: str) -> dict[str, Any]:
        doc = self._scopes.get(scope) if scope else None
        if doc is None:
            raise resource_does_not_exist(f"Scope {scope} does not exist!")
        return doc

    def _secrets(self, scope: str) -> Collection:
        return self._store.collection(f"secrets:{scope}")


def sorted_scopes(scopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(scopes, key=lambda s: s["name"])
