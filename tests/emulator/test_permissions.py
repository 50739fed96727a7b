"""Job permissions over real HTTP: §7 response shape, one owner, CAN_VIEW denial, every error code.

Jobs are created through `/api/2.2/jobs/create`.
"""

from __future__ import annotations

from typing import Any

import pytest
from _families_helpers import LiveEmulator, emulator_fixture, error_of
from databricks.sdk.errors import PermissionDenied
from databricks.sdk.service.jobs import JobAccessControlRequest, JobPermissionLevel

from airflow_dbx_provider.emulator.auth import Principal

live = emulator_fixture()
BOB, CAROL = "bob-token", "carol-token"
ADMIN = Principal("admin@example.com", is_admin=True, groups=("admins",))


@pytest.fixture
def emu(live: LiveEmulator) -> LiveEmulator:
    live.reset()
    return live


def make_job(emu: LiveEmulator, token: str | None = None) -> int:
    body = {
        "name": "perm-test",
        "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "c"}],
    }
    response = emu.call("POST", "/api/2.2/jobs/create", token=token, json=body)
    assert response.ok, response.text
    return int(response.json()["job_id"])


def acl_of(emu: LiveEmulator, job_id: int, prefix: str = "/api/2.0/permissions") -> dict[str, Any]:
    return emu.call("GET", f"{prefix}/jobs/{job_id}").json()


def test_response_shape(emu: LiveEmulator) -> None:
    job_id = make_job(emu)
    body = acl_of(emu, job_id)
    assert body == {
        "object_id": f"/jobs/{job_id}",
        "object_type": "job",
        "access_control_list": [
            {
                "user_name": "admin@example.com",
                "display_name": "admin@example.com",
                "all_permissions": [{"permission_level": "IS_OWNER", "inherited": False}],
            },
            {
                "group_name": "admins",
                "all_permissions": [
                    {"permission_level": "CAN_MANAGE", "inherited": True, "inherited_from_object": ["/jobs/"]}
                ],
            },
        ],
    }
    assert acl_of(emu, job_id, "/api/2.0/preview/permissions") == body
    levels = emu.call("GET", f"/api/2.0/permissions/jobs/{job_id}/permissionLevels").json()[
        "permission_levels"
    ]
    assert {level["permission_level"] for level in levels} == {
        "CAN_VIEW",
        "CAN_MANAGE_RUN",
        "CAN_MANAGE",
        "IS_OWNER",
    }


def test_sdk_patch_put_and_owner_rules(emu: LiveEmulator) -> None:
    job_id = make_job(emu)
    w = emu.client()
    bob_view = JobAccessControlRequest(
        user_name="bob@example.com", permission_level=JobPermissionLevel.CAN_VIEW
    )
    w.jobs.update_permissions(str(job_id), access_control_list=[bob_view])
    levels = {
        e.user_name or e.group_name: [
            p.permission_level.value for p in e.all_permissions or [] if p.permission_level
        ]
        for e in w.jobs.get_permissions(str(job_id)).access_control_list or []
    }
    assert levels["bob@example.com"] == ["CAN_VIEW"] and levels["admin@example.com"] == ["IS_OWNER"]
    # PUT without an owner replaces the direct grants and keeps the current owner.
    carol_run = JobAccessControlRequest(
        user_name="carol@example.com", permission_level=JobPermissionLevel.CAN_MANAGE_RUN
    )
    result = w.jobs.set_permissions(str(job_id), access_control_list=[carol_run])
    names = {e.user_name for e in result.access_control_list or [] if e.user_name}
    assert names == {"carol@example.com", "admin@example.com"}
    # PATCH with a new owner transfers ownership: still exactly one IS_OWNER.
    new_owner = JobAccessControlRequest(
        user_name="carol@example.com", permission_level=JobPermissionLevel.IS_OWNER
    )
    w.jobs.update_permissions(str(job_id), access_control_list=[new_owner])
    owners = [
        e
        for e in acl_of(emu, job_id)["access_control_list"]
        if any(p["permission_level"] == "IS_OWNER" for p in e["all_permissions"])
    ]
    assert [o["user_name"] for o in owners] == ["carol@example.com"]


