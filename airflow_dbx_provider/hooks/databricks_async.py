"""Asynchronous Databricks hook over ``httpx.AsyncClient``, for triggers.

It shares request building (:mod:`.api`), the retry policy (:mod:`.retry`), error mapping
(:mod:`.errors`), auth state (:mod:`.auth`) and the per-host rate limiter with the sync hook;
only the transport and the sleep differ. A new async REST method is one line over :meth:`call`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from airflow.sdk import BaseHook
from tenacity import AsyncRetrying

from airflow_dbx_provider._compat import AirflowNotFoundException
from airflow_dbx_provider.exceptions import DbxError
from airflow_dbx_provider.hooks.api import (
    EP,
    JOB_PAGED_KEYS,
    RUN_PAGED_KEYS,
    ApiRequest,
    Endpoint,
    merge_pages,
    runs_list_params,
)
from airflow_dbx_provider.hooks.auth import OAuthM2MAuth
from airflow_dbx_provider.hooks.core import DEFAULT_CONN_ID, ClientCore
from airflow_dbx_provider.hooks.settings import DbxSettings, resolve_settings

# Failures where httpx never handed the request to the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _is_tls_failure(exc: BaseException) -> bool:
    seen = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    return False


class DatabricksAsyncHook(ClientCore, BaseHook):
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
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
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
        settings = await self.aget_settings()
        req = self._prepare(settings, endpoint, params)
        return await self._execute(settings, req, retry_deadline_seconds)

    async def _execute(self, settings: DbxSettings, req: ApiRequest, deadline: float | None = None) -> Any:
        retrying = AsyncRetrying(sleep=self._sleep, **self._policy(settings, req, deadline))
        return await retrying(self._attempt, settings, req)

    async def _attempt(self, settings: DbxSettings, req: ApiRequest) -> Any:
        authorization = await self._authorization(settings) if req.authenticated else None
        status, headers, body = await self._send(settings, req, authorization)
        auth = self._auth
        if auth is not None and self._should_refresh(req, status, body):
            auth.invalidate()
            status, headers, body = await self._send(settings, req, await self._authorization(settings))
        return self._finish(req, status, headers, body)

    async def _authorization(self, settings: DbxSettings) -> str | None:
        auth = self._auth
        assert auth is not None
        header = auth.cached_header()
        if header is not None or not isinstance(auth, OAuthM2MAuth):
            return header
        if self._auth_lock is None:
            self._auth_lock = asyncio.Lock()
        async with self._auth_lock:
            header = auth.cached_header()
            if header is None:
                if auth.token_endpoint is None:
                    try:
                        auth.accept_discovery(await self._execute(settings, auth.discovery_request()))
                    except DbxError:
                        auth.use_fallback_endpoint()
                header = auth.accept_token(await self._execute(settings, auth.token_request()))
            return header

    async def _send(
        self, settings: DbxSettings, req: ApiRequest, authorization: str | None
    ) -> tuple[int, Any, bytes]:
        delay = self._rate_limit_delay(req)
        if delay > 0:
            await self._sleep(delay)
        client = self._client_for(settings)
        try:
            resp = await client.request(
                req.method,
                req.url,
                params=req.query or None,
                content=req.body_bytes() if req.json_body is not None else None,
                data=req.form,
                headers=self._headers(req, authorization),
                auth=req.basic_auth,
            )
        except httpx.TransportError as exc:
            if _is_tls_failure(exc):
                raise self._tls_error(req, exc) from None
            raise self._connection_error(req, exc, request_sent=not isinstance(exc, _NOT_SENT)) from None
        return resp.status_code, resp.headers, resp.content

    # ---- pagination helpers (same shape as the sync mixin's) -------------------------------------
    async def _paged_get(self, endpoint: Endpoint, keys: tuple[str, ...], **params: Any) -> dict[str, Any]:
        first = await self.call(endpoint, **params)
        token = first.get("next_page_token")
        while token:
            page = await self.call(endpoint, **params, page_token=token)
            merge_pages(first, page, keys)
            token = page.get("next_page_token")
        first.pop("next_page_token", None)
        first.pop("has_more", None)
        return first

    # ---- REST methods: one line each over call() ----------------------------------------------------
    async def get_run(self, run_id: int, include_history: bool = False, **extra: Any) -> dict[str, Any]:
        return await self._paged_get(
            EP.RUNS_GET, RUN_PAGED_KEYS, run_id=run_id, include_history=include_history, **extra
        )

    async def get_run_output(self, run_id: int, **extra: Any) -> dict[str, Any]:
        return await self.call(EP.RUNS_GET_OUTPUT, run_id=run_id, **extra)

    async def get_job(self, job_id: int, **extra: Any) -> dict[str, Any]:
        return await self._paged_get(EP.JOBS_GET, JOB_PAGED_KEYS, job_id=job_id, **extra)

    async def cancel_run(self, run_id: int, **extra: Any) -> dict[str, Any]:
        return await self.call(EP.RUNS_CANCEL, run_id=run_id, **extra)

    async def get_cluster(self, cluster_id: str, **extra: Any) -> dict[str, Any]:
        return await self.call(EP.CLUSTERS_GET, cluster_id=cluster_id, **extra)

    async def run_now(self, job_id: int, **params: Any) -> dict[str, Any]:
        return await self.call(EP.JOBS_RUN_NOW, job_id=job_id, **params)

    async def submit_run(self, spec: dict[str, Any], **extra: Any) -> int:
        return int((await self.call(EP.RUNS_SUBMIT, **{**spec, **extra}))["run_id"])

    async def list_runs_page(
        self,
        job_id: int | None = None,
        active_only: bool = False,
        completed_only: bool = False,
        run_type: str | None = None,
        limit: int = 25,
        expand_tasks: bool = False,
        page_token: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """One page of runs: ``{runs, next_page_token?}``."""
        params = runs_list_params(job_id, active_only, completed_only, run_type, limit, expand_tasks)
        return await self.call(EP.RUNS_LIST, **params, page_token=page_token, **extra)

    async def list_runs(self, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Every run, all pages (same arguments as :meth:`list_runs_page` minus ``page_token``)."""
        token: str | None = None
        while True:
            page = await self.list_runs_page(**kwargs, page_token=token)
            for run in page.get("runs") or []:
                yield run
            token = page.get("next_page_token")
            if not token:
                return

    async def list_jobs_page(
        self, name: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> dict[str, Any]:
        return await self.call(EP.JOBS_LIST, name=name, limit=limit, page_token=page_token)

    async def test_connection(self) -> tuple[bool, str]:
        try:
            me = await self.call(EP.SCIM_ME, retry_deadline_seconds=30)
        except DbxError as exc:
            return False, str(exc)
        return True, self._connected_message(await self.aget_settings(), me)
