"""Query, path and header parameter checks, precompiled from the spec (no per-request schema walking).

Klaviyo's parameters are simple (strings, enums, integers with bounds, comma-separated arrays), so plain
Python checks cover them and are an order of magnitude faster than a JSON Schema validator per request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._compile import Param
from ._errors import MockError, error_object

__all__ = ["check_params"]


def check_params(params: list[Param], query: dict[str, str], path: dict[str, str], headers: dict[str, str]) -> None:
    """Raise MockError (400, every problem listed, each naming its parameter) if a parameter is invalid."""
    problems: list[dict[str, Any]] = []
    for param in _to_check(params, bool(query)):
        if param.location == "query":
            raw = query.get(param.name)
        elif param.location == "path":
            raw = path.get(param.name)
        else:
            raw = headers.get(param.name.lower())
        if raw is None or (raw == "" and param.kind == "array"):
            # An empty `fields[x]=` / `include=` is valid JSON:API (an empty list: "no fields" / "nothing
            # included"), which Klaviyo accepts; the stateful layer may honour it, the core ignores it.
            if param.required and raw is None:
                problems.append(_problem(param, f"Missing required parameter '{param.name}'.", "missing_parameter"))
            continue
        detail = _check_value(param, raw)
        if detail:
            problems.append(_problem(param, detail))
    if problems:
        raise MockError(400, problems[0]["detail"], errors=problems)


# Per parameter list (by id, the list kept so its id cannot be reused): the parameters worth a look, in order,
# with and without a query string. The `revision` header is checked on its own, before everything else; without
# a query, an optional query parameter has nothing to check.
_CHECKED: dict[int, tuple[list[Param], list[Param], list[Param]]] = {}


def _to_check(params: list[Param], has_query: bool) -> list[Param]:
    hit = _CHECKED.get(id(params))
    if hit is None or hit[0] is not params:
        checked = [
            p
            for p in params
            if p.location in ("query", "path") or (p.location == "header" and p.name.lower() != "revision")
        ]
        hit = (params, checked, [p for p in checked if p.location != "query" or p.required])
        _CHECKED[id(params)] = hit
    return hit[1] if has_query else hit[2]


def _problem(param: Param, detail: str, code: str = "invalid") -> dict[str, Any]:
    return error_object(400, detail, code=code, parameter=param.name)


def _check_value(param: Param, raw: str) -> str | None:
    if param.kind == "array":
        for item in raw.split(","):
            detail = _check_scalar(param.name, param.item_kind, param.item_enum, None, None, None, item.strip())
            if detail:
                return detail
        return None
    if raw == "" and param.location == "path":
        return f"'{param.name}' must not be empty."
    return _check_scalar(param.name, param.kind, param.enum, param.minimum, param.maximum, param.fmt, raw)


def _check_scalar(
    name: str,
    kind: str,
    enum: list[Any] | None,
    minimum: float | None,
    maximum: float | None,
    fmt: str | None,
    raw: str,
) -> str | None:
    value: Any = raw
    if kind in ("integer", "number"):
        try:
            value = int(raw) if kind == "integer" else float(raw)
        except ValueError:
            return f"'{raw}' is not a valid {kind} for '{name}'."
        if minimum is not None and value < minimum:
            return f"'{name}' must be greater than or equal to {minimum:g}."
        if maximum is not None and value > maximum:
            return f"'{name}' must be less than or equal to {maximum:g}."
    elif kind == "boolean":
        if raw not in ("true", "false"):
            return f"'{raw}' is not a valid boolean for '{name}'."
        value = raw == "true"
    if enum is not None and value not in enum:
        shown = ", ".join(str(v) for v in enum[:20] if v is not None)
        return f"'{raw}' is not a valid choice for '{name}'. Allowed: {shown}."
    if fmt == "date-time" and not _is_datetime(raw):
        return f"'{raw}' is not a valid ISO 8601 date-time for '{name}'."
    return None


def _is_datetime(raw: str) -> bool:
    try:
        datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in raw
