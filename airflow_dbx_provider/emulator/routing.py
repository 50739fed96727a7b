"""Path → handler table, built per app from handler objects.

Handler classes (one per API family, as moto's `responses.py`) mark their methods with
`@route(...)`; `RouteTable` binds the marked methods of the given instances, so each handler
reaches exactly the services its class was constructed with. A handler receives an
`ApiRequest` and returns a JSON-serialisable dict (or a `RawResponse` for the few endpoints
that send bytes), or raises `EmulatorError`.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_dbx_provider.emulator.errors import invalid_parameter
from airflow_dbx_provider.emulator.wire import to_bool, to_int

if TYPE_CHECKING:
    from airflow_dbx_provider.emulator.auth import Principal


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

    def required_int(self, name: str) -> builtins.int:
        return to_int(self.require(name), name)

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

    def required_str(self, name: builtins.str) -> builtins.str:
        return str(self.str(name, required=True))


Handler = Callable[[ApiRequest], Any]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RouteSpec:
    """What `@route` records on a handler method."""

    method: str
    template: str
    family: str
    versions: frozenset[str]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    family: str
    versions: frozenset[str]
    template: str


_SPECS_ATTR = "_dbx_routes"
_VERSION_RE = re.compile(r"^/api/(?P<version>\d+\.\d+)(?P<rest>/.*)$")


def route(method: str, template: str, *, family: str, versions: tuple[str, ...]) -> Callable[[F], F]:
    """Mark a handler method for `/api/{version}{template}`; `{name}` segments become path params.

    Stackable: one method may serve several templates (the permissions API's two prefixes).
    """

    def mark(handler: F) -> F:
        specs: list[RouteSpec] = handler.__dict__.setdefault(_SPECS_ATTR, [])
        specs.append(RouteSpec(method.upper(), template, family, frozenset(versions)))
        return handler

    return mark


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


class RouteTable:
    """The routes of the given handler objects, in class declaration order."""

    def __init__(self, handler_objects: Iterable[object]) -> None:
        self._routes: list[Route] = []
        for obj in handler_objects:
            for name, attr in vars(type(obj)).items():
                for spec in getattr(attr, _SPECS_ATTR, ()):
                    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", spec.template) + "$"
                    handler = getattr(obj, name)
                    pattern = re.compile(regex)
                    self._routes.append(
                        Route(spec.method, pattern, handler, spec.family, spec.versions, spec.template)
                    )

    def match(self, method: str, path: str) -> Match:
        """Find the handler, or raise NoRoute telling a wrong version from an unknown endpoint."""
        found = _VERSION_RE.match(path)
        if not found:
            raise NoRoute("not_found")
        version, rest = found.group("version"), found.group("rest")
        path_known_in_other_version = False
        method_known = False
        for candidate in self._routes:
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
