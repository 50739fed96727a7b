"""Asynchronous Databricks hook over ``httpx.AsyncClient``, for triggers.

It carries the calls the run pollers need (:mod:`.common_api`: ``get_run``, ``list_runs_page``,
``cancel_run``) plus :meth:`DatabricksAsyncHook.call`. The exchange (retry policy, OAuth, error
mapping, rate limiter, paging) is the same flows as the sync hook's (:mod:`.core`); this module is
only the ``httpx`` transport that :func:`.exchange.adrive` performs steps with.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx
from airflow.sdk import BaseHook

from airflow_dbx_provider._compat import AirflowNotFoundException
from airflow_dbx_provider.exceptions import DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.api import Endpoint
from airflow_dbx_provider.hooks.common_api import CommonApi
from airflow_dbx_provider.hooks.exchange import Flow, Response, Send, adrive
from airflow_dbx_provider.hooks.settings import DbxSettings, resolve_settings

T = TypeVar("T")

#: Connections per client, all kept alive between calls: the shared run poller reads up to this many
#: windows side by side every cycle, and a connection closed after each burst is a new TCP (and TLS)
#: handshake per window per cycle.
POOL_SIZE = 32

# Failures where httpx never handed the request to the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _is_tls_failure(exc: BaseException) -> bool:
    seen = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    return False


class DatabricksAsyncHook(CommonApi[Coroutine[Any, Any, dict[str, Any]]], BaseHook):
    """Async twin of :class:`~airflow_dbx_provider.hooks.databricks.DatabricksHook` (same constructor args).

    :param sleep: an ``async`` callable used by retries and the rate limiter (tests pass a fake).
    """

    conn_name_attr = "databricks_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "dbx"
    hook_name = "Databricks (dbx, async)"
    _transport_name = f"python-httpx/{httpx.__version__}"

    def __init__(
        self,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        *,
        settings: DbxSettings | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__()
        self.databricks_conn_id = databricks_conn_id
        self._sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        self._client: httpx.AsyncClient | None = None
        self._auth_lock: asyncio.Lock | None = None
        self._init_core(None if settings is not None else databricks_conn_id, settings, overrides)

    @classmethod
    def from_settings(
        cls, *, sleep: Callable[[float], Awaitable[None]] | None = None, **values: Any
    ) -> DatabricksAsyncHook:
        """Build a hook from explicit values without any Airflow connection or env."""
        return cls(settings=resolve_settings(conn_id=None, conn=None, overrides=values, env={}), sleep=sleep)

    async def aget_settings(self) -> DbxSettings:
        """Resolved settings; reads the connection without blocking the event loop."""
        if self._settings is None:
            try:
                conn = await self.aget_connection(self.databricks_conn_id)
            except AirflowNotFoundException:
                conn = None
            return self._settings_from_connection(conn)
        return self._settings

    def _client_for(self, settings: DbxSettings) -> httpx.AsyncClient:
        if self._client is None:
            verify: bool | ssl.SSLContext = settings.verify is not False
            if settings.ca_bundle and not settings.insecure_skip_verify:
                verify = ssl.create_default_context(cafile=settings.ca_bundle)
            self._client = httpx.AsyncClient(
                verify=verify,
                timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
                limits=httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE),
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        """Close pooled connections (call from the trigger's ``finally``/cleanup)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> DatabricksAsyncHook:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- the one request path -----------------------------------------------------------------
    async def call(
        self, endpoint: Endpoint, /, *, retry_deadline_seconds: float | None = None, **params: Any
    ) -> Any:
        """Send one REST call with retries, rate limiting and error mapping; return parsed JSON."""
        return await self._run(self._call_flow(endpoint, params, retry_deadline_seconds))

    async def _run(self, flow: Flow[T]) -> T:
        """Resolve the settings, then drive ``flow`` over the client."""
        await self.aget_settings()
        if self._auth_lock is None:
            self._auth_lock = asyncio.Lock()
        return await adrive(flow, self._send, self._sleep, self._auth_lock)

    async def _send(self, step: Send) -> Response:
        req = step.request
        client = self._client_for(await self.aget_settings())
        try:
            resp = await client.request(
                req.method,
                req.url,
                params=req.query or None,
                content=req.body_bytes() if req.json_body is not None else None,
                data=req.form,
                headers=dict(step.headers),
                auth=req.basic_auth,
            )
        except httpx.TransportError as exc:
            if _is_tls_failure(exc):
                raise self._tls_error(req, exc) from None
            raise self._connection_error(req, exc, request_sent=not isinstance(exc, _NOT_SENT)) from None
        return Response(resp.status_code, resp.headers, resp.content)

    async def test_connection(self) -> tuple[bool, str]:
        """Resolve settings, authenticate, and call SCIM Me once (same answer as the sync hook)."""
        try:
            return True, await self._run(self._test_connection_flow())
        except DbxError as exc:
            return False, str(exc)
