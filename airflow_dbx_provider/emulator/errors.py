"""Service errors with their wire identity: only the app turns them into HTTP responses."""

from __future__ import annotations

from typing import Any


class EmulatorError(Exception):
    """A Databricks error response: `{"error_code": ..., "message": ...}` with an HTTP status."""

    def __init__(
        self,
        error_code: str | int,
        message: str,
        status_code: int = 400,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status_code = status_code
        self.headers = headers or {}
        self._body = body

    def body(self) -> dict[str, Any]:
        if self._body is not None:
            return self._body
        return {"error_code": self.error_code, "message": self.message}


def invalid_parameter(message: str) -> EmulatorError:
    return EmulatorError("INVALID_PARAMETER_VALUE", message, 400)


def does_not_exist_400(message: str) -> EmulatorError:
    """Databricks answers a missing job, run or cluster with 400 INVALID_PARAMETER_VALUE."""
    return EmulatorError("INVALID_PARAMETER_VALUE", message, 400)


def resource_does_not_exist(message: str, status_code: int = 404) -> EmulatorError:
    return EmulatorError("RESOURCE_DOES_NOT_EXIST", message, status_code)


def already_exists(message: str, status_code: int = 400) -> EmulatorError:
    return EmulatorError("RESOURCE_ALREADY_EXISTS", message, status_code)


def invalid_state(message: str) -> EmulatorError:
    return EmulatorError("INVALID_STATE", message, 400)


def permission_denied(message: str) -> EmulatorError:
    return EmulatorError("PERMISSION_DENIED", message, 403)


def malformed_request(message: str) -> EmulatorError:
    return EmulatorError("MALFORMED_REQUEST", message, 400)


def endpoint_not_found(method: str, path: str) -> EmulatorError:
    return EmulatorError("ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'", 404)


def bad_target(path: str) -> EmulatorError:
    """The gateway's answer to an API version a family does not serve (legacy body, no error_code)."""
    return EmulatorError("BAD_TARGET", f"Bad Target: {path}", 404, body={"error": f"Bad Target: {path}"})


def unauthenticated() -> EmulatorError:
    return EmulatorError(
        401,
        "Credential was not sent or was of an unsupported type for this API.",
        401,
    )


def invalid_token() -> EmulatorError:
    return EmulatorError(
        403, "Invalid access token.", 403, headers={"X-Databricks-Reason-Phrase": "Invalid access token."}
    )


def rate_limited(retry_after: int, family: str) -> EmulatorError:
    return EmulatorError(
        "REQUEST_LIMIT_EXCEEDED",
        f"Too many requests to the {family} API. Please wait a moment and try again.",
        429,
        headers={"Retry-After": str(retry_after)},
    )
