"""Hypothesis strategies for values of an OpenAPI 3.0 schema (the subset Klaviyo's spec uses).

Why not hypothesis-jsonschema: 0.23.1 (the latest) fails on the locked Hypothesis 6.170 (`AttributeError:
'many' object has no attribute 'more'` on every draw), and resolving all of Klaviyo's components per model
took up to 55 s. This builder walks the schema lazily, follows `$ref`s by name, understands `nullable`, and
keeps values small (arrays of at most two items, depth-limited optional members) so every model can be drawn
within a CI budget.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

__all__ = ["values_for"]

Spec = dict[str, Any]
_MAX_DEPTH = 6  # beyond this only required members are drawn and arrays stay at their minimum
_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_.", max_size=12)
_DATETIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
_FORMATS: dict[str, st.SearchStrategy[Any]] = {
    "date-time": _DATETIMES.map(lambda d: d.isoformat()),
    "date": st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2100, 1, 1).date()).map(
        lambda d: d.isoformat()
    ),
    "email": st.from_regex(r"[a-z]{1,8}@example\.com", fullmatch=True),
    "uri": st.from_regex(r"https://example\.com/[a-z]{0,8}", fullmatch=True),
    "url": st.from_regex(r"https://example\.com/[a-z]{0,8}", fullmatch=True),
    "uuid": st.uuids().map(str),
    "binary": st.binary(max_size=16),  # multipart file parts: the client wraps bytes in a File
}


def _resolve(spec: Spec, node: Any) -> tuple[Any, str | None]:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not isinstance(ref, str):
        return node, None
    target: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target, ref


def _string(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    fmt = node.get("format")
    if fmt in _FORMATS:
        return _FORMATS[fmt]
    low, high = int(node.get("minLength", 0)), node.get("maxLength")
    if node.get("pattern"):
        return st.from_regex(str(node["pattern"]), fullmatch=True)
    top = min(int(high), low + 12) if high is not None else low + 12
    return st.text(alphabet=string.ascii_letters + string.digits, min_size=low, max_size=max(low, top))


def _number(node: dict[str, Any], integer: bool) -> st.SearchStrategy[Any]:
    low, high = node.get("minimum"), node.get("maximum")
    if integer:
        return st.integers(
            min_value=int(low) if low is not None else -(10**6), max_value=int(high) if high is not None else 10**6
        )
    return st.floats(
        min_value=float(low) if low is not None else -1e6,
        max_value=float(high) if high is not None else 1e6,
        allow_nan=False,
        allow_infinity=False,
    )


def values_for(spec: Spec, schema: Any, *, depth: int = 0, stack: tuple[str, ...] = ()) -> st.SearchStrategy[Any]:
    """Values valid against `schema` (resolved against `spec`)."""
    node, ref = _resolve(spec, schema)
    if ref is not None:
        if stack.count(ref) >= 2:  # a recursive schema: stop unrolling
            return st.nothing()
        stack = (*stack, ref)
    if not isinstance(node, dict):
        return st.none()
    strategy = _values(spec, node, depth, stack)
    # OpenAPI 3.0.3: an `enum` without null forbids null even when `nullable` (the generated client agrees).
    enum_forbids_null = isinstance(node.get("enum"), list) and None not in node["enum"]
    if node.get("nullable") is True and not enum_forbids_null:
        strategy = st.one_of(strategy, st.none())
    return strategy


def _values(spec: Spec, node: dict[str, Any], depth: int, stack: tuple[str, ...]) -> st.SearchStrategy[Any]:
    if "enum" in node:
        return st.sampled_from([v for v in node["enum"] if v is not None] or [None])
    for key in ("oneOf", "anyOf"):
        if node.get(key):
            return st.one_of([values_for(spec, alt, depth=depth, stack=stack) for alt in node[key]])
    if node.get("allOf"):
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in node["allOf"]:
            resolved, _ = _resolve(spec, part)
            merged["properties"].update(resolved.get("properties", {}))
            merged["required"] += resolved.get("required", [])
        return _object(spec, merged, depth, stack)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return _object(spec, node, depth, stack)
    if kind == "array":
        items = values_for(spec, node.get("items", {}), depth=depth + 1, stack=stack)
        low = int(node.get("minItems", 0))
        high = low if depth >= _MAX_DEPTH else max(low, min(int(node.get("maxItems", low + 2)), low + 2))
        return st.lists(items, min_size=low, max_size=high)
    if kind == "string":
        return _string(node)
    if kind in ("integer", "number"):
        return _number(node, integer=kind == "integer")
    if kind == "boolean":
        return st.booleans()
    return st.one_of(st.none(), st.booleans(), st.integers(-100, 100), _TEXT)


def _object(spec: Spec, node: dict[str, Any], depth: int, stack: tuple[str, ...]) -> st.SearchStrategy[Any]:
    properties: dict[str, Any] = node.get("properties") or {}
    required = set(node.get("required") or [])
    fixed = {
        name: values_for(spec, sub, depth=depth + 1, stack=stack)
        for name, sub in properties.items()
        if name in required
    }
    optional = {}
    if depth < _MAX_DEPTH:
        optional = {
            name: values_for(spec, sub, depth=depth + 1, stack=stack)
            for name, sub in properties.items()
            if name not in required
        }
    strategy = st.fixed_dictionaries(fixed, optional=optional)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and extra and depth < _MAX_DEPTH:
        more = st.dictionaries(
            st.from_regex(r"x_[a-z]{1,6}", fullmatch=True),
            values_for(spec, extra, depth=depth + 1, stack=stack),
            max_size=2,
        )
        strategy = st.tuples(strategy, more).map(lambda pair: {**pair[1], **pair[0]})
    return strategy
