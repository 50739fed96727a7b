"""Pure request building: an endpoint table plus ``build_request`` (no I/O, shared by sync and async).

Adding a REST call to either hook is one :class:`Endpoint` here and one short method there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_dbx_provider.exceptions import DatabricksConfigError

#: ``idempotent`` values: always safe to resend / never / only when the body has ``idempotency_token``.
ALWAYS = "always"
NEVER = "never"
WITH_TOKEN = "with_token"


@dataclass(frozen=True)
class Endpoint:
    """One REST call. ``path`` may hold ``{version}`` (Jobs 2.1/2.2) and ``{name}`` path parameters."""

    method: str
    path: str
    idempotent: str = ALWAYS
    path_params: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiRequest:
    """A transport-neutral HTTP request. ``endpoint`` is the path without host, used in messages."""

    method: str
    url: str
    endpoint: str
    query: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    form: dict[str, str] | None = None
    idempotent: bool = True
    authenticated: bool = True
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)

    def body_bytes(self) -> bytes | None:
        """Serialised JSON body (both transports send exactly these bytes)."""
        if self.json_body is None:
            return None
        return json.dumps(self.json_body, separators=(",", ":")).encode()


def _jobs(method: str, action: str, idempotent: str = ALWAYS) -> Endpoint:
    return Endpoint(method, "/api/{version}/jobs/" + action, idempotent)


class EP:
    """The endpoint table (names mirror the hook methods)."""

    # Jobs (api_version 2.2 by default, 2.1 selectable)
    JOBS_CREATE = _jobs("POST", "create", NEVER)
    JOBS_GET = _jobs("GET", "get")
    JOBS_LIST = _jobs("GET", "list")
    JOBS_UPDATE = _jobs("POST", "update")
    JOBS_RESET = _jobs("POST", "reset")
    JOBS_DELETE = _jobs("POST", "delete")
    JOBS_RUN_NOW = _jobs("POST", "run-now", WITH_TOKEN)
    RUNS_SUBMIT = _jobs("POST", "runs/submit", WITH_TOKEN)
    RUNS_GET = _jobs("GET", "runs/get")
    RUNS_GET_OUTPUT = _jobs("GET", "runs/get-output")
    RUNS_LIST = _jobs("GET", "runs/list")
    RUNS_CANCEL = _jobs("POST", "runs/cancel")
    RUNS_CANCEL_ALL = _jobs("POST", "runs/cancel-all")
    RUNS_DELETE = _jobs("POST", "runs/delete")
    RUNS_REPAIR = _jobs("POST", "runs/repair", NEVER)
    # Clusters
    CLUSTERS_CREATE = Endpoint("POST", "/api/2.1/clusters/create", NEVER)
    CLUSTERS_GET = Endpoint("GET", "/api/2.1/clusters/get")
    CLUSTERS_LIST = Endpoint("GET", "/api/2.1/clusters/list")
    CLUSTERS_START = Endpoint("POST", "/api/2.1/clusters/start")
    CLUSTERS_RESTART = Endpoint("POST", "/api/2.1/clusters/restart")
    CLUSTERS_EDIT = Endpoint("POST", "/api/2.1/clusters/edit")
    CLUSTERS_RESIZE = Endpoint("POST", "/api/2.1/clusters/resize")
    CLUSTERS_DELETE = Endpoint("POST", "/api/2.1/clusters/delete")
    CLUSTERS_PERMANENT_DELETE = Endpoint("POST", "/api/2.1/clusters/permanent-delete")
    CLUSTERS_SPARK_VERSIONS = Endpoint("GET", "/api/2.1/clusters/spark-versions")
    # DBFS (add-block and put append/replace data, so they are not blindly resent)
    DBFS_PUT = Endpoint("POST", "/api/2.0/dbfs/put")
    DBFS_CREATE = Endpoint("POST", "/api/2.0/dbfs/create", NEVER)
    DBFS_ADD_BLOCK = Endpoint("POST", "/api/2.0/dbfs/add-block", NEVER)
    DBFS_CLOSE = Endpoint("POST", "/api/2.0/dbfs/close")
    DBFS_READ = Endpoint("GET", "/api/2.0/dbfs/read")
    DBFS_GET_STATUS = Endpoint("GET", "/api/2.0/dbfs/get-status")
    DBFS_LIST = Endpoint("GET", "/api/2.0/dbfs/list")
    DBFS_MKDIRS = Endpoint("POST", "/api/2.0/dbfs/mkdirs")
    DBFS_DELETE = Endpoint("POST", "/api/2.0/dbfs/delete")
    DBFS_MOVE = Endpoint("POST", "/api/2.0/dbfs/move", NEVER)
    # Secrets
    SECRET_SCOPES_CREATE = Endpoint("POST", "/api/2.0/secrets/scopes/create", NEVER)
    SECRET_SCOPES_LIST = Endpoint("GET", "/api/2.0/secrets/scopes/list")
    SECRET_SCOPES_DELETE = Endpoint("POST", "/api/2.0/secrets/scopes/delete")
    SECRETS_PUT = Endpoint("POST", "/api/2.0/secrets/put")
    SECRETS_GET = Endpoint("GET", "/api/2.0/secrets/get")
    SECRETS_LIST = Endpoint("GET", "/api/2.0/secrets/list")
    SECRETS_DELETE = Endpoint("POST", "/api/2.0/secrets/delete")
    SECRET_ACLS_PUT = Endpoint("POST", "/api/2.0/secrets/acls/put")
    SECRET_ACLS_GET = Endpoint("GET", "/api/2.0/secrets/acls/get")
    SECRET_ACLS_LIST = Endpoint("GET", "/api/2.0/secrets/acls/list")
    SECRET_ACLS_DELETE = Endpoint("POST", "/api/2.0/secrets/acls/delete")
    # Permissions
    JOB_PERMISSIONS_GET = Endpoint("GET", "/api/2.0/permissions/jobs/{job_id}", ALWAYS, ("job_id",))
    JOB_PERMISSIONS_SET = Endpoint("PUT", "/api/2.0/permissions/jobs/{job_id}", ALWAYS, ("job_id",))
    JOB_PERMISSIONS_UPDATE = Endpoint("PATCH", "/api/2.0/permissions/jobs/{job_id}", ALWAYS, ("job_id",))
    # Workspace
    WORKSPACE_IMPORT = Endpoint("POST", "/api/2.0/workspace/import")
    WORKSPACE_EXPORT = Endpoint("GET", "/api/2.0/workspace/export")
    WORKSPACE_GET_STATUS = Endpoint("GET", "/api/2.0/workspace/get-status")
    WORKSPACE_LIST = Endpoint("GET", "/api/2.0/workspace/list")
    WORKSPACE_MKDIRS = Endpoint("POST", "/api/2.0/workspace/mkdirs")
    WORKSPACE_DELETE = Endpoint("POST", "/api/2.0/workspace/delete")
    # SQL: statements (execute has no idempotency token: never resent) and warehouses
    SQL_STATEMENTS_EXECUTE = Endpoint("POST", "/api/2.0/sql/statements", NEVER)
    SQL_STATEMENTS_GET = Endpoint("GET", "/api/2.0/sql/statements/{statement_id}", ALWAYS, ("statement_id",))
    SQL_STATEMENTS_CANCEL = Endpoint(
        "POST", "/api/2.0/sql/statements/{statement_id}/cancel", ALWAYS, ("statement_id",)
    )
    SQL_STATEMENTS_RESULT_CHUNK = Endpoint(
        "GET",
        "/api/2.0/sql/statements/{statement_id}/result/chunks/{chunk_index}",
        ALWAYS,
        ("statement_id", "chunk_index"),
    )
    SQL_WAREHOUSES_CREATE = Endpoint("POST", "/api/2.0/sql/warehouses", NEVER)
    SQL_WAREHOUSES_LIST = Endpoint("GET", "/api/2.0/sql/warehouses")
    SQL_WAREHOUSES_GET = Endpoint("GET", "/api/2.0/sql/warehouses/{id}", ALWAYS, ("id",))
    SQL_WAREHOUSES_EDIT = Endpoint("POST", "/api/2.0/sql/warehouses/{id}/edit", ALWAYS, ("id",))
    SQL_WAREHOUSES_START = Endpoint("POST", "/api/2.0/sql/warehouses/{id}/start", ALWAYS, ("id",))
    SQL_WAREHOUSES_STOP = Endpoint("POST", "/api/2.0/sql/warehouses/{id}/stop", ALWAYS, ("id",))
    SQL_WAREHOUSES_DELETE = Endpoint("DELETE", "/api/2.0/sql/warehouses/{id}", ALWAYS, ("id",))
    # Identity
    SCIM_ME = Endpoint("GET", "/api/2.0/preview/scim/v2/Me")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_query_value(v) for v in value)
    return str(value)


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


_SECRET_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def _dbfs_path(name: str, value: Any) -> str | None:
    text = str(value)
    if not (text[5:] if text.startswith("dbfs:") else text).startswith("/"):
        return f"{name} {value!r} must be an absolute DBFS path (/... or dbfs:/...)"
    return None


def _secret_name(name: str, value: Any) -> str | None:
    if not _SECRET_NAME.match(str(value)):
        return (
            f"{name} {value!r} is not a valid secret {name} name "
            "(letters, digits, '-', '_' and '.', at most 128 characters)"
        )
    return None


#: Arguments checked locally (by path prefix), so a bad one fails before any request is sent.
_PARAM_CHECKS: tuple[tuple[str, tuple[str, ...], Callable[[str, Any], str | None]], ...] = (
    ("/api/2.0/dbfs/", ("path", "source_path", "destination_path"), _dbfs_path),
    ("/api/2.0/secrets/", ("scope", "key"), _secret_name),
)


def check_params(endpoint: Endpoint, params: Mapping[str, Any]) -> None:
    """Raise :class:`DatabricksConfigError` naming the argument when a path or name is malformed."""
    for prefix, names, check in _PARAM_CHECKS:
        if not endpoint.path.startswith(prefix):
            continue
        for name in names:
            if name in params and params[name] is not None:
                problem = check(name, params[name])
                if problem:
                    raise DatabricksConfigError(f"{endpoint.path.rsplit('/api/2.0/', 1)[-1]}: {problem}")


def build_request(host: str, endpoint: Endpoint, api_version: str, params: Mapping[str, Any]) -> ApiRequest:
    """Build the request for ``endpoint``: GET params go to the query string, others to a JSON body.

    ``None`` values are dropped so callers can pass optional keyword arguments straight through.
    """
    params = {k: v for k, v in params.items() if v is not None}
    check_params(endpoint, params)
    path_values = {name: params.pop(name) for name in endpoint.path_params if name in params}
    missing = set(endpoint.path_params) - set(path_values)
    if missing:
        raise TypeError(f"{endpoint.path} needs {', '.join(sorted(missing))}")
    path = endpoint.path.format(version=api_version, **{k: str(v) for k, v in path_values.items()})
    if endpoint.idempotent == ALWAYS:
        idempotent = True
    elif endpoint.idempotent == WITH_TOKEN:
        idempotent = bool(params.get("idempotency_token"))
    else:
        idempotent = False
    if endpoint.method == "GET":
        query = {k: _query_value(v) for k, v in params.items()}
        return ApiRequest("GET", host + path, path, query=query, idempotent=True)
    body = _drop_none(params)
    return ApiRequest(endpoint.method, host + path, path, json_body=body, idempotent=idempotent)


def runs_list_params(
    job_id: int | None = None,
    active_only: bool = False,
    completed_only: bool = False,
    run_type: str | None = None,
    limit: int = 25,
    expand_tasks: bool = False,
) -> dict[str, Any]:
    """``runs/list`` query for both hooks. Flags are sent only when set, so a request carries
    no filter it did not ask for (``active_only`` and ``completed_only`` are exclusive)."""
    return {
        "job_id": job_id,
        "active_only": active_only or None,
        "completed_only": completed_only or None,
        "run_type": run_type,
        "limit": limit,
        "expand_tasks": expand_tasks or None,
    }


def merge_pages(base: dict[str, Any], page: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    """Append the paged arrays of a 2.2 continuation ``page`` into ``base`` (in place).

    Arrays may live at top level (runs/get) or under ``settings`` (jobs/get).
    """
    for container_key in (None, "settings"):
        src = page if container_key is None else page.get(container_key)
        dst = base if container_key is None else base.get(container_key)
        if not isinstance(src, Mapping) or not isinstance(dst, dict):
            continue
        for key in keys:
            extra = src.get(key)
            if isinstance(extra, list) and extra:
                dst.setdefault(key, [])
                dst[key].extend(extra)


JOB_PAGED_KEYS = ("tasks", "job_clusters", "parameters", "environments")
RUN_PAGED_KEYS = ("tasks", "job_clusters", "job_parameters", "repair_history", "iterations")
