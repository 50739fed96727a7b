"""Secrets API 2.0 (plus a lenient 2.1 alias that strict mode answers with Bad Target)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import EmulatorError, invalid_parameter
from airflow_dbx_provider.emulator.handlers.dbfs import check_version
from airflow_dbx_provider.emulator.routing import ApiRequest, route
from airflow_dbx_provider.emulator.wire import decode_base64

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.config import EmulatorConfig
    from airflow_dbx_provider.emulator.services.secrets import SecretsService


def secrets_route(method: str, action: str) -> Any:
    return route(method, f"/secrets/{action}", family="secrets", versions=("2.0", "2.1"))


def _key(req: ApiRequest) -> str:
    return req.required_str("key")


class SecretsHandlers:
    def __init__(self, secrets: SecretsService, config: EmulatorConfig) -> None:
        self.secrets = secrets
        self.config = config

    def _scope(self, req: ApiRequest) -> str:
        check_version(req, self.config)
        return req.required_str("scope")

    @secrets_route("POST", "scopes/create")
    def create_scope(self, req: ApiRequest) -> dict[str, Any]:
        self.secrets.create_scope(
            req.principal,
            self._scope(req),
            req.str("initial_manage_principal"),
            req.str("scope_backend_type"),
        )
        return {}

    @secrets_route("GET", "scopes/list")
    def list_scopes(self, req: ApiRequest) -> dict[str, Any]:
        check_version(req, self.config)
        scopes = self.secrets.list_scopes()
        return {"scopes": scopes} if scopes else {}

    @secrets_route("POST", "scopes/delete")
    def delete_scope(self, req: ApiRequest) -> dict[str, Any]:
        self.secrets.delete_scope(req.principal, self._scope(req))
        return {}

    @secrets_route("POST", "put")
    def put_secret(self, req: ApiRequest) -> dict[str, Any]:
        """Exactly one of `string_value` and `bytes_value` (base64)."""
        scope, key = self._scope(req), _key(req)
        string_value, bytes_value = req.get("string_value"), req.get("bytes_value")
        if (string_value is None) == (bytes_value is None):
            raise invalid_parameter("Exactly one of string_value or bytes_value must be specified.")
        value = (
            str(string_value).encode()
            if string_value is not None
            else decode_base64(bytes_value, "bytes_value")
        )
        self.secrets.put(req.principal, scope, key, value)
        return {}

    @secrets_route("GET", "get")
    def get_secret(self, req: ApiRequest) -> dict[str, Any]:
        scope, key = self._scope(req), _key(req)
        if self.config.secrets_get_requires_notebook and not req.principal.in_notebook:
            raise EmulatorError(
                "BAD_REQUEST", "This operation is not allowed outside databricks notebooks.", 400
            )
        return self.secrets.get(req.principal, scope, key)

    @secrets_route("GET", "list")
    def list_secrets(self, req: ApiRequest) -> dict[str, Any]:
        secrets = self.secrets.list_secrets(req.principal, self._scope(req))
        return {"secrets": secrets} if secrets else {}

    @secrets_route("POST", "delete")
    def delete_secret(self, req: ApiRequest) -> dict[str, Any]:
        self.secrets.delete(req.principal, self._scope(req), _key(req))
        return {}

    @secrets_route("POST", "acls/put")
    def put_acl(self, req: ApiRequest) -> dict[str, Any]:
        scope = self._scope(req)
        who = req.required_str("principal")
        self.secrets.put_acl(req.principal, scope, who, req.required_str("permission"))
        return {}

    @secrets_route("GET", "acls/get")
    def get_acl(self, req: ApiRequest) -> dict[str, Any]:
        scope = self._scope(req)
        return self.secrets.get_acl(req.principal, scope, req.required_str("principal"))

    @secrets_route("GET", "acls/list")
    def list_acls(self, req: ApiRequest) -> dict[str, Any]:
        # The SDK parses `items` (a docstring example says `acls`, the code does not).
        items = self.secrets.list_acls(req.principal, self._scope(req))
        return {"items": items} if items else {}

    @secrets_route("POST", "acls/delete")
    def delete_acl(self, req: ApiRequest) -> dict[str, Any]:
        scope = self._scope(req)
        self.secrets.delete_acl(req.principal, scope, req.required_str("principal"))
        return {}