def test_can_view_user_is_denied(emu: LiveEmulator) -> None:
    job_id = make_job(emu)
    grant = {"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_VIEW"}]}
    assert emu.call("PATCH", f"/api/2.0/permissions/jobs/{job_id}", json=grant).ok
    bob = emu.client(BOB)
    assert bob.permissions.get("jobs", str(job_id)).object_id == f"/jobs/{job_id}"
    with pytest.raises(PermissionDenied, match="does not have Manage permissions on Job with ID"):
        bob.permissions.update("jobs", str(job_id), access_control_list=[])
    with emu.state.store.lock:
        assert emu.state.permissions.job_permission_level(Principal("bob@example.com"), job_id) == "CAN_VIEW"
        with pytest.raises(
            Exception,
            match=f"User bob@example.com does not have Manage Run permissions on Job with ID: {job_id}.",
        ):
            emu.state.permissions.check_job(Principal("bob@example.com"), job_id, "CAN_MANAGE_RUN")
    with pytest.raises(PermissionDenied):
        bob.jobs.run_now(job_id)


def test_group_grants_and_admin_inheritance(emu: LiveEmulator) -> None:
    job_id = make_job(emu)
    grant = {"access_control_list": [{"group_name": "analysts", "permission_level": "CAN_MANAGE_RUN"}]}
    emu.call("PATCH", f"/api/2.0/permissions/jobs/{job_id}", json=grant)
    with emu.state.store.lock:
        service = emu.state.permissions
        assert (
            service.job_permission_level(Principal("bob@example.com", groups=("analysts",)), job_id)
            == "CAN_MANAGE_RUN"
        )
        assert service.job_permission_level(Principal("carol@example.com"), job_id) is None
        assert service.job_permission_level(Principal("root", groups=("admins",)), job_id) == "CAN_MANAGE"
        assert service.job_permission_level(ADMIN, job_id) == "IS_OWNER"
        service.on_job_deleted(job_id)
        assert (
            service.job_permission_level(Principal("bob@example.com", groups=("analysts",)), job_id) is None
        )


ERROR_CASES = [
    ("missing-job", "GET", "/jobs/999999", None, None, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("bad-job-id", "GET", "/jobs/abc", None, None, 400, "INVALID_PARAMETER_VALUE"),
    (
        "two-owners",
        "PUT",
        "/jobs/{id}",
        [
            {"user_name": "a", "permission_level": "IS_OWNER"},
            {"user_name": "b", "permission_level": "IS_OWNER"},
        ],
        None,
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "group-owner",
        "PATCH",
        "/jobs/{id}",
        [{"group_name": "analysts", "permission_level": "IS_OWNER"}],
        None,
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "bad-level",
        "PATCH",
        "/jobs/{id}",
        [{"user_name": "a", "permission_level": "CAN_ATTACH_TO"}],
        None,
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "no-principal",
        "PATCH",
        "/jobs/{id}",
        [{"permission_level": "CAN_VIEW"}],
        None,
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    ("view-denied", "GET", "/jobs/{id}", None, CAROL, 403, "PERMISSION_DENIED"),
    (
        "modify-denied",
        "PATCH",
        "/jobs/{id}",
        [{"user_name": "carol@example.com", "permission_level": "CAN_MANAGE"}],
        CAROL,
        403,
        "PERMISSION_DENIED",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "acl", "token", "status", "code"),
    [c[1:] for c in ERROR_CASES],
    ids=[c[0] for c in ERROR_CASES],
)
def test_errors(
    emu: LiveEmulator, method: str, path: str, acl: Any, token: str | None, status: int, code: str
) -> None:
    job_id = make_job(emu)
    kwargs: dict[str, Any] = {"json": {"access_control_list": acl}} if acl is not None else {}
    response = emu.call(method, "/api/2.0/permissions" + path.format(id=job_id), token=token, **kwargs)
    assert error_of(response) == (status, code), response.text
