"""Who-am-I endpoints the SDK calls: SCIM Me (with the workspace id header) and current-user."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from airflow_dbx_provider.emulator.routing import ApiRequest, route

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.config import EmulatorConfig


def _user(req: ApiRequest) -> dict[str, Any]:
    principal = req.principal
    user_id = str(int(hashlib.sha256(principal.name.encode()).hexdigest()[:12], 16))
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": user_id,
        "userName": principal.name,
        "displayName": principal.name.split("@")[0],
        "active": True,
        "emails": [{"value": principal.name, "type": "work", "primary": True}],
        "groups": [{"display": g, "value": g, "type": "direct"} for g in principal.groups],
    }
    if principal.kind == "service_principal":
        body["applicationId"] = principal.name
    return body


class IdentityHandlers:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config

    @route("GET", "/preview/scim/v2/Me", family="identity", versions=("2.0",))
    def me(self, req: ApiRequest) -> JSONResponse:
        return JSONResponse(_user(req), headers={"X-Databricks-Org-Id": self.config.workspace_id})
