"""One router for the mock: the spec's operations and the `/__mock__/` admin routes, matched the same way.

Literal paths are a dict lookup; templated paths are bucketed by (length, first two segments) so a request
compares itself with a handful of templates, not all of them (see `_compile.py`, which builds the buckets).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from ._compile import CompiledSpec, Operation, PathEntry, bucket_key, path_entry
from ._errors import MockError
from ._types import AdminRoute

__all__ = ["ADMIN_PREFIX", "Match", "Router", "path_segments"]

ADMIN_PREFIX = "/__mock__/"
Static = dict[str, PathEntry]
Dynamic = dict[tuple[int, str, str], list[PathEntry]]


@dataclass(slots=True)
class Match:
    """What a request path and method resolve to: an operation of the spec, or an admin route."""

    target: Operation | AdminRoute
    template: str
    params: dict[str, str]


class Router:
    """Resolves (method, path) to an operation or an admin route; raises MockError 404/405 otherwise."""

    def __init__(self, compiled: CompiledSpec) -> None:
        self._api: tuple[Static, Dynamic] = (compiled.static, compiled.dynamic)
        self._admin: tuple[Static, Dynamic] = ({}, {})
        self._admin_routes: dict[str, dict[str, AdminRoute]] = {}  # template -> method -> route

    @property
    def has_admin_routes(self) -> bool:
        return bool(self._admin_routes)

    def add_admin_route(self, route: AdminRoute) -> None:
        if not route.path.startswith(ADMIN_PREFIX):
            raise ValueError(f"admin routes live under {ADMIN_PREFIX}: {route.path}")
        methods = self._admin_routes.get(route.path)
        if methods is None:
            methods = self._admin_routes[route.path] = {}
            entry = path_entry(route.path)
            static, dynamic = self._admin
            if entry.param_names:
                dynamic.setdefault(bucket_key(entry.segments), []).append(entry)
            else:
                static["/" + "/".join(s or "" for s in entry.segments)] = entry
        methods.setdefault(route.method.lower(), route)  # the first route offered for a path and method wins

    def match(self, method: str, path: str, segments: list[str]) -> Match:
        admin = path.startswith(ADMIN_PREFIX)
        entry, params = _lookup(self._admin if admin else self._api, segments)
        if entry is None:
            raise MockError(404, f"No {'admin ' if admin else ''}route matches {path}.")
        methods: dict[str, Operation] | dict[str, AdminRoute] = (
            self._admin_routes[entry.template] if admin else entry.methods
        )
        target = methods.get(method)
        if target is None:
            allow = ", ".join(m.upper() for m in methods)
            raise MockError(405, f'Method "{method.upper()}" not allowed.', headers={"Allow": allow})
        return Match(target, entry.template, params)

    def operation(self, template: str, method: str) -> Operation:
        """The operation documented at a path template (for `MockCore.generated_response`)."""
        static, dynamic = self._api
        entry = static.get(template.rstrip("/") or "/")
        if entry is None:
            entry = next((e for bucket in dynamic.values() for e in bucket if e.template == template), None)
        if entry is None or method not in entry.methods:
            raise KeyError(f"{method} {template} is not in the spec")
        return entry.methods[method]


def path_segments(raw_path: bytes | None, path: str) -> list[str]:
    """The request path's segments, each percent-decoded once (so an id may contain an encoded `/`)."""
    text = raw_path.decode("latin-1").split("?", 1)[0] if raw_path else path
    return [unquote(s) if "%" in s else s for s in text.strip("/").split("/")]


def _lookup(tables: tuple[Static, Dynamic], segments: list[str]) -> tuple[PathEntry | None, dict[str, str]]:
    static, dynamic = tables
    entry = static.get("/" + "/".join(segments))
    if entry is not None:
        return entry, {}
    key = (len(segments), segments[0] if segments else "", segments[1] if len(segments) > 1 else "")
    candidates = dynamic.get(key, [])
    if not candidates and len(segments) > 1:
        candidates = dynamic.get((len(segments), segments[0], ""), [])
    for candidate in candidates:
        values: dict[str, str] = {}
        names = iter(candidate.param_names)
        for want, got in zip(candidate.segments, segments, strict=True):
            if want is None:
                if not got:
                    break
                values[next(names)] = got
            elif want != got:
                break
        else:
            return candidate, values
    return None, {}
