"""Who is calling: bearer tokens for users and service principals, and OAuth M2M tokens."""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass, field

from airflow_dbx_provider.emulator.clock import Clock
from airflow_dbx_provider.emulator.config import EmulatorConfig, PrincipalSpec
from airflow_dbx_provider.emulator.errors import EmulatorError, invalid_token, unauthenticated


@dataclass(frozen=True)
class Principal:
    name: str
    kind: str = "user"  # "user" | "service_principal"
    is_admin: bool = False
    groups: tuple[str, ...] = field(default_factory=tuple)
    # Set on the token a notebook subprocess gets: secrets.get is allowed "inside a notebook".
    in_notebook: bool = False

    @property
    def principal_key(self) -> tuple[str, str]:
        field_name = "service_principal_name" if self.kind == "service_principal" else "user_name"
        return field_name, self.name


class Authenticator:
    def __init__(self, config: EmulatorConfig, clock: Clock) -> None:
        self._clock = clock
        self._lifetime = float(config.oauth_token_lifetime_seconds)
        self._lock = threading.Lock()
        admin = PrincipalSpec(config.admin_user, config.admin_token, "user", True, groups=["admins"])
        self._specs: dict[str, PrincipalSpec] = {admin.name: admin}
        for spec in config.principals:
            self._specs[spec.name] = spec
        self._tokens: dict[str, tuple[Principal, float | None]] = {}
        for spec in self._specs.values():
            if spec.token:
                self._tokens[spec.token] = (self._principal(spec), None)

    @staticmethod
    def _principal(spec: PrincipalSpec, in_notebook: bool = False) -> Principal:
        groups = tuple(spec.groups) + (("admins",) if spec.is_admin and "admins" not in spec.groups else ())
        return Principal(spec.name, spec.kind, spec.is_admin, groups, in_notebook)

    def principals(self) -> list[Principal]:
        return [self._principal(spec) for spec in self._specs.values()]

    def principal_named(self, name: str) -> Principal | None:
        spec = self._specs.get(name)
        return self._principal(spec) if spec else None

    def authenticate(self, authorization: str | None) -> Principal:
        """Map an Authorization header to a principal, answering as Databricks does."""
        if not authorization:
            raise unauthenticated()
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise unauthenticated()
        with self._lock:
            found = self._tokens.get(credential.strip())
        if found is None:
            raise invalid_token()
        principal, expires_at = found
        if expires_at is not None and self._clock.monotonic() >= expires_at:
            raise invalid_token()
        return principal

    def issue_oauth_token(self, authorization: str | None, form: dict[str, str]) -> dict[str, object]:
        """The client-credentials grant of `/oidc/v1/token` (Basic auth or form credentials)."""
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization.split(" ", 1)[1]).decode()
                client_id, _, client_secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = client_secret = None
        if form.get("grant_type") != "client_credentials":
            raise EmulatorError(
                "unsupported_grant_type",
                "Only client_credentials is supported.",
                400,
                body={
                    "error": "unsupported_grant_type",
                    "error_description": "Only client_credentials is supported.",
                },
            )
        spec = self._specs.get(client_id or "")
        if (
            spec is None
            or not spec.client_secret
            or not secrets.compare_digest(spec.client_secret, client_secret or "")
        ):
            raise EmulatorError(
                "invalid_client",
                "Client authentication failed.",
                401,
                body={"error": "invalid_client", "error_description": "Client authentication failed."},
            )
        token = self.issue_token(spec.name, "dbxemu-oauth-")
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(self._lifetime),
            "scope": form.get("scope", "all-apis"),
        }

    @property
    def token_lifetime(self) -> float:
        """Seconds an issued OAuth / Entra / federation token stays valid (config)."""
        return self._lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        """Tests shorten it to see a client refresh; tokens already issued keep their expiry."""
        self._lifetime = float(seconds)

    def service_principal(self, client_id: str) -> PrincipalSpec | None:
        """The configured service principal whose application (client) id is ``client_id``."""
        spec = self._specs.get(client_id)
        return spec if spec is not None and spec.kind == "service_principal" else None

    def issue_token(self, principal_name: str, prefix: str) -> str:
        """A bearer token of a known principal that expires after the configured lifetime."""
        token = prefix + secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = (
                self._principal(self._specs[principal_name]),
                self._clock.monotonic() + self._lifetime,
            )
        return token

    def expire_oauth_tokens(self) -> None:
        """Admin hook for tests: every issued OAuth token stops working now."""
        with self._lock:
            for token, (principal, expires_at) in list(self._tokens.items()):
                if expires_at is not None:
                    self._tokens[token] = (principal, 0.0)

    def notebook_token(self, principal: Principal) -> str:
        """A short-lived token a notebook subprocess uses to call back into the workspace."""
        token = "dbxemu-nb-" + secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = (
                Principal(principal.name, principal.kind, principal.is_admin, principal.groups, True),
                None,
            )
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)
