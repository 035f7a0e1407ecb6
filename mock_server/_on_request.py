"""Fields Klaviyo returns only on request: `additional-fields[TYPE]=a,b`.

The rule is read from the spec, not listed: every operation parameter named `additional-fields[TYPE]`
enumerates the attributes of TYPE that are left out of a response unless that parameter asks for them
(a profile's `subscriptions`, a flow's `definition`, a list's `profile_count`...). The set is per resource
type, over all operations, so an included resource obeys the same rule as primary data.
Used by both the stateless renderer (`_render.py`) and the stateful one (`state/_render.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["PREFIX", "on_request_fields", "requested_fields", "strip_unrequested"]

PREFIX = "additional-fields["


def _type_of(param_name: str) -> str | None:
    if param_name.startswith(PREFIX) and param_name.endswith("]"):
        return param_name[len(PREFIX) : -1] or None
    return None


def on_request_fields(params: Iterable[tuple[str, Iterable[Any] | None]]) -> dict[str, frozenset[str]]:
    """resource type -> the attributes sent only on request, from (parameter name, enum) pairs."""
    found: dict[str, set[str]] = {}
    for name, enum in params:
        rtype = _type_of(name)
        if rtype is not None and enum:
            found.setdefault(rtype, set()).update(str(v) for v in enum if v is not None)
    return {rtype: frozenset(names) for rtype, names in found.items()}


def requested_fields(query: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """resource type -> the additional fields a request's query asks for (`explode: false`: comma-separated)."""
    out: dict[str, frozenset[str]] = {}
    for key, value in query.items():
        rtype = _type_of(key)
        if rtype is not None:
            out[rtype] = frozenset(v.strip() for v in value.split(",") if v.strip())
    return out


def strip_unrequested(
    resource: dict[str, Any],
    on_request: Mapping[str, frozenset[str]],
    requested: Mapping[str, frozenset[str]],
    required: frozenset[str] = frozenset(),
) -> None:
    """Drop, in place, the on-request attributes of `resource` its request did not ask for.

    `required`: attributes the response schema requires; they stay (the schema wins over the rule)."""
    rtype = resource.get("type")
    attributes = resource.get("attributes")
    if not isinstance(rtype, str) or not isinstance(attributes, dict):
        return
    hidden = on_request.get(rtype, frozenset()) - requested.get(rtype, frozenset()) - required
    for name in hidden:
        attributes.pop(name, None)
