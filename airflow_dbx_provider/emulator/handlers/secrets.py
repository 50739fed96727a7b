"""Secrets API 2.0 (plus a lenient 2.1 alias that strict mode answers with Bad Target)."""

from __future__ import annotations

from typing import Any

from airflow_dbx_provider.emulator.errors import EmulatorError, bad_target, invalid_parameter
from airflow_dbx_provider.emulator.handlers.dbfs import decode_base64
from airflow_dbx_provider.emulator.routing import ApiRequest, route


def secrets_route(method: str, action: str) -> Any:
    return route(method, f"/secrets/{action}", family="secrets", versions=("2.0", "2.1"))


def _check_version(req: ApiRequest) -> None:
    if req.version != "2.0" and req.state.config.strict_versions:
        raise bad_target(req.path)


def _scope(req: ApiRequest) -> str:
    _check_version(req)
    return str(req.str("scope", required=True))


def _key(req: ApiRequest) -> str:
    return str(req.str("key", required=True))


@secrets_route("POST", "scopes/create")
def create_scope(req: ApiRequest) -> dict[str, Any]:
    req.state.secrets.create_scope(
        req.principal, _scope(req), req.str("initial_manage_principal"), req.str("scope_backend_type")
    )
    return {}


@secrets_route("GET", "scopes/list")
def list_scopes(req: ApiRequest) -> dict[str, Any]:
    _check_version(req)
    scopes = req.state.secrets.list_scopes()
    return {"scopes": scopes} if scopes else {}


@secrets_route("POST", "scopes/delete")
def delete_scope(req: ApiRequest) -> dict[str, Any]:
    req.state.secrets.delete_scope(req.principal, _scope(req))
    return {}


@secrets_route("POST", "put")
def put_secret(req: ApiRequest) -> dict[str, Any]:
    """Exactly one of `string_value` and `bytes_value` (base64)."""
    scope, key = _scope(req), _key(req)
    string_value, bytes_value = req.get("string_value"), req.get("bytes_value")
    if (string_value is None) == (bytes_value is None):
        raise invalid_parameter("Exactly one of string_value or bytes_value must be specified.")
    value = (
        str(string_value).encode() if string_value is not None else decode_base64(bytes_value, "bytes_value")
    )
    req.state.secrets.put(req.principal, scope, key, value)
    return {}


@secrets_route("GET", "get")
def get_secret(req: ApiRequest) -> dict[str, Any]:
    scope, key = _scope(req), _key(req)
    if req.state.config.secrets_get_requires_notebook and not req.principal.in_notebook:
        raise EmulatorError("BAD_REQUEST", "This operation is not allowed outside databricks notebooks.", 400)
    return req.state.secrets.get(req.principal, scope, key)


@secrets_route("GET", "list")
def list_secrets(req: ApiRequest) -> dict[str, Any]:
    secrets = req.state.secrets.list_secrets(req.principal, _scope(req))
    return {"secrets": secrets} if secrets else {}


@secrets_route("POST", "delete")
def delete_secret(req: ApiRequest) -> dict[str, Any]:
    req.state.secrets.delete(req.principal, _scope(req), _key(req))
    return {}


@secrets_route("POST", "acls/put")
def put_acl(req: ApiRequest) -> dict[str, Any]:
    scope = _scope(req)
    who = str(req.str("principal", required=True))
    req.state.secrets.put_acl(req.principal, scope, who, str(req.str("permission", required=True)))
    return {}


@secrets_route("GET", "acls/get")
def get_acl(req: ApiRequest) -> dict[str, Any]:
    scope = _scope(req)
    return req.state.secrets.get_acl(req.principal, scope, str(req.str("principal", required=True)))


@secrets_route("GET", "acls/list")
def list_acls(req: ApiRequest) -> dict[str, Any]:
    # The SDK parses `items` (a docstring example says `acls`, the code does not).
    items = req.state.secrets.list_acls(req.principal, _scope(req))
    return {"items": items} if items else {}


@secrets_route("POST", "acls/delete")
def delete_acl(req: ApiRequest) -> dict[str, Any]:
    scope = _scope(req)
    req.state.secrets.delete_acl(req.principal, scope, str(req.str("principal", required=True)))
    return {}
