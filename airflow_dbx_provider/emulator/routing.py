"""Path → handler table shared by every API family.

Each family module registers its handlers with `@route(...)`; the app looks them up with
`match()`. Handlers receive an `ApiRequest` and return a JSON-serialisable dict (or a
`RawResponse` for the few endpoints that send bytes), or raise `EmulatorError`.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_dbx_provider.emulator.errors import invalid_parameter

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal
    from airflow_dbx_provider.emulator.workspace_state import WorkspaceState


@dataclass
class RawResponse:
    content: bytes
    media_type: str = "application/octet-stream"
    status_code: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class UploadedFile:
    filename: str
    content: bytes


@dataclass
class ApiRequest:
    """One parsed API call. `params` merges the query string and the JSON (or form) body."""

    method: str
    path: str
    version: str
    params: dict[str, Any]
    principal: Principal
    state: WorkspaceState
    path_params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    # Clients disagree on wire types (Airflow stringifies numbers and sends "True"), so every
    # handler reads its parameters through these coercing accessors.
    def get(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value is None else value

    def require(self, name: str) -> Any:
        value = self.params.get(name)
        if value is None or value == "":
            raise invalid_parameter(f"Missing required field: {name}")
        return value

    def int(self, name: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self.require(name) if required else self.params.get(name)
        if value is None or value == "":
            return default
        return to_int(value, name)

    def bool(self, name: str, default: bool = False) -> bool:
        return to_bool(self.params.get(name), default)

    def str(
        self, name: builtins.str, default: builtins.str | None = None, *, required: builtins.bool = False
    ) -> builtins.str | None:
        value = self.require(name) if required else self.params.get(name)
        if value is None:
            return default
        if isinstance(value, dict | list):
            raise invalid_parameter(f"Invalid value for field {name}: expected a string")
        return str(value)


def to_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise invalid_parameter(f"Invalid value for field {name}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise invalid_parameter(f"Invalid value for field {name}: expected an integer, got {value!r}")


def to_bool(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


Handler = Callable[[ApiRequest], Any]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    family: str
    versions: frozenset[str]
    template: str


_ROUTES: list[Route] = []
_VERSION_RE = re.compile(r"^/api/(?P<version>\d+\.\d+)(?P<rest>/.*)$")


def route(
    method: str, template: str, *, family: str, versions: tuple[str, ...]
) -> Callable[[Handler], Handler]:
    """Register a handler for `/api/{version}{template}`; `{name}` segments become path params."""

    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"

    def register(handler: Handler) -> Handler:
        _ROUTES.append(
            Route(method.upper(), re.compile(regex), handler, family, frozenset(versions), template)
        )
        return handler

    return register


@dataclass
class Match:
    route: Route
    version: str
    path_params: dict[str, str]


class NoRoute(Exception):
    def __init__(self, kind: str) -> None:
        # kind: "bad_target" (no family serves this version of the path) or "not_found"
        super().__init__(kind)
        self.kind = kind


def match(method: str, path: str) -> Match:
    """Find the handler, or raise NoRoute telling a wrong version from an unknown endpoint."""

    found = _VERSION_RE.match(path)
    if not found:
        raise NoRoute("not_found")
    version, rest = found.group("version"), found.group("rest")
    path_known_in_other_version = False
    method_known = False
    for candidate in _ROUTES:
        params = candidate.pattern.match(rest)
        if not params:
            continue
        if version not in candidate.versions:
            path_known_in_other_version = True
            continue
        if candidate.method != method.upper():
            method_known = True
            continue
        return Match(candidate, version, params.groupdict())
    if path_known_in_other_version and not method_known:
        raise NoRoute("bad_target")
    raise NoRoute("not_found")


def family_of(path: str) -> str:
    """The endpoint family used for rate limits, faults and counters ("jobs", "runs", "dbfs", ...)."""

    found = _VERSION_RE.match(path)
    rest = found.group("rest") if found else path
    for candidate in _ROUTES:
        if candidate.pattern.match(rest):
            return candidate.family
    return "other"


def all_routes() -> list[Route]:
    return list(_ROUTES)
