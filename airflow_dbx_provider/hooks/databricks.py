"""Synchronous Databricks hook over one pooled ``requests.Session``.

The REST methods live in small mixins (jobs, clusters, files, secrets, and :mod:`.common_api` for
the calls both hooks carry); the exchange is the flows of :mod:`.core`. This module only adds the
Airflow wiring and the ``requests`` transport that :func:`.exchange.drive` performs steps with.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
from airflow.sdk import BaseHook
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies, requote_uri

from airflow_dbx_provider._compat import AirflowNotFoundException
from airflow_dbx_provider.exceptions import DbxError
from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
from airflow_dbx_provider.hooks.api import ApiRequest, Endpoint
from airflow_dbx_provider.hooks.clusters import ClustersMixin
from airflow_dbx_provider.hooks.common_api import CommonApi
from airflow_dbx_provider.hooks.exchange import Flow, Response, Send, drive
from airflow_dbx_provider.hooks.files import DbfsMixin, WorkspaceMixin
from airflow_dbx_provider.hooks.jobs import JobsMixin
from airflow_dbx_provider.hooks.secrets import PermissionsMixin, SecretsMixin
from airflow_dbx_provider.hooks.settings import DbxSettings, resolve_settings
from airflow_dbx_provider.hooks.sql import SqlMixin

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


#: Characters ``urlencode`` (``quote_plus``) leaves alone: a query value made only of these is sent
#: as is, without the per-character quoting pass.
_PLAIN_QUERY_VALUE = re.compile(r"[A-Za-z0-9_.~-]*")
#: A URL made only of these (no ``%`` escapes) is already what ``requote_uri`` would return.
_PLAIN_URL = re.compile(r"[A-Za-z0-9_.~\-!#$&'()*+,/:;=?@\[\]]*")


def _query_string(query: Mapping[str, Any]) -> str:
    """``urlencode(query)``, with plain values (ids, flags, page tokens) joined without quoting."""
    parts = []
    for key, value in query.items():
        text = value if isinstance(value, str) else str(value)
        if _PLAIN_QUERY_VALUE.fullmatch(text) and _PLAIN_QUERY_VALUE.fullmatch(key):
            parts.append(f"{key}={text}")
        else:
            parts.append(urlencode({key: value}))
    return "&".join(parts)


def _prepare(req: ApiRequest, headers: Mapping[str, str]) -> requests.PreparedRequest:
    """The wire request, built directly: what ``Session.prepare_request`` would build for it, minus
    the session-wide merging (cookies, session headers and auth, ``.netrc``) we never use."""
    prepared = requests.PreparedRequest()
    if req.form is not None or req.basic_auth is not None:  # OAuth token requests: the full path
        prepared.prepare(
            method=req.method,
            url=req.url,
            headers=dict(headers),
            params=req.query or None,
            data=req.form,
            auth=req.basic_auth,
        )
        return prepared
    url = req.url if not req.query else f"{req.url}?{_query_string(req.query)}"
    prepared.method = req.method
    prepared.url = url if _PLAIN_URL.fullmatch(url) else requote_uri(url)
    prepared.headers = CaseInsensitiveDict(headers)
    body = req.body_bytes() if req.json_body is not None else None
    if body is not None:
        prepared.headers["Content-Length"] = str(len(body))
    elif req.method not in ("GET", "HEAD"):
        prepared.headers["Content-Length"] = "0"
    prepared.body = body
    prepared.hooks = {"response": []}
    return prepared


class DatabricksHook(
    CommonApi[dict[str, Any]],
    JobsMixin,
    ClustersMixin,
    DbfsMixin,
    WorkspaceMixin,
    SecretsMixin,
    PermissionsMixin,
    SqlMixin,
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
        self._session_settings: DbxSettings | None = None
        self._adapter: HTTPAdapter | None = None
        self._proxies: dict[str, dict[str, str]] = {}
        self._last_proxies: tuple[str, dict[str, str]] | None = None  # (origin + "/", its proxies)
        self._send_options: dict[str, Any] = {}
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
        """The pooled session, built once per resolved settings (rebuilt when they change).

        Environment proxies (``HTTPS_PROXY``, ``NO_PROXY``...) are resolved here, once per
        session, not on every request as ``Session.request`` does; ``.netrc`` is not read (every
        call carries its own credentials) and ``verify`` is always the connection's.
        """
        settings = self.settings
        if self._session is None or self._session_settings is not settings:
            self.close()
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.verify = settings.verify
            session.trust_env = True
            self._session, self._session_settings, self._adapter = session, settings, adapter
            self._proxies, self._last_proxies = {}, None
            self._send_options = {
                "stream": False,
                "timeout": (settings.connect_timeout, settings.read_timeout),
                # Always the connection's: REQUESTS_CA_BUNDLE never replaces its ca_bundle.
                "verify": settings.verify,
                "cert": None,
            }
        return self._session

    def _proxies_for(self, url: str) -> dict[str, str]:
        """Environment proxies for ``url``'s origin, read once per session (requests' own rules)."""
        last = self._last_proxies
        if last is not None and url.startswith(last[0]):  # the workspace again: no URL parsing
            return last[1]
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        proxies = self._proxies.get(origin)
        if proxies is None:
            proxies = self._proxies[origin] = get_environ_proxies(origin)
        self._last_proxies = (origin + "/", proxies)
        return proxies

    def close(self) -> None:
        """Release pooled connections."""
        if self._session is not None:
            self._session.close()
            self._session = None
            self._session_settings = self._adapter = None
            self._proxies, self._last_proxies = {}, None

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
        req, adapter = step.request, self._adapter
        if adapter is None or self._session_settings is not self._settings:
            self.session  # noqa: B018 - builds the session, adapter and send options for these settings
            adapter = self._adapter
            assert adapter is not None
        try:
            resp = adapter.send(
                _prepare(req, step.headers), proxies=self._proxies_for(req.url), **self._send_options
            )
            body = resp.content
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(req, exc) from None
        except requests.exceptions.RequestException as exc:
            raise self._connection_error(req, exc, request_sent=not _never_reached_server(exc)) from None
        return Response(resp.status_code, resp.headers, body)

    # ---- Airflow UI ----------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Airflow's "Test" button: resolve settings, authenticate, and call SCIM Me once."""
        try:
            return True, self._run(self._test_connection_flow())
        except DbxError as exc:
            return False, str(exc)
