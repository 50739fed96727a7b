"""Microsoft Entra ID, a managed-identity endpoint and Databricks OIDC token federation.

- Entra ID, as azure-identity (MSAL) calls it with the emulator as its authority: instance and
  tenant discovery, and the client-credentials grant of ``/{tenant}/oauth2/v2.0/token``. Errors
  carry Entra's body (``error``, ``error_description`` starting ``AADSTS<code>:``, ``error_codes``,
  ``trace_id``, ``correlation_id``, ``timestamp``, ``error_uri``).
- Managed identity: the App Service endpoint (``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``) and the
  IMDS path, both answering with an ``expires_on`` epoch as Azure does.
- Federation: RFC 8693 exchange of an OIDC JWT at the workspace's ``/oidc/v1/token``. The
  emulator is the OIDC issuer: :meth:`EntraService.mint_subject_token` signs (HS256) a JWT with
  its own key, and the exchange accepts a token of that issuer for this workspace's audience whose
  ``sub`` is the service principal named by ``client_id`` (the policy Databricks calls
  service-principal federation), or any known principal when ``client_id`` is left out.

A token for the Databricks resource (``2ff814a6-…/.default``) is a bearer token of the service
principal it names, valid for ``oauth_token_lifetime_seconds``; an Azure management token is
issued but is no workspace credential. No HTTP here: handlers/entra.py reads the wire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from airflow_dbx_provider.emulator.auth import Authenticator
from airflow_dbx_provider.emulator.clock import Clock
from airflow_dbx_provider.emulator.config import EmulatorConfig
from airflow_dbx_provider.emulator.errors import EmulatorError

DATABRICKS_RESOURCE = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"
MANAGEMENT_RESOURCE = "https://management.core.windows.net/"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
#: The issuer of the OIDC tokens the emulator mints for federation tests.
OIDC_ISSUER = "https://oidc.dbx-emulator.invalid"


def _resource_of(scope: str) -> str:
    """``2ff8…/.default`` → ``2ff8…``; ``https://management.core.windows.net//.default`` → its URL."""
    return scope[: -len("/.default")] if scope.endswith("/.default") else scope


def _is_databricks(resource: str) -> bool:
    return resource.rstrip("/") in (DATABRICKS_RESOURCE, f"api://{DATABRICKS_RESOURCE}")


def _is_management(resource: str) -> bool:
    return resource.rstrip("/") in (MANAGEMENT_RESOURCE.rstrip("/"), "https://management.azure.com")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def aadsts(status: int, error: str, code: int, description: str, authority: str = "") -> EmulatorError:
    """An Entra ID error answer, in the shape login.microsoftonline.com sends."""
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    text = (
        f"AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}"
        f"\r\nTimestamp: {stamp}"
    )
    body = {
        "error": error,
        "error_description": text,
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"{authority or 'https://login.microsoftonline.com'}/error?code={code}",
    }
    return EmulatorError(error, text, status, body=body)


def _oauth_error(status: int, error: str, description: str) -> EmulatorError:
    return EmulatorError(error, description, status, body={"error": error, "error_description": description})


