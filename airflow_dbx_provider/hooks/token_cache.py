"""A bearer token kept until shortly before it expires (a leaf shared by the refreshable credentials)."""

from __future__ import annotations

import time
from collections.abc import Callable

from airflow_dbx_provider.hooks.masking import mask_secret

REFRESH_MARGIN_SECONDS = 60.0


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
