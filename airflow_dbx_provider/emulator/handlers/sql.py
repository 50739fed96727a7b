"""SQL warehouses API and Statement Execution API 2.0: read the wire, call the SQL services.

`POST /sql/statements` waits up to `wait_timeout` (simulated seconds, 0 or 5–50, default 10)
for the statement to finish. It returns a coroutine that the app awaits outside the store lock,
so a waiting client never blocks other requests; the statement itself runs in a worker thread.

`serve_result_link` answers the EXTERNAL_LINKS URLs (`/_emulator/sql-results/<token>`). Like a
presigned cloud-storage URL it takes no bearer token: one sent anyway is refused, as S3 refuses
a second auth mechanism, so a client that leaks its Databricks token there finds out.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.routing import ApiRequest, RawResponse, route
from airflow_dbx_provider.emulator.services.sql_context import StatementContext
from airflow_dbx_provider.emulator.services.sql_results import LINK_PREFIX, LinkError
from airflow_dbx_provider.emulator.services.sql_statements import TERMINAL_STATES, Reader

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Mapping

    from airflow_dbx_provider.emulator.clock import Clock
    from airflow_dbx_provider.emulator.services.sql_statements import SqlStatementsService
    from airflow_dbx_provider.emulator.services.sql_warehouses import SqlWarehousesService

VERSIONS = ("2.0",)
DEFAULT_WAIT = "10s"
_WAIT_RE = re.compile(r"^(\d+)s$")


def warehouses_route(method: str, template: str) -> Any:
    return route(method, f"/sql/warehouses{template}", family="sql", versions=VERSIONS)


def statements_route(method: str, template: str) -> Any:
    return route(method, f"/sql/statements{template}", family="sql", versions=VERSIONS)


def parse_wait_timeout(value: str) -> int:
    found = _WAIT_RE.match(value.strip())
    seconds = int(found.group(1)) if found else -1
    if seconds != 0 and not 5 <= seconds <= 50:
        raise invalid_parameter(f"wait_timeout must be 0s or between 5s and 50s, got {value!r}.")
    return seconds


def _parameters(req: ApiRequest) -> list[dict[str, Any]]:
    raw = req.get("parameters", [])
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise invalid_parameter("Invalid value for field parameters: expected a list of {name, value, type}")
    return raw


def _reader(req: ApiRequest) -> Reader:
    return Reader(req.principal.name, req.principal.is_admin)


def serve_result_link(
    statements: SqlStatementsService, method: str, path: str, headers: Mapping[str, str]
) -> RawResponse:
    """GET one chunk through its link: the bytes, or a storage-style XML error."""
    token = path[len(LINK_PREFIX) :]
    try:
        if method != "GET":
            raise LinkError(
                405, "MethodNotAllowed", "The specified method is not allowed against this resource."
            )
        if "authorization" in {name.lower() for name in headers}:
            raise LinkError(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the signed URL or the Authorization header "
                "should be specified",
            )
        content, media_type = statements.fetch_link(token, {k.lower(): v for k, v in headers.items()})
    except LinkError as err:
        return RawResponse(err.xml(), media_type="application/xml", status_code=err.status)
    return RawResponse(content, media_type=media_type)


class SqlHandlers:
    def __init__(
        self,
        warehouses: SqlWarehousesService,
        statements: SqlStatementsService,
        clock: Clock,
        base_url: Callable[[], str] = lambda: "",
    ) -> None:
        self.warehouses = warehouses
        self.statements = statements
        self.clock = clock
        self.base_url = base_url  # external links are absolute URLs of this emulator

    # ---- warehouses -------------------------------------------------------------------------------
    @warehouses_route("POST", "")
    def create_warehouse(self, req: ApiRequest) -> dict[str, Any]:
        return {"id": self.warehouses.create(req.params, req.principal.name)}

    @warehouses_route("GET", "")
    def list_warehouses(self, req: ApiRequest) -> dict[str, Any]:
        return {"warehouses": self.warehouses.list()}

    @warehouses_route("GET", "/{id}")
    def get_warehouse(self, req: ApiRequest) -> dict[str, Any]:
        return self.warehouses.get(req.path_params["id"])

    @warehouses_route("POST", "/{id}/edit")
    def edit_warehouse(self, req: ApiRequest) -> dict[str, Any]:
        self.warehouses.edit(req.path_params["id"], req.params)
        return {}

    @warehouses_route("POST", "/{id}/start")
    def start_warehouse(self, req: ApiRequest) -> dict[str, Any]:
        self.warehouses.start(req.path_params["id"])
        return {}

    @warehouses_route("POST", "/{id}/stop")
    def stop_warehouse(self, req: ApiRequest) -> dict[str, Any]:
        self.warehouses.stop(req.path_params["id"])
        return {}

    @warehouses_route("DELETE", "/{id}")
    def delete_warehouse(self, req: ApiRequest) -> dict[str, Any]:
        self.warehouses.delete(req.path_params["id"])
        return {}

    # ---- statements -------------------------------------------------------------------------------
    @statements_route("POST", "")
    def execute(self, req: ApiRequest) -> Coroutine[Any, Any, dict[str, Any]]:
        wait = parse_wait_timeout(req.str("wait_timeout", DEFAULT_WAIT) or DEFAULT_WAIT)
        on_timeout = (req.str("on_wait_timeout", "CONTINUE") or "CONTINUE").upper()
        if on_timeout not in ("CONTINUE", "CANCEL"):
            raise invalid_parameter(f"Invalid on_wait_timeout {on_timeout!r}: expected CONTINUE or CANCEL")
        ctx = StatementContext(
            catalog=req.str("catalog"),
            schema=req.str("schema"),
            parameters=_parameters(req),
            user=req.principal.name,
        )
        statement_id = self.statements.execute(
            req.required_str("warehouse_id"),
            req.required_str("statement"),
            ctx,
            format=(req.str("format", "JSON_ARRAY") or "JSON_ARRAY").upper(),
            disposition=(req.str("disposition", "INLINE") or "INLINE").upper(),
            row_limit=req.int("row_limit"),
            byte_limit=req.int("byte_limit"),
        )
        return self._wait(statement_id, wait, on_timeout, _reader(req))

    async def _wait(self, statement_id: str, wait: int, on_timeout: str, reader: Reader) -> dict[str, Any]:
        deadline = time.monotonic() + self.clock.real_seconds(wait)
        delay = 0.002
        while wait and self.statements.state(statement_id) not in TERMINAL_STATES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if on_timeout == "CANCEL":
                    self.statements.cancel(statement_id)
                break
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)
        return self.statements.get(statement_id, reader, self.base_url())

    @statements_route("GET", "/{statement_id}")
    def get_statement(self, req: ApiRequest) -> dict[str, Any]:
        return self.statements.get(req.path_params["statement_id"], _reader(req), self.base_url())

    @statements_route("POST", "/{statement_id}/cancel")
    def cancel(self, req: ApiRequest) -> dict[str, Any]:
        self.statements.cancel(req.path_params["statement_id"], _reader(req))
        return {}

    @statements_route("GET", "/{statement_id}/result/chunks/{chunk_index}")
    def result_chunk(self, req: ApiRequest) -> dict[str, Any]:
        index = req.path_params["chunk_index"]
        if not index.isdigit():
            raise invalid_parameter(f"Invalid chunk index {index!r}")
        return self.statements.chunk(
            req.path_params["statement_id"], int(index), _reader(req), self.base_url()
        )
