"""SCIM Users, Groups and ServicePrincipals: the official SDK's list/get/create/delete and raw HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from _runs_helpers import DAVE, Api
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.iam import ComplexValue

from airflow_dbx_provider.emulator import EmulatorConfig, PrincipalSpec

SCIM = "/api/2.0/preview/scim/v2"
EVE = PrincipalSpec("eve@example.com", token="eve-token", groups=["data-eng"])
ETL_SP = PrincipalSpec("etl-sp", token="sp-token", kind="service_principal", groups=["data-eng"])


@pytest.fixture(scope="module")
def dbx_emulator_config(tmp_path_factory: pytest.TempPathFactory) -> EmulatorConfig:
    root: Path = tmp_path_factory.mktemp("dbx-scim")
    return EmulatorConfig(
        data_dir=root / "data", time_scale=0.02, rate_limit_enabled=False, principals=[DAVE, EVE, ETL_SP]
    )


def test_users_list_filter_and_get(sdk: WorkspaceClient) -> None:
    names = {u.user_name for u in sdk.users.list()}
    assert names == {"admin@example.com", "dave@example.com", "eve@example.com"}  # no service principals
    [eve] = sdk.users.list(filter='userName eq "eve@example.com"')
    assert (
        eve.active and eve.display_name == "eve" and eve.emails and eve.emails[0].value == "eve@example.com"
    )
    assert [g.display for g in eve.groups or []] == ["data-eng"]
    assert sdk.users.get(str(eve.id)).user_name == "eve@example.com"
    [admin] = sdk.users.list(filter='userName eq "ADMIN@example.com"')  # case-insensitive, as SCIM says
    assert {g.display for g in admin.groups or []} == {"admins"}
    assert {e.value for e in admin.entitlements or []} >= {"allow-cluster-create"}
    assert sdk.current_user.me().id == admin.id  # Me and Users agree
    assert list(sdk.users.list(filter='userName eq "nobody@example.com"')) == []
    with pytest.raises(NotFound):
        sdk.users.get("123")


def test_groups_and_members(sdk: WorkspaceClient) -> None:
    groups = {g.display_name: g for g in sdk.groups.list()}
    assert set(groups) == {"admins", "users", "data-eng"}
    members = {m.display for m in groups["data-eng"].members or []}
    assert members == {"eve", "etl-sp"}
    refs = {m.ref for m in groups["data-eng"].members or []}
    assert any(r.startswith("Users/") for r in refs) and any(r.startswith("ServicePrincipals/") for r in refs)
    [admins] = sdk.groups.list(filter='displayName eq "admins"')
    assert [m.display for m in admins.members or []] == ["admin"]
    assert len(groups["users"].members or []) == 4  # every principal
    assert sdk.groups.get(str(groups["data-eng"].id)).display_name == "data-eng"


def test_service_principals(sdk: WorkspaceClient) -> None:
    [sp] = sdk.service_principals.list(filter='applicationId eq "etl-sp"')
    assert sp.application_id == "etl-sp" and sp.active
    assert [g.display for g in sp.groups or []] == ["data-eng"]
    assert sdk.service_principals.get(str(sp.id)).application_id == "etl-sp"


def test_create_and_delete_as_admin(sdk: WorkspaceClient, api: Api) -> None:
    [data_eng] = sdk.groups.list(filter='displayName eq "data-eng"')
    user = sdk.users.create(user_name="new@example.com", groups=[ComplexValue(value=data_eng.id)])
    assert user.id and [g.display for g in user.groups or []] == ["data-eng"]
    with pytest.raises(ResourceConflict):
        sdk.users.create(user_name="new@example.com")
    sp = sdk.service_principals.create(application_id="new-sp", display_name="New SP")
    group = sdk.groups.create(display_name="analysts", members=[ComplexValue(value=user.id)])
    assert [m.display for m in group.members or []] == ["new"]
    assert {g.display for g in sdk.users.get(str(user.id)).groups or []} == {"data-eng", "analysts"}
    # a created user has no token: nothing authenticates as it
    assert api.call("GET", f"{SCIM}/Me", token="new@example.com").status_code == 403
    sdk.groups.delete(str(group.id))
    assert {g.display for g in sdk.users.get(str(user.id)).groups or []} == {"data-eng"}
    sdk.users.delete(str(user.id))
    sdk.service_principals.delete(str(sp.id))
    assert list(sdk.users.list(filter='userName eq "new@example.com"')) == []
    with pytest.raises(NotFound):
        sdk.service_principals.get(str(sp.id))


def test_only_admins_create_and_delete(dbx_emulator: object, api: Api) -> None:
    response = api.call("POST", f"{SCIM}/Users", token="dave-token", json={"userName": "x@example.com"})
    assert response.status_code == 403
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["status"] == "403"
    dave_sdk = WorkspaceClient(host=api.server.url, token="dave-token")
    with pytest.raises(PermissionDenied):
        dave_sdk.groups.create(display_name="g")
    assert len(list(dave_sdk.users.list())) == 3  # reads are open to every user


def test_raw_list_shape_paging_and_attributes(api: Api) -> None:
    body = api.get(f"{SCIM}/Users", startIndex=2, count=1)
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert (body["totalResults"], body["startIndex"], body["itemsPerPage"]) == (3, 2, 1)
    assert len(body["Resources"]) == 1
    user = body["Resources"][0]
    assert user["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"]
    assert {"id", "userName", "displayName", "active", "emails"} <= set(user)
    past_end = api.get(f"{SCIM}/Users", startIndex=10)
    assert past_end["itemsPerPage"] == 0 and "Resources" not in past_end
    slim = api.get(f"{SCIM}/Users", attributes="id,userName", filter='userName sw "dave"')
    assert slim["Resources"] == [{"id": slim["Resources"][0]["id"], "userName": "dave@example.com"}]
    response = api.call("GET", f"{SCIM}/Users", params={"filter": "userName bogus"})
    assert response.status_code == 400 and response.json()["scimType"] == "invalidFilter"
    missing = api.call("GET", f"{SCIM}/Groups/42")
    assert missing.status_code == 404 and missing.json()["status"] == "404"


def test_reset_forgets_created_and_restores_deleted(sdk: WorkspaceClient, dbx_emulator: object) -> None:
    sdk.users.create(user_name="temp@example.com")
    [dave] = sdk.users.list(filter='userName eq "dave@example.com"')
    sdk.users.delete(str(dave.id))
    assert {u.user_name for u in sdk.users.list()} == {
        "admin@example.com",
        "eve@example.com",
        "temp@example.com",
    }
    dbx_emulator.reset()  # type: ignore[attr-defined]
    assert {u.user_name for u in sdk.users.list()} == {
        "admin@example.com",
        "dave@example.com",
        "eve@example.com",
    }
