"""Secrets API over real HTTP: the SDK's put/get, scope ACLs for a non-admin, every error code."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from _families_helpers import LiveEmulator, emulator_fixture, error_of, make_config, start_emulator
from databricks.sdk.errors import NotFound, PermissionDenied
from databricks.sdk.service.workspace import AclPermission

from airflow_dbx_provider.emulator.auth import Principal

live = emulator_fixture()
BOB = "bob-token"


@pytest.fixture
def emu(live: LiveEmulator) -> LiveEmulator:
    live.reset()
    return live


def test_sdk_put_get_and_acl_denial(emu: LiveEmulator) -> None:
    admin, bob = emu.client(), emu.client(BOB)
    admin.secrets.create_scope("team")
    admin.secrets.put_secret("team", "db-password", string_value="s3cr3t")
    admin.secrets.put_secret("team", "blob", bytes_value=base64.b64encode(b"\x00\x01").decode())
    got = admin.secrets.get_secret("team", "db-password")
    assert got.key == "db-password" and base64.b64decode(got.value or "") == b"s3cr3t"
    assert [s.key for s in admin.secrets.list_secrets("team")] == ["blob", "db-password"]
    with pytest.raises(PermissionDenied):
        bob.secrets.get_secret("team", "db-password")
    admin.secrets.put_acl("team", "analysts", AclPermission.READ)
    assert base64.b64decode(bob.secrets.get_secret("team", "db-password").value or "") == b"s3cr3t"
    with pytest.raises(PermissionDenied):
        bob.secrets.put_secret("team", "k", string_value="v")
    acls = {
        (a.principal, a.permission.value if a.permission else None) for a in admin.secrets.list_acls("team")
    }
    assert acls == {("admin@example.com", "MANAGE"), ("analysts", "READ")}
    admin.secrets.delete_acl("team", "analysts")
    with pytest.raises(NotFound):
        admin.secrets.get_acl("team", "analysts")
    admin.secrets.delete_scope("team")
    assert list(admin.secrets.list_scopes()) == []


def test_creator_manages_own_scope(emu: LiveEmulator) -> None:
    bob = emu.client(BOB)
    bob.secrets.create_scope("bobs")
    bob.secrets.put_secret("bobs", "k", string_value="v")
    assert bob.secrets.get_acl("bobs", "bob@example.com").permission is not None
    response = emu.call(
        "GET", "/api/2.0/secrets/get", token="carol-token", params={"scope": "bobs", "key": "k"}
    )
    assert error_of(response) == (403, "PERMISSION_DENIED")
    assert emu.call(
        "GET", "/api/2.0/secrets/get", params={"scope": "bobs", "key": "k"}
    ).ok  # admins manage all


def test_initial_manage_principal_users(emu: LiveEmulator) -> None:
    body = {"scope": "shared", "initial_manage_principal": "users"}
    assert emu.call("POST", "/api/2.0/secrets/scopes/create", token=BOB, json=body).ok
    put = {"scope": "shared", "key": "k", "string_value": "v"}
    assert emu.call("POST", "/api/2.0/secrets/put", token="carol-token", json=put).ok


def test_get_secret_value_contract(emu: LiveEmulator) -> None:
    emu.call("POST", "/api/2.0/secrets/scopes/create", json={"scope": "s"})
    emu.call("POST", "/api/2.0/secrets/put", json={"scope": "s", "key": "k", "string_value": "v"})
    service = emu.state.secrets
    admin = Principal("admin@example.com", is_admin=True, groups=("admins",))
    with emu.state.store.lock:
        assert service.get_secret_value(admin, "s", "k") == b"v"
        with pytest.raises(Exception, match="does not have READ permission") as denied:
            service.get_secret_value(Principal("bob@example.com"), "s", "k")
        assert getattr(denied.value, "error_code", None) == "PERMISSION_DENIED"


def test_get_requires_notebook_switch(tmp_path: Any) -> None:
    emulator = start_emulator(make_config(data_dir=tmp_path, secrets_get_requires_notebook=True))
    try:
        emulator.call("POST", "/api/2.0/secrets/scopes/create", json={"scope": "s"})
        emulator.call("POST", "/api/2.0/secrets/put", json={"scope": "s", "key": "k", "string_value": "v"})
        response = emulator.call("GET", "/api/2.0/secrets/get", params={"scope": "s", "key": "k"})
        assert response.status_code == 400
        assert response.json() == {
            "error_code": "BAD_REQUEST",
            "message": "This operation is not allowed outside databricks notebooks.",
        }
        nb_token = emulator.state.auth.notebook_token(Principal("admin@example.com", is_admin=True))
        assert emulator.call(
            "GET", "/api/2.0/secrets/get", token=nb_token, params={"scope": "s", "key": "k"}
        ).ok
    finally:
        emulator.stop()


def test_value_never_in_responses_or_listing(emu: LiveEmulator) -> None:
    emu.call("POST", "/api/2.0/secrets/scopes/create", json={"scope": "s"})
    emu.call("POST", "/api/2.0/secrets/put", json={"scope": "s", "key": "k", "string_value": "hunter2"})
    listing = emu.call("GET", "/api/2.0/secrets/list", params={"scope": "s"}).text
    denied = emu.call("GET", "/api/2.0/secrets/get", token=BOB, params={"scope": "s", "key": "k"}).text
    assert "hunter2" not in listing and "hunter2" not in denied
    assert base64.b64encode(b"hunter2").decode() not in listing + denied


def _setup(emu: LiveEmulator) -> None:
    emu.call("POST", "/api/2.0/secrets/scopes/create", json={"scope": "s"})
    emu.call("POST", "/api/2.0/secrets/put", json={"scope": "s", "key": "k", "string_value": "v"})


ERROR_CASES = [
    (
        "scope-bad-chars",
        "POST",
        "scopes/create",
        {"scope": "bad name!"},
        None,
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    ("scope-too-long", "POST", "scopes/create", {"scope": "a" * 129}, None, 400, "INVALID_PARAMETER_VALUE"),
    ("scope-exists", "POST", "scopes/create", {"scope": "s"}, None, 400, "RESOURCE_ALREADY_EXISTS"),
    (
        "scope-bad-initial-principal",
        "POST",
        "scopes/create",
        {"scope": "t", "initial_manage_principal": "bob"},
        None,
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "scope-delete-missing",
        "POST",
        "scopes/delete",
        {"scope": "nope"},
        None,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    ("scope-delete-denied", "POST", "scopes/delete", {"scope": "s"}, BOB, 403, "PERMISSION_DENIED"),
    (
        "put-both-values",
        "POST",
        "put",
        {"scope": "s", "key": "x", "string_value": "a", "bytes_value": "YQ=="},
        None,
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    ("put-no-value", "POST", "put", {"scope": "s", "key": "x"}, None, 400, "INVALID_PARAMETER_VALUE"),
    (
        "put-too-large",
        "POST",
        "put",
        {"scope": "s", "key": "x", "string_value": "a" * (128 * 1024 + 1)},
        None,
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "put-bad-key",
        "POST",
        "put",
        {"scope": "s", "key": "a/b", "string_value": "a"},
        None,
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "put-missing-scope",
        "POST",
        "put",
        {"scope": "nope", "key": "x", "string_value": "a"},
        None,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    (
        "put-denied",
        "POST",
        "put",
        {"scope": "s", "key": "x", "string_value": "a"},
        BOB,
        403,
        "PERMISSION_DENIED",
    ),
    ("get-missing-key", "GET", "get", {"scope": "s", "key": "nope"}, None, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("get-denied", "GET", "get", {"scope": "s", "key": "k"}, BOB, 403, "PERMISSION_DENIED"),
    ("list-denied", "GET", "list", {"scope": "s"}, BOB, 403, "PERMISSION_DENIED"),
    (
        "delete-missing-key",
        "POST",
        "delete",
        {"scope": "s", "key": "nope"},
        None,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    (
        "acl-bad-permission",
        "POST",
        "acls/put",
        {"scope": "s", "principal": "x", "permission": "OWN"},
        None,
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "acl-put-denied",
        "POST",
        "acls/put",
        {"scope": "s", "principal": "x", "permission": "READ"},
        BOB,
        403,
        "PERMISSION_DENIED",
    ),
    ("acl-list-denied", "GET", "acls/list", {"scope": "s"}, BOB, 403, "PERMISSION_DENIED"),
    (
        "acl-get-missing",
        "GET",
        "acls/get",
        {"scope": "s", "principal": "nobody"},
        None,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    (
        "acl-delete-missing",
        "POST",
        "acls/delete",
        {"scope": "s", "principal": "nobody"},
        None,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
]


@pytest.mark.parametrize(
    ("method", "action", "body", "token", "status", "code"),
    [c[1:] for c in ERROR_CASES],
    ids=[c[0] for c in ERROR_CASES],
)
def test_errors(
    emu: LiveEmulator,
    method: str,
    action: str,
    body: dict[str, Any],
    token: str | None,
    status: int,
    code: str,
) -> None:
    _setup(emu)
    kwargs: dict[str, Any] = {"params": body} if method == "GET" else {"json": body}
    response = emu.call(method, f"/api/2.0/secrets/{action}", token=token, **kwargs)
    assert error_of(response) == (status, code), response.text


def test_scope_name_error_names_the_rule(emu: LiveEmulator) -> None:
    response = emu.call("POST", "/api/2.0/secrets/scopes/create", json={"scope": "bad name"})
    assert "alphanumeric characters, dashes, underscores and periods" in response.json()["message"]
    assert "128 characters" in response.json()["message"]


def test_key_limit_per_scope(emu: LiveEmulator) -> None:
    _setup(emu)
    with emu.state.store.lock:
        for i in range(999):
            emu.state.store.collection("secrets:s").put(
                f"k{i}", {"key": f"k{i}", "value": "", "last_updated_timestamp": 0}
            )
    response = emu.call(
        "POST", "/api/2.0/secrets/put", json={"scope": "s", "key": "one-more", "string_value": "v"}
    )
    assert error_of(response) == (400, "RESOURCE_LIMIT_EXCEEDED")
    assert emu.call("POST", "/api/2.0/secrets/put", json={"scope": "s", "key": "k", "string_value": "new"}).ok