class EntraService:
    """Token issuing for Entra ID clients, managed identities and federated workloads."""

    def __init__(self, config: EmulatorConfig, auth: Authenticator, clock: Clock) -> None:
        self._config = config
        self._auth = auth
        self._clock = clock
        self._signing_key = secrets.token_bytes(32)

    @property
    def tenant_id(self) -> str:
        return self._config.azure_tenant_id

    # ---- Entra ID ---------------------------------------------------------------------------
    def instance_discovery(self, authority: str, tenant: str) -> dict[str, Any]:
        """``/common/discovery/instance``: where the tenant's OpenID configuration is."""
        return {
            "tenant_discovery_endpoint": f"{authority}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [],
        }

    def openid_configuration(self, authority: str, tenant: str) -> dict[str, Any]:
        self._check_tenant(authority, tenant)
        base = f"{authority}/{self.tenant_id}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "jwks_uri": f"{authority}/{self.tenant_id}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "dbx-emulator",
        }

    def client_credentials(self, authority: str, tenant: str, form: dict[str, str]) -> dict[str, Any]:
        """The client-credentials grant of a service principal with a client secret."""
        self._check_tenant(authority, tenant)
        if form.get("grant_type") != "client_credentials":
            raise aadsts(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
                authority,
            )
        client_id = form.get("client_id", "")
        spec = self._auth.service_principal(client_id)
        if spec is None:
            raise aadsts(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory"
                f" '{self.tenant_id}'. This can happen if the application has not been installed by the"
                " administrator of the tenant or consented to by any user in the tenant. You may have"
                " sent your authentication request to the wrong tenant.",
                authority,
            )
        secret = form.get("client_secret")
        if not secret:
            raise aadsts(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or"
                " 'client_secret'.",
                authority,
            )
        if not spec.client_secret or not secrets.compare_digest(spec.client_secret, secret):
            raise aadsts(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client"
                f" secret value, not the client secret ID, for a secret added to app '{client_id}'.",
                authority,
            )
        resource = _resource_of(form.get("scope", "").split(" ")[0])
        token = self._token_for(spec.name, resource, authority)
        lifetime = int(self._auth.token_lifetime)
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }

    def _check_tenant(self, authority: str, tenant: str) -> None:
        if tenant.lower() not in (self.tenant_id.lower(), "organizations", "common"):
            raise aadsts(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are"
                " signing into the correct cloud.",
                authority,
            )

    def _token_for(self, principal_name: str, resource: str, authority: str) -> str:
        if _is_databricks(resource):
            return self._auth.issue_token(principal_name, "dbxemu-entra-")
        if _is_management(resource):
            return "dbxemu-arm-" + secrets.token_hex(16)  # accepted as a header, never as a bearer
        raise aadsts(
            400,
            "invalid_resource",
            500011,
            f"The resource principal named {resource} was not found in the tenant named {self.tenant_id}."
            " This can happen if the application has not been installed by the administrator of the"
            " tenant or consented to by any user in the tenant.",
            authority,
        )

    # ---- managed identity -------------------------------------------------------------------
    def managed_identity_token(
        self, resource: str, client_id: str | None, identity_header: str | None, *, imds: bool
    ) -> dict[str, Any]:
        """A managed identity's token (App Service shape; ``imds`` adds the IMDS fields)."""
        if not imds and not secrets.compare_digest(identity_header or "", self._config.identity_header):
            raise EmulatorError(
                "401", "Unauthorized request", 401, body={"statusCode": 401, "message": "Unauthorized"}
            )
        name = client_id or self._config.managed_identity
        spec = self._auth.service_principal(name) if name else None
        if spec is None:
            message = (
                f"No managed identity with client_id '{client_id}' is assigned to this resource."
                if client_id
                else "No system-assigned managed identity is enabled for this resource."
            )
            raise EmulatorError(
                "identity_not_found",
                message,
                400,
                body={"error": "invalid_request", "error_description": message, "statusCode": 400},
            )
        token = self._token_for(spec.name, _resource_of(resource), "")
        lifetime = int(self._auth.token_lifetime)
        now = int(self._clock.now_ms() / 1000)
        answer: dict[str, Any] = {
            "access_token": token,
            "expires_on": str(now + lifetime),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": spec.name,
        }
        if imds:
            answer.update(
                {"expires_in": str(lifetime), "ext_expires_in": str(lifetime), "not_before": str(now)}
            )
        return answer

    # ---- Databricks OIDC federation --------------------------------------------------------
    @property
    def audience(self) -> str:
        """The audience a federated token must name: this workspace's id."""
        return self._config.workspace_id

    def mint_subject_token(
        self,
        subject: str,
        *,
        audience: str | None = None,
        lifetime_seconds: float = 600,
        issuer: str = OIDC_ISSUER,
    ) -> str:
        """An OIDC JWT from the emulator's issuer, as a CI system or Kubernetes would hand out."""
        now = int(time.time())
        claims = {
            "iss": issuer,
            "sub": subject,
            "aud": audience or self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + int(lifetime_seconds),
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(claims).encode())
        signature = hmac.new(self._signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def exchange(self, form: dict[str, str]) -> dict[str, Any]:
        """RFC 8693: a subject JWT in, a Databricks OAuth token of the principal it names out."""
        if form.get("subject_token_type", JWT_TOKEN_TYPE) != JWT_TOKEN_TYPE:
            raise _oauth_error(400, "invalid_request", "subject_token_type must be a JWT.")
        claims = self._verify(form.get("subject_token", ""))
        client_id = form.get("client_id")
        subject = str(claims.get("sub", ""))
        if client_id:
            if self._auth.service_principal(client_id) is None:
                raise _oauth_error(401, "invalid_client", "Client authentication failed.")
            if subject != client_id:
                raise _oauth_error(
                    400,
                    "invalid_grant",
                    f"No federation policy of service principal {client_id} matches the token's subject.",
                )
        elif self._auth.principal_named(subject) is None:
            raise _oauth_error(400, "invalid_grant", "No account federation policy matches the token.")
        token = self._auth.issue_token(subject, "dbxemu-fed-")
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(self._auth.token_lifetime),
            "scope": form.get("scope", "all-apis"),
        }

    def _verify(self, token: str) -> dict[str, Any]:
        def refused(reason: str) -> EmulatorError:
            return _oauth_error(400, "invalid_grant", f"The subject token is invalid: {reason}.")

        parts = token.split(".")
        if len(parts) != 3:
            raise refused("not a JWT")
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
            signature = _unb64(parts[2])
        except (ValueError, UnicodeDecodeError):
            raise refused("not a JWT") from None
        expected = hmac.new(self._signing_key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if header.get("alg") != "HS256" or not hmac.compare_digest(expected, signature):
            raise refused("the signature does not verify")
        if claims.get("iss") != OIDC_ISSUER:
            raise refused("no federation policy trusts its issuer")
        audiences = claims.get("aud")
        if self.audience not in (audiences if isinstance(audiences, list) else [audiences]):
            raise refused("its audience is not this workspace")
        if int(claims.get("exp", 0)) <= time.time():
            raise refused("it has expired")
        return dict(claims)
