"""Filter expressions in Klaviyo's syntax, checked against what an operation allows (`x-klaviyo-filters`).

The generated `klaviyo_client.filters` has one builder class per filterable operation (`GetProfilesFilter`),
whose methods take only that operation's fields for each operator (Literal types: a wrong field is a type
error) and call `condition` here, which also checks at run time and formats the value the way Klaviyo
expects: strings quoted ('a@example.com', quotes escaped), datetimes unquoted ISO 8601, booleans true/false,
lists as ["a","b"]. The result is a `Filter`, a `str`, passed as `filter_=`; `a & b` is `and(a,b)`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Filter", "FilterError", "condition", "format_value"]

# operator -> field -> the value kinds the spec allows: "single" (one value), "list" (a list), "none" (no value)
Allowed = Mapping[str, Mapping[str, frozenset[str]]]
_NO_VALUE: Any = object()


class FilterError(ValueError):
    """A field, operator or value the operation's filter does not allow."""


class Filter(str):
    """A filter expression; a `str`, so it goes wherever `filter_: str` does. `a & b` combines with `and(...)`."""

    __slots__ = ()

    def __and__(self, other: str) -> Filter:
        return Filter(f"and({self},{other})")


def format_value(value: object) -> str:
    """One value in Klaviyo's filter syntax."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()  # unquoted, as Klaviyo's docs write dates
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, Sequence):
        return "[" + ",".join(_list_item(item) for item in value) + "]"
    raise FilterError(f"cannot use a {type(value).__name__} in a filter: {value!r}")


def _list_item(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return format_value(value)


def condition(allowed: Allowed, operator: str, field: str, value: object = _NO_VALUE) -> Filter:
    """`operator(field,value)` after checking the operation allows it (`allowed` comes from the spec)."""
    fields = allowed.get(operator)
    if fields is None:
        raise FilterError(f"operator {operator!r} is not allowed here (allowed: {sorted(allowed)})")
    kinds = fields.get(field)
    if kinds is None:
        raise FilterError(f"{operator}() does not take field {field!r} here (allowed: {sorted(fields)})")
    if value is _NO_VALUE:
        if "none" not in kinds:
            raise FilterError(f"{operator}({field}) needs a value")
        return Filter(f"{operator}({field})")
    is_list = isinstance(value, Sequence) and not isinstance(value, str | bytes)
    kind = "list" if is_list else "single"
    if kind not in kinds:
        raise FilterError(f"{operator}({field}, ...) takes {' or '.join(sorted(kinds))} value(s), not a {kind}")
    return Filter(f"{operator}({field},{format_value(value)})")
