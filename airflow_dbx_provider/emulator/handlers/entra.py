"""The wire of services/entra.py: Entra ID discovery and token, managed identity, OIDC exchange.

These paths sit outside ``/api/`` (an Entra authority is ``https://host/{tenant}``), take no
workspace bearer token and answer in Entra's or Azure's own body shapes, so app.py hands them
here before its route table: :meth:`EntraHandlers.dispatch` answers, or returns None when the
path is not one of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from airflow_dbx_provider.emulator.control import Counters
from airflow_dbx_provider.emulator.errors import EmulatorError
from airflow_dbx_provider.emulator.services.entra import TOKEN_EXCHANGE_GRANT, EntraService

_OPENID = re.compile(r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$")
_TOKEN = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$")
INSTANCE_DISCOVERY = "/common/discovery/instance"
APP_SERVICE_MSI = "/msi/token"  # IDENTITY_ENDPOINT=https://<emulator>/msi/token
IMDS_TOKEN = "/metadata/identity/oauth2/token"  # AZURE_POD_IDENTITY_AUTHORITY_HOST=https://<emulator>
OIDC_TOKEN = "/oidc/v1/token"


def _json(body: object, status: int = 200) -> Response:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


class EntraHandlers:
    def __init__(self, entra: EntraService, counters: Counters, base_url: Callable[[], str]) -> None:
        self.entra = entra
        self.counters = counters
        self._base_url = base_url

    @staticmethod
    def is_token_exchange(form: dict[str, str]) -> bool:
        return form.get("grant_type") == TOKEN_EXCHANGE_GRANT

    async def exchange(self, form: dict[str, str]) -> Response:
        """``POST /oidc/v1/token`` with the RFC 8693 grant (app.py routes client_credentials elsewhere)."""
        return self._answer("POST", OIDC_TOKEN, lambda: self.entra.exchange(form))

    async def dispatch(self, request: Request) -> Response | None:
        path, method = request.url.path, request.method
        authority = self._base_url() or str(request.base_url).rstrip("/")
        if method == "GET" and path == INSTANCE_DISCOVERY:
            tenant = self.entra.tenant_id
            return self._answer(method, path, lambda: self.entra.instance_discovery(authority, tenant))
        if method == "GET" and (found := _OPENID.match(path)):
            tenant = found["tenant"]
            return self._answer(
                method,
                "/{tenant}/v2.0/.well-known/openid-configuration",
                lambda: self.entra.openid_configuration(authority, tenant),
            )
        if method == "POST" and (found := _TOKEN.match(path)):
            tenant = found["tenant"]
            form = {key: str(value) for key, value in (await request.form()).items()}
            return self._answer(
                method,
                "/{tenant}/oauth2/v2.0/token",
                lambda: self.entra.client_credentials(authority, tenant, form),
            )
        if method == "GET" and path in (APP_SERVICE_MSI, IMDS_TOKEN):
            query = request.query_params
            imds = path == IMDS_TOKEN
            if imds and request.headers.get("metadata", "").lower() != "true":
                return _json(
                    {
                        "error": "invalid_request",
                        "error_description": "Required metadata header not specified",
                    },
                    400,
                )
            return self._answer(
                method,
                path,
                lambda: self.entra.managed_identity_token(
                    query.get("resource", ""),
                    query.get("client_id"),
                    request.headers.get("x-identity-header"),
                    imds=imds,
                ),
            )
        return None

    def _answer(self, method: str, template: str, call: Callable[[], object]) -> Response:
        try:
            response = _json(call())
        except EmulatorError as err:
            response = _json(err.body(), err.status_code)
        self.counters.record(method, template, "entra", response.status_code)
        return response
