"""Credentials: a static PAT, or an OAuth M2M token cache that knows how to ask for a new token
(Azure and workload identity federation: hooks/azure.py, hooks/federation.py; make_auth picks).

The OAuth source builds its discovery and token requests and parses the answers, but does no I/O:
the sync and async hooks drive it with their own transport, through the same retry policy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from airflow_dbx_provider.exceptions import DatabricksConfigError
from airflow_dbx_provider.hooks.api import ApiRequest
from airflow_dbx_provider.hooks.azure import AzureAuth
from airflow_dbx_provider.hooks.federation import FederatedAuth
from airflow_dbx_provider.hooks.masking import mask_secret
from airflow_dbx_provider.hooks.settings import AUTH_AZURE_TYPES, AUTH_FEDERATED, AUTH_OAUTH_M2M, DbxSettings
from airflow_dbx_provider.hooks.token_cache import RefreshableAuth, expires_in
from airflow_dbx_provider.hooks.urls import check_contacted_url

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/oidc/.well-known/oauth-authorization-server"
FALLBACK_TOKEN_PATH = "/oidc/v1/token"


class PatAuth:
    """A personal access token sent as ``Authorization: Bearer``; it never needs refreshing."""

    refreshable = False

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"
        mask_secret(token)

    def cached_header(self) -> str | None:
        return self._header

    def invalidate(self) -> None:
        """A PAT cannot be refreshed; a 401 is final."""


class OAuthM2MAuth(RefreshableAuth):
    """Client-credentials OAuth: discover the token endpoint, fetch, cache and refresh before expiry."""

    def __init__(self, settings: DbxSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        if not settings.client_id or not settings.client_secret:
            raise DatabricksConfigError(f"{settings.source}: oauth-m2m needs client_id and client_secret")
        super().__init__(clock)
        self._host = settings.host
        self._source = settings.source
        self._client_id = settings.client_id
        self._client_secret = settings.client_secret
        self.token_endpoint: str | None = None
        mask_secret(self._client_secret)

    def discovery_request(self) -> ApiRequest:
        return ApiRequest("GET", self._host + DISCOVERY_PATH, DISCOVERY_PATH, authenticated=False)

    def accept_discovery(self, document: Any) -> str:
        """Remember the token endpoint from the discovery document (or the well-known fallback).

        The endpoint is checked in :meth:`token_request`, so a downgraded one fails the call
        instead of being swapped silently for the fallback.
        """
        endpoint = document.get("token_endpoint") if isinstance(document, dict) else None
        self.token_endpoint = str(endpoint) if endpoint else self._host + FALLBACK_TOKEN_PATH
        return self.token_endpoint

    def use_fallback_endpoint(self) -> str:
        self.token_endpoint = self._host + FALLBACK_TOKEN_PATH
        return self.token_endpoint

    def token_request(self) -> ApiRequest:
        """The client-credentials POST; the client secret goes only to an https (or localhost) URL."""
        endpoint = check_contacted_url(
            self._source, self.token_endpoint or self._host + FALLBACK_TOKEN_PATH, "OAuth token endpoint"
        )
        path = endpoint[len(self._host) :] if endpoint.startswith(self._host) else endpoint
        return ApiRequest(
            "POST",
            endpoint,
            path,
            form={"grant_type": "client_credentials", "scope": "all-apis"},
            idempotent=True,
            authenticated=False,
            basic_auth=(self._client_id, self._client_secret),
        )

    def accept_token(self, answer: Any) -> str:
        """Store a token answer; refresh 60 s (or 10% of its life, if shorter) before it expires."""
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise DatabricksConfigError("OAuth token endpoint answered without an access_token")
        return self._keep(str(answer["access_token"]), expires_in(answer))

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._cache.token, self._client_secret) if s)


Auth = PatAuth | OAuthM2MAuth | AzureAuth | FederatedAuth


def make_auth(settings: DbxSettings) -> Auth:
    """The credential object for resolved settings."""
    if settings.auth_type == AUTH_OAUTH_M2M:
        return OAuthM2MAuth(settings)
    if settings.auth_type in AUTH_AZURE_TYPES:
        return AzureAuth(settings)
    if settings.auth_type == AUTH_FEDERATED:
        return FederatedAuth(settings)
    if not settings.token:
        raise DatabricksConfigError(f"{settings.source}: no personal access token is set")
    return PatAuth(settings.token)
