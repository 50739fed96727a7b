"""Synchronous Databricks hook over one pooled ``requests.Session``.

The REST methods live in small mixins (jobs, clusters, files, secrets); this module only adds the
Airflow wiring and the ``requests`` transport. Every call goes through :meth:`DatabricksHook.call`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from airflow.sdk import BaseHook
from requests.adapters import HTTPAdapter
from tenacity import Retrying

from airflow_dbx_provider._compat import AirflowNotFoundException
from airflow_dbx_provider.exceptions import DbxError
from airflow_dbx_provider.hooks.api import EP, ApiRequest, Endpoint
from airflow_dbx_provider.hooks.auth import OAuthM2MAuth
from airflow_dbx_provider.hooks.clusters import ClustersMixin
from airflow_dbx_provider.hooks.core import DEFAULT_CONN_ID, ClientCore
from airflow_dbx_provider.hooks.files import DbfsMixin, WorkspaceMixin
from airflow_dbx_provider.hooks.jobs import JobsMixin
from airflow_dbx_provider.hooks.secrets import PermissionsMixin, SecretsMixin
from airflow_dbx_provider.hooks.settings import DbxSettings, resolve_settings

try:
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
except ImportError:  # pragma: no cover
    ConnectTimeoutError = NewConnectionError = ()  # type: ignore[assignment,misc]


def _never_reached_server(exc: requests.exceptions.RequestException) -> bool:
    """True only for connect-phase failures: the request bytes were never sent."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError) or isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        return False
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (NewConnectionError, ConnectTimeoutError)):
            return True
        if isinstance(item, BaseException):
            todo.extend([getattr(item, "reason", None), item.__cause__, item.__context__, *item.args])
    return False


class DatabricksHook(
    ClientCore, JobsMixin, ClustersMixin, DbfsMixin, WorkspaceMixin, SecretsMixin, PermissionsMixin, BaseHook
):
    """Talk to a Databricks workspace: one method per REST call, each returning parsed JSON.

    :param databricks_conn_id: Airflow connection (conn type ``dbx`` or the official ``databricks``).
        When it does not exist, ``DATABRICKS_HOST``/``DATABRICKS_TOKEN``/``DATABRICKS_CLIENT_ID``/
        ``DATABRICKS_CLIENT_SECRET`` are used.
    :param settings: already resolved settings (no Airflow connection is read); see :meth:`from_settings`.
    :param sleep: how retries and the rate limiter wait (tests pass a fake).
    :param overrides: any connection extra (``read_timeout``, ``retry_deadline_seconds``, ``token``...).
    """

    conn_name_attr = "databricks_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "dbx"
    hook_name = "Databricks (dbx)"
    _transport_name = f"python-requests/{requests.__version__}"

    def __init__(
        self,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        *,
        settings: DbxSettings | None = None,
        sleep: Callable[[float], None] | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__()
        self.databricks_conn_id = databricks_conn_id
        self._sleep: Callable[[float], None] = sleep or time.sleep
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        self._init_core(None if settings is not None else databricks_conn_id, settings, overrides)

    @classmethod
    def from_settings(cls, *, sleep: Callable[[float], None] | None = None, **values: Any) -> DatabricksHook:
        """Build a hook from explicit values (``host``, ``token``...) without any Airflow connection or env."""
        return cls(settings=resolve_settings(conn_id=None, conn=None, overrides=values, env={}), sleep=sleep)

    # ---- settings and session ------------------------------------------------------------------
    @property
    def settings(self) -> DbxSettings:
        """Resolved settings; reads the connection on first use and fails fast on bad config."""
        if self._settings is None:
            try:
                conn = self.get_connection(self.databricks_conn_id)
            except AirflowNotFoundException:
                conn = None
            return self._settings_from_connection(conn)
        return self._settings

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            settings = self.settings
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.verify = settings.verify
            session.trust_env = True
            self._session = session
        return self._session

    def close(self) -> None:
        """Release pooled connections."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> DatabricksHook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the one request path -----------------------------------------------------------------
    def call(
        self, endpoint: Endpoint, /, *, retry_deadline_seconds: float | None = None, **params: Any
    ) -> Any:
        """Send one REST call with retries, rate limiting and error mapping; return parsed JSON."""
        settings = self.settings
        req = self._prepare(settings, endpoint, params)
        return self._execute(settings, req, retry_deadline_seconds)

    def _execute(self, settings: DbxSettings, req: ApiRequest, deadline: float | None = None) -> Any:
        retrying = Retrying(sleep=self._sleep, **self._policy(settings, req, deadline))
        return retrying(self._attempt, settings, req)

    def _attempt(self, settings: DbxSettings, req: ApiRequest) -> Any:
        authorization = self._authorization(settings) if req.authenticated else None
        status, headers, body = self._send(settings, req, authorization)
        auth = self._auth
        if auth is not None and self._should_refresh(req, status, body):
            auth.invalidate()  # the cached OAuth token was rejected: fetch a new one, once
            status, headers, body = self._send(settings, req, self._authorization(settings))
        return self._finish(req, status, headers, body)

    def _authorization(self, settings: DbxSettings) -> str | None:
        auth = self._auth
        assert auth is not None
        header = auth.cached_header()
        if header is not None or not isinstance(auth, OAuthM2MAuth):
            return header
        with self._lock:
            header = auth.cached_header()
            if header is None:
                if auth.token_endpoint is None:
                    try:
                        auth.accept_discovery(self._execute(settings, auth.discovery_request()))
                    except DbxError:
                        auth.use_fallback_endpoint()
                header = auth.accept_token(self._execute(settings, auth.token_request()))
            return header

    def _send(
        self, settings: DbxSettings, req: ApiRequest, authorization: str | None
    ) -> tuple[int, Any, bytes]:
        delay = self._rate_limit_delay(req)
        if delay > 0:
            self._sleep(delay)
        try:
            resp = self.session.request(
                req.method,
                req.url,
                params=req.query or None,
                data=req.body_bytes() if req.json_body is not None else req.form,
                headers=self._headers(req, authorization),
                auth=req.basic_auth,
                timeout=(settings.connect_timeout, settings.read_timeout),
                # Per request, not only on the session: requests lets REQUESTS_CA_BUNDLE override
                # Session.verify, which would silently drop the connection's ca_bundle.
                verify=settings.verify,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(req, exc) from None
        except requests.exceptions.RequestException as exc:
            raise self._connection_error(req, exc, request_sent=not _never_reached_server(exc)) from None
        return resp.status_code, resp.headers, resp.content

    # ---- Airflow UI ----------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Airflow's "Test" button: resolve settings, authenticate, and call SCIM Me once."""
        try:
            me = self.call(EP.SCIM_ME, retry_deadline_seconds=30)
        except DbxError as exc:
            return False, str(exc)
        return True, self._connected_message(self.settings, me)
