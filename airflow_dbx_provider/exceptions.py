"""Typed errors of the provider.

Callers branch on the class (or on ``error_code``/``status_code``), never on message text.
Every ``str(err)`` is one line and never contains a token, an Authorization header or a client secret.
"""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class DbxError(AirflowException):
    """Base of every provider error; ``status_code`` is None when no HTTP response was involved."""

    def __init__(
        self, message: str, *, error_code: str | int | None = None, status_code: int | None = None
    ) -> None:
        self.message = _one_line(message)
        self.error_code = error_code
        self.status_code = status_code  # type: ignore[assignment]  # Airflow types it as HTTPStatus
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # keyword-only constructors need help to pickle (Airflow ships errors around)
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[DbxError], state: dict) -> DbxError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class DatabricksConfigError(DbxError):
    """A setting is missing or invalid; raised before any HTTP request is made."""


class DatabricksJobSpecError(DbxError, ValueError):
    """A job or run specification is invalid; the message names the offending field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DatabricksRunFailedError(DbxError):
    """A Databricks run ended without success."""

    def __init__(
        self,
        message: str,
        *,
        run_id: int | None = None,
        result_state: str | None = None,
        failed_tasks: list[str] | None = None,
        run_page_url: str | None = None,
    ) -> None:
        super().__init__(message, error_code=result_state)
        self.run_id = run_id
        self.result_state = result_state
        self.failed_tasks: list[str] = list(failed_tasks or [])
        self.run_page_url = run_page_url


class DatabricksConnectionError(DbxError):
    """The HTTP exchange failed below HTTP (refused, reset, timeout).

    ``request_sent`` is False only when the request provably never reached the server
    (connect-phase failure), which makes even a non-idempotent call safe to retry.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        endpoint: str = "",
        request_sent: bool = True,
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.method = method
        self.endpoint = endpoint
        self.request_sent = request_sent
        self.reason = reason


class DatabricksApiError(DbxError):
    """An HTTP error answer from the workspace."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_code: str | int | None = None,
        method: str = "",
        endpoint: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.api_message = _one_line(message)
        # Databricks answers a bad token with error_code "403": say the status once.
        code = f" {error_code}" if str(error_code or "") not in ("", str(status_code)) else ""
        line = f"{method} {endpoint} -> {status_code}{code}: {self.api_message}".strip()
        super().__init__(line, error_code=error_code, status_code=status_code)
        self.method = method
        self.endpoint = endpoint
        self.retry_after = retry_after


class DatabricksNotFoundError(DatabricksApiError):
    """The resource does not exist: 404, RESOURCE_DOES_NOT_EXIST, or the 400 "Cluster/Job/Run ... does
    not exist" of ``clusters/get``, ``jobs/get`` and ``runs/get``."""


class DatabricksPermissionDeniedError(DatabricksApiError):
    """The credential is valid but lacks permission (403, PERMISSION_DENIED)."""


class DatabricksUnauthenticatedError(DatabricksApiError):
    """The credential is missing, invalid or expired (401, or 403 'Invalid access token.')."""


class DatabricksInvalidParameterError(DatabricksApiError):
    """The request was rejected as malformed or invalid (other 400s)."""


class DatabricksResourceConflictError(DatabricksApiError):
    """The resource already exists or a concurrent change conflicted (409, *ALREADY_EXISTS)."""


class DatabricksRateLimitedError(DatabricksApiError):
    """Still throttled (429) when the retry deadline ran out."""


class DatabricksServerError(DatabricksApiError):
    """A 5xx answer (after retries, where the call was retryable)."""


__all__ = [
    "DatabricksApiError",
    "DatabricksConfigError",
    "DatabricksConnectionError",
    "DatabricksInvalidParameterError",
    "DatabricksJobSpecError",
    "DatabricksNotFoundError",
    "DatabricksPermissionDeniedError",
    "DatabricksRateLimitedError",
    "DatabricksResourceConflictError",
    "DatabricksRunFailedError",
    "DatabricksServerError",
    "DatabricksUnauthenticatedError",
    "DbxError",
]
