"""Workspace UI sessions: a pasted token becomes a random session id in an HttpOnly cookie.

The cookie holds only the session id; the token stays in this process, so a revoked or expired
token ends its sessions too. A request that carries the cookie and no Authorization header is
authenticated as the session's principal, but the cookie is an ambient credential, so it opens
only what the UI reads (`UI_READS`) and the two actions it offers (`UI_ACTIONS`), and an action
also needs the session's CSRF token in the `X-CSRF-Token` header. Secret values (`secrets/get`)
are out of the cookie's reach.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from airflow_dbx_provider.emulator.auth import Authenticator, Principal
from airflow_dbx_provider.emulator.errors import EmulatorError, permission_denied, unauthenticated

COOKIE_NAME = "dbx_emulator_ui_session"
CSRF_HEADER = "x-csrf-token"
IDLE_SECONDS = 8 * 3600
MAX_SESSIONS = 1000

# Route templates (as in routing.py, version left out) a session cookie may call.
UI_READS = frozenset(
    {
        "/jobs/list",
        "/jobs/get",
        "/jobs/runs/list",
        "/jobs/runs/get",
        "/jobs/runs/get-output",
        "/dbfs/list",
        "/dbfs/get-status",
        "/dbfs/read",
        "/secrets/scopes/list",
        "/secrets/list",
        "/preview/scim/v2/Me",
        "/ui/api/delta",  # the UI's own Delta table view (pages.py)
    }
)
UI_ACTIONS = frozenset({"/jobs/runs/cancel", "/jobs/runs/repair"})


@dataclass
class UiSession:
    token: str
    csrf_token: str
    last_used: float


class UiSessions:
    """Session id → (token, CSRF token); in memory only, so a restart signs everyone out."""

    def __init__(self, auth: Authenticator, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._auth = auth
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._sessions: dict[str, UiSession] = {}

    def login(self, token: str) -> tuple[str, UiSession, Principal]:
        """A new session for a valid bearer token; raises the API's 401/403 for a bad one."""
        principal = self._auth.authenticate(f"Bearer {token.strip()}" if token.strip() else None)
        session_id = secrets.token_urlsafe(32)
        session = UiSession(token.strip(), secrets.token_urlsafe(32), self._monotonic())
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions, key=lambda key: self._sessions[key].last_used)
                del self._sessions[oldest]
            self._sessions[session_id] = session
        return session_id, session, principal

    def logout(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def session(self, session_id: str | None) -> tuple[UiSession, Principal]:
        """The live session behind a cookie value and its principal, or 401."""
        now = self._monotonic()
        with self._lock:
            found = self._sessions.get(session_id or "")
            if found is not None and now - found.last_used > IDLE_SECONDS:
                del self._sessions[session_id or ""]
                found = None
            if found is not None:
                found.last_used = now
        if found is None:
            raise unauthenticated()
        try:
            principal = self._auth.authenticate(f"Bearer {found.token}")
        except EmulatorError:  # the token was revoked or has expired: so has the session
            self.logout(session_id)
            raise unauthenticated() from None
        return found, principal

    def authenticate(
        self, method: str, template: str, headers: Mapping[str, str], cookies: Mapping[str, str]
    ) -> Principal:
        """Who calls an API route: the bearer token if one is sent, else the UI session."""
        authorization = headers.get("authorization")
        session_id = cookies.get(COOKIE_NAME)
        if authorization or not session_id:
            return self._auth.authenticate(authorization)
        session, principal = self.session(session_id)
        if method == "GET" and template in UI_READS:
            return principal
        if method == "POST" and template in UI_ACTIONS:
            self.check_csrf(session, headers)
            return principal
        raise permission_denied(f"The workspace UI's session cannot call {method} {template}; send a token.")

    @staticmethod
    def check_csrf(session: UiSession, headers: Mapping[str, str]) -> None:
        sent = headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise permission_denied("The request lacks the workspace UI's CSRF token (X-CSRF-Token).")
