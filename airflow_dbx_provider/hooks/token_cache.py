"""A bearer token kept until shortly before it expires (a leaf shared by the refreshable credentials)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from airflow_dbx_provider.hooks.masking import mask_secret

REFRESH_MARGIN_SECONDS = 60.0
DEFAULT_LIFETIME_SECONDS = 3600.0


class CachedToken:
    """One access token and when to stop using it: 60 s (or 10% of its life, if shorter) before it
    expires, so a call never goes out with a token about to lapse."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._token: str | None = None
        self._use_until = 0.0

    @property
    def token(self) -> str | None:
        return self._token

    def header(self) -> str | None:
        """``Bearer <token>`` while the token is fresh, else None (the caller fetches a new one)."""
        if self._token and self._clock() < self._use_until:
            return f"Bearer {self._token}"
        return None

    def store(self, token: str, lifetime_seconds: float) -> str:
        """Keep ``token`` (registered with the secrets masker); returns its Authorization value."""
        lifetime = max(0.0, float(lifetime_seconds))
        margin = min(REFRESH_MARGIN_SECONDS, lifetime * 0.1)
        mask_secret(token)
        self._token = token
        self._use_until = self._clock() + lifetime - margin
        return f"Bearer {token}"

    def clear(self) -> None:
        self._token = None
        self._use_until = 0.0


class RefreshableAuth:
    """Base of the credentials that fetch a token and keep it in a :class:`CachedToken` (OAuth
    M2M, Azure, federation): the cached header, dropping it after a 401, and a fetch counter."""

    refreshable = True

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._cache = CachedToken(clock)
        self.fetch_count = 0

    def cached_header(self) -> str | None:
        """The Authorization value while the token is fresh, else None (caller must fetch)."""
        return self._cache.header()

    def invalidate(self) -> None:
        """Drop the cached token (after a 401) so the next call fetches a new one."""
        self._cache.clear()

    def _keep(self, token: str, lifetime_seconds: float) -> str:
        """Count a fetch and keep its token; returns its Authorization value."""
        self.fetch_count += 1
        return self._cache.store(token, lifetime_seconds)


def expires_in(answer: Mapping[str, Any]) -> float:
    """An OAuth token answer's ``expires_in`` in seconds (an hour if missing or not a number)."""
    try:
        return float(answer.get("expires_in", DEFAULT_LIFETIME_SECONDS))
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME_SECONDS
