"""Synchronous Databricks hook over one pooled ``requests.Session``.

The REST methods live in small mixins (jobs, clusters, files, secrets, and :mod:`.common_api` for
the calls both hooks carry); the exchange is the flows of :mod:`.core`. This module only adds the
Airflow wiring and the ``requests`` transport that :func:`.exchange.drive` performs steps with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from airflow.sdk import BaseHook
from requests.adapters import HTTPAdapter

from airflow_dbx_provider._compat import AirflowNotFoundException
from airflow_dbx_provider.exceptions import DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.api import Endpoint
from airflow_dbx_provider.hooks.clusters import ClustersMixin
from airflow_dbx_provider.hooks.common_api import CommonApi
from airflow_dbx_provider.hooks.exchange import Flow, Response, Send, drive
from airflow_dbx_provider.hooks.files import DbfsMixin, WorkspaceMixin
from airflow_dbx_provider.hooks.jobs import JobsMixin
from airflow_dbx_provider.hooks.secrets import PermissionsMixin, SecretsMixin
from airflow_dbx_provider.hooks.settings import DbxSettings, resolve_settings

try:
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
except ImportError:  # pragma: no cover
    ConnectTimeoutError = NewConnectionError = ()  # type: ignore[assignment,misc]

T = TypeVar("T")


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
    CommonApi[dict[str, Any]],
    JobsMixin,
    ClustersMixin,
    DbfsMixin,
    WorkspaceMixin,
    SecretsMixin,
    PermissionsMixin,
    BaseHook,
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
        return self._run(self._call_flow(endpoint, params, retry_deadline_seconds))

    def _run(self, flow: Flow[T]) -> T:
        """Resolve the settings, then drive ``flow`` over the session."""
        self.settings  # noqa: B018 - reads the connection once, before any step
        return drive(flow, self._send, self._sleep, self._lock)

    def _send(self, step: Send) -> Response:
        settings, req = self.settings, step.request
        try:
            resp = self.session.request(
                req.method,
                req.url,
                params=req.query or None,
                data=req.body_bytes() if req.json_body is not None else req.form,
                headers=dict(step.headers),
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
        return Response(resp.status_code, resp.headers, resp.content)

    # ---- Airflow UI ----------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Airflow's "Test" button: resolve settings, authenticate, and call SCIM Me once."""
        try:
            return True, self._run(self._test_connection_flow())
        except DbxError as exc:
            return False, str(exc)
