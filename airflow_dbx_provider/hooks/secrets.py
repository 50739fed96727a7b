"""Secrets and Permissions API methods of the sync hook."""

from __future__ import annotations

import base64
from typing import Any

from airflow_dbx_provider.hooks.api import EP
from airflow_dbx_provider.hooks.auth import mask_secret
from airflow_dbx_provider.hooks.jobs import _Caller


class SecretsMixin(_Caller):
    def create_secret_scope(self, scope: str, initial_manage_principal: str | None = None) -> dict[str, Any]:
        return self.call(
            EP.SECRET_SCOPES_CREATE, scope=scope, initial_manage_principal=initial_manage_principal
        )

    def list_secret_scopes(self) -> list[dict[str, Any]]:
        return list(self.call(EP.SECRET_SCOPES_LIST).get("scopes") or [])

    def delete_secret_scope(self, scope: str) -> dict[str, Any]:
        return self.call(EP.SECRET_SCOPES_DELETE, scope=scope)

    def put_secret(
        self, scope: str, key: str, string_value: str | None = None, bytes_value: bytes | None = None
    ) -> dict[str, Any]:
        """Store a secret; exactly one of ``string_value``/``bytes_value``."""
        if (string_value is None) == (bytes_value is None):
            raise ValueError("put_secret needs exactly one of string_value or bytes_value")
        mask_secret(string_value)
        encoded = base64.b64encode(bytes_value).decode("ascii") if bytes_value is not None else None
        return self.call(EP.SECRETS_PUT, scope=scope, key=key, string_value=string_value, bytes_value=encoded)

    def get_secret(self, scope: str, key: str) -> bytes:
        """The decoded secret value (registered with the masker when it is text)."""
        value = base64.b64decode(self.call(EP.SECRETS_GET, scope=scope, key=key).get("value", ""))
        try:
            mask_secret(value.decode("utf-8"))
        except UnicodeDecodeError:
            pass
        return value

    def list_secrets(self, scope: str) -> list[dict[str, Any]]:
        return list(self.call(EP.SECRETS_LIST, scope=scope).get("secrets") or [])

    def delete_secret(self, scope: str, key: str) -> dict[str, Any]:
        return self.call(EP.SECRETS_DELETE, scope=scope, key=key)

    def put_secret_acl(self, scope: str, principal: str, permission: str) -> dict[str, Any]:
        return self.call(EP.SECRET_ACLS_PUT, scope=scope, principal=principal, permission=permission)

    def get_secret_acl(self, scope: str, principal: str) -> dict[str, Any]:
        return self.call(EP.SECRET_ACLS_GET, scope=scope, principal=principal)

    def list_secret_acls(self, scope: str) -> list[dict[str, Any]]:
        """ACLs of a scope (the wire field is ``items``)."""
        return list(self.call(EP.SECRET_ACLS_LIST, scope=scope).get("items") or [])

    def delete_secret_acl(self, scope: str, principal: str) -> dict[str, Any]:
        return self.call(EP.SECRET_ACLS_DELETE, scope=scope, principal=principal)


class PermissionsMixin(_Caller):
    def get_job_permissions(self, job_id: int) -> dict[str, Any]:
        return self.call(EP.JOB_PERMISSIONS_GET, job_id=job_id)

    def set_job_permissions(self, job_id: int, access_control_list: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace all direct permissions (PUT)."""
        return self.call(EP.JOB_PERMISSIONS_SET, job_id=job_id, access_control_list=access_control_list)

    def update_job_permissions(
        self, job_id: int, access_control_list: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Upsert the listed principals (PATCH)."""
        return self.call(EP.JOB_PERMISSIONS_UPDATE, job_id=job_id, access_control_list=access_control_list)
