"""Notebooks, folders and clusters honour permissions (issue 11, "Workspace objects, clusters and
repair honour permissions"): the Permissions API for `notebooks`, `directories` and `clusters`,
and an ordinary user (bob) who may not overwrite or delete the admin's notebook or folder, nor
permanently delete the admin's cluster, until the admin grants him the level Databricks requires.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from _families_helpers import LiveEmulator, emulator_fixture, error_of

live = emulator_fixture()
BOB, CAROL = "bob-token", "carol-token"
ADMIN_HOME = "/Users/admin@example.com"
BOB_HOME = "/Users/bob@example.com"


@pytest.fixture
def emu(live: LiveEmulator) -> LiveEmulator:
    live.reset()
    return live


def put_notebook(emu: LiveEmulator, path: str, source: str, token: str | None = None) -> Any:
    body = {"path": path, "format": "SOURCE", "language": "PYTHON", "overwrite": True,
            "content": base64.b64encode(source.encode()).decode()}  # fmt: skip
    return emu.call("POST", "/api/2.0/workspace/import", token=token, json=body)


def object_id(emu: LiveEmulator, path: str) -> int:
    return int(emu.call("GET", "/api/2.0/workspace/get-status", params={"path": path}).json()["object_id"])


def make_cluster(emu: LiveEmulator, token: str | None = None) -> str:
    body = {
        "cluster_name": "c",
        "spark_version": "15.4.x-scala2.12",
        "node_type_id": "i3.xlarge",
        "num_workers": 1,
    }
    response = emu.call("POST", "/api/2.1/clusters/create", token=token, json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["cluster_id"])


def test_bob_cannot_overwrite_the_admins_notebook(emu: LiveEmulator) -> None:
    assert put_notebook(emu, f"{ADMIN_HOME}/etl", "print('admin')").status_code == 200
    assert error_of(put_notebook(emu, f"{ADMIN_HOME}/etl", "print('bob')", BOB)) == (403, "PERMISSION_DENIED")
    assert emu.state.workspace.read_notebook(f"{ADMIN_HOME}/etl") == "print('admin')"


def test_bob_cannot_read_or_list_the_admins_home(emu: LiveEmulator) -> None:
    put_notebook(emu, f"{ADMIN_HOME}/etl", "print('admin')")
    for method, path in (("GET", "get-status"), ("GET", "export"), ("GET", "list")):
        target = f"{ADMIN_HOME}/etl" if path != "list" else ADMIN_HOME
        response = emu.call(method, f"/api/2.0/workspace/{path}", token=BOB, params={"path": target})
        assert error_of(response) == (403, "PERMISSION_DENIED"), path
    listing = emu.call("GET", "/api/2.0/workspace/list", token=BOB, params={"path": "/Users"}).json()
    assert [o["path"] for o in listing.get("objects", [])] == [BOB_HOME]


def test_bob_cannot_delete_the_admins_home_or_folder(emu: LiveEmulator) -> None:
    emu.call("POST", "/api/2.0/workspace/mkdirs", json={"path": f"{ADMIN_HOME}/project"})
    for path in (ADMIN_HOME, f"{ADMIN_HOME}/project"):
        response = emu.call(
            "POST", "/api/2.0/workspace/delete", token=BOB, json={"path": path, "recursive": True}
        )
        assert error_of(response) == (403, "PERMISSION_DENIED"), path
    # Not even the admin deletes a user's home folder.
    response = emu.call("POST", "/api/2.0/workspace/delete", json={"path": BOB_HOME, "recursive": True})
    assert error_of(response) == (403, "PERMISSION_DENIED")


def test_bob_owns_his_home_and_what_he_creates(emu: LiveEmulator) -> None:
    assert (
        emu.call("POST", "/api/2.0/workspace/mkdirs", token=BOB, json={"path": f"{BOB_HOME}/a/b"}).status_code
        == 200
    )
    assert put_notebook(emu, f"{BOB_HOME}/a/b/nb", "print(1)", BOB).status_code == 200
    response = emu.call(
        "POST", "/api/2.0/workspace/delete", token=BOB, json={"path": f"{BOB_HOME}/a", "recursive": True}
    )
    assert response.status_code == 200, response.text
    # Shared is everyone's; the root is the admins'.
    assert (
        emu.call("POST", "/api/2.0/workspace/mkdirs", token=BOB, json={"path": "/Shared/x"}).status_code
        == 200
    )
    response = emu.call("POST", "/api/2.0/workspace/mkdirs", token=BOB, json={"path": "/top"})
    assert error_of(response) == (403, "PERMISSION_DENIED")


def test_a_folders_manager_manages_what_it_holds(emu: LiveEmulator) -> None:
    """As on Databricks: CAN_MANAGE on a folder is inherited by every object in it."""
    emu.call("POST", "/api/2.0/workspace/mkdirs", token=BOB, json={"path": "/Users/bob@example.com/team"})
    put_notebook(emu, f"{BOB_HOME}/team/nb", "print('admin')")
    response = emu.call(
        "GET", f"/api/2.0/permissions/notebooks/{object_id(emu, f'{BOB_HOME}/team/nb')}", token=BOB
    )
    assert response.status_code == 200
    owners = [e for e in response.json()["access_control_list"] if e.get("user_name") == "bob@example.com"]
    assert owners[0]["all_permissions"][0]["inherited"] is True
    response = emu.call(
        "POST", "/api/2.0/workspace/delete", token=BOB, json={"path": f"{BOB_HOME}/team", "recursive": True}
    )
    assert response.status_code == 200, response.text


def test_notebook_permissions_grant_and_inherit(emu: LiveEmulator) -> None:
    put_notebook(emu, f"{ADMIN_HOME}/etl", "print('admin')")
    notebook = object_id(emu, f"{ADMIN_HOME}/etl")
    acl = [{"user_name": "bob@example.com", "permission_level": "CAN_READ"}]
    response = emu.call(
        "PATCH", f"/api/2.0/permissions/notebooks/{notebook}", json={"access_control_list": acl}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object_id"] == f"/notebooks/{notebook}" and body["object_type"] == "notebook"
    assert {"user_name": "bob@example.com", "display_name": "bob@example.com",
            "all_permissions": [{"permission_level": "CAN_READ", "inherited": False}]} in body["access_control_list"]  # fmt: skip
    export = emu.call("GET", "/api/2.0/workspace/export", token=BOB, params={"path": f"{ADMIN_HOME}/etl"})
    assert export.status_code == 200
    assert error_of(put_notebook(emu, f"{ADMIN_HOME}/etl", "print('bob')", BOB)) == (403, "PERMISSION_DENIED")
    # CAN_READ does not let bob change the ACL; CAN_EDIT lets him edit but not delete.
    response = emu.call(
        "PUT", f"/api/2.0/permissions/notebooks/{notebook}", token=BOB, json={"access_control_list": []}
    )
    assert error_of(response) == (403, "PERMISSION_DENIED")
    acl = [{"user_name": "bob@example.com", "permission_level": "CAN_EDIT"}]
    emu.call("PATCH", f"/api/2.0/permissions/notebooks/{notebook}", json={"access_control_list": acl})
    assert put_notebook(emu, f"{ADMIN_HOME}/etl", "print('bob')", BOB).status_code == 200
    response = emu.call("POST", "/api/2.0/workspace/delete", token=BOB, json={"path": f"{ADMIN_HOME}/etl"})
    assert error_of(response) == (403, "PERMISSION_DENIED")
    # A folder's grant is inherited by what it holds.
    home = object_id(emu, ADMIN_HOME)
    acl = [{"group_name": "analysts", "permission_level": "CAN_MANAGE"}]
    assert (
        emu.call(
            "PATCH", f"/api/2.0/permissions/directories/{home}", json={"access_control_list": acl}
        ).status_code
        == 200
    )
    response = emu.call("POST", "/api/2.0/workspace/delete", token=BOB, json={"path": f"{ADMIN_HOME}/etl"})
    assert response.status_code == 200, response.text
    levels = emu.call("GET", f"/api/2.0/permissions/directories/{home}/permissionLevels").json()
    assert [level["permission_level"] for level in levels["permission_levels"]] == [
        "CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE"]  # fmt: skip


@pytest.mark.parametrize(
    ("object_type", "level"),
    [("notebooks", "CAN_ATTACH_TO"), ("clusters", "CAN_READ"), ("directories", "IS_OWNER"), ("notebooks", 3)],
)
def test_levels_are_checked_per_object_type(emu: LiveEmulator, object_type: str, level: Any) -> None:
    put_notebook(emu, f"{ADMIN_HOME}/etl", "print('admin')")
    ids = {"notebooks": object_id(emu, f"{ADMIN_HOME}/etl"), "directories": object_id(emu, ADMIN_HOME),
           "clusters": make_cluster(emu)}  # fmt: skip
    acl = [{"user_name": "bob@example.com", "permission_level": level}]
    response = emu.call(
        "PUT", f"/api/2.0/permissions/{object_type}/{ids[object_type]}", json={"access_control_list": acl}
    )
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("object_type", ["notebooks", "directories", "clusters"])
def test_unknown_object_is_404(emu: LiveEmulator, object_type: str) -> None:
    response = emu.call("GET", f"/api/2.0/permissions/{object_type}/424242")
    assert response.status_code in (400, 404) and response.json()["error_code"] in (
        "RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")  # fmt: skip


def test_bob_cannot_manage_the_admins_cluster(emu: LiveEmulator) -> None:
    cluster = make_cluster(emu)
    for action in ("permanent-delete", "delete", "restart", "edit", "resize", "pin"):
        body: dict[str, Any] = {
            "cluster_id": cluster,
            "num_workers": 2,
            "spark_version": "x",
            "node_type_id": "y",
        }
        response = emu.call("POST", f"/api/2.1/clusters/{action}", token=BOB, json=body)
        assert error_of(response) == (403, "PERMISSION_DENIED"), action
    assert emu.call("GET", "/api/2.1/clusters/get", params={"cluster_id": cluster}).status_code == 200
    # CAN_RESTART lets bob terminate but not permanently delete; CAN_MANAGE does.
    acl = [{"user_name": "bob@example.com", "permission_level": "CAN_RESTART"}]
    response = emu.call(
        "PATCH", f"/api/2.0/permissions/clusters/{cluster}", json={"access_control_list": acl}
    )
    assert response.status_code == 200 and response.json()["object_type"] == "cluster"
    assert (
        emu.call("POST", "/api/2.1/clusters/delete", token=BOB, json={"cluster_id": cluster}).status_code
        == 200
    )
    response = emu.call("POST", "/api/2.1/clusters/permanent-delete", token=BOB, json={"cluster_id": cluster})
    assert error_of(response) == (403, "PERMISSION_DENIED")
    acl = [{"user_name": "bob@example.com", "permission_level": "CAN_MANAGE"}]
    emu.call("PATCH", f"/api/2.0/permissions/clusters/{cluster}", json={"access_control_list": acl})
    response = emu.call("POST", "/api/2.1/clusters/permanent-delete", token=BOB, json={"cluster_id": cluster})
    assert response.status_code == 200


def test_creator_manages_own_cluster(emu: LiveEmulator) -> None:
    cluster = make_cluster(emu, BOB)
    response = emu.call(
        "POST", "/api/2.1/clusters/permanent-delete", token=CAROL, json={"cluster_id": cluster}
    )
    assert error_of(response) == (403, "PERMISSION_DENIED")
    response = emu.call("POST", "/api/2.1/clusters/permanent-delete", token=BOB, json={"cluster_id": cluster})
    assert response.status_code == 200
