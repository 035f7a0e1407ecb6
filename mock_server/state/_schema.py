"""Small views of the spec's schemas: follow `$ref`, merge `allOf`, and make a value for a schema.

`value_for_schema` (the core's body generator) fills attributes the response schema requires but a
stored resource does not have.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kdk.spec import deref
from mock_server import generate_body

__all__ = [
    "Spec",
    "flatten",
    "json_body_schema",
    "now_iso",
    "success_response",
    "value_for_schema",
]

Spec = dict[str, Any]


# flatten() results by id of the input node; the node is kept alongside so its id cannot be reused.
_FLAT: dict[int, tuple[Any, dict[str, Any]]] = {}


def flatten(spec: Spec, schema: Any) -> dict[str, Any]:
    """`schema` with references followed and `allOf` parts merged into one object schema (memoised:
    responses render the same schemas over and over; treat the result as read-only)."""
    hit = _FLAT.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    flat = _flatten(spec, schema)
    if isinstance(schema, dict):
        _FLAT[id(schema)] = (schema, flat)
    return flat


def _flatten(spec: Spec, schema: Any) -> dict[str, Any]:
    node = deref(spec, schema)
    if not isinstance(node, dict):
        return {}
    node = _unwrap_nullable(spec, node)
    parts = node.get("allOf")
    if not parts:
        return node
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    props: dict[str, Any] = dict(merged.get("properties") or {})
    required: list[str] = list(merged.get("required") or [])
    for part in parts:
        flat = flatten(spec, part)
        for key, value in flat.items():
            if key == "properties":
                for name, sub in value.items():
                    # The same member in two parts (Klaviyo splits `attributes` so) is both at once.
                    props[name] = {"allOf": [props[name], sub]} if name in props else sub
            elif key == "required":
                required.extend(r for r in value if r not in required)
            else:
                merged.setdefault(key, value)
    if props:
        merged["properties"] = props
    if required:
        merged["required"] = required
    return merged


def _is_null(spec: Spec, node: Any) -> bool:
    node = deref(spec, node)
    return isinstance(node, dict) and (node.get("type") == "null" or node.get("enum") == [None])


def _unwrap_nullable(spec: Spec, node: dict[str, Any]) -> dict[str, Any]:
    """`anyOf/oneOf: [X, null]` (how the overlay spells a nullable reference) -> X marked nullable."""
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if not options or "properties" in node or "type" in node:
            continue
        real = [o for o in options if not _is_null(spec, o)]
        if len(real) == 1 and len(real) < len(options):
            inner = flatten(spec, real[0])
            return {**inner, "nullable": True}
    return node


def json_body_schema(spec: Spec, holder: Any) -> dict[str, Any] | None:
    """The JSON schema of a request body or response object (first JSON-ish media type)."""
    holder = deref(spec, holder)
    if not isinstance(holder, dict):
        return None
    for media, content in (holder.get("content") or {}).items():
        if "json" in media and isinstance(content, dict) and "schema" in content:
            return flatten(spec, content["schema"])
    return None


def success_response(spec: Spec, op_node: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """The documented 2xx status and its body schema (None when the status has no body)."""
    for status, response in sorted((op_node.get("responses") or {}).items()):
        if str(status).startswith("2") and str(status).isdigit():
            return int(status), json_body_schema(spec, response)
    return 200, None


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def value_for_schema(spec: Spec, schema: Any, *, seed: str = "state") -> Any:
    """A schema-valid value from the core's body generator (examples where they fit, realistic otherwise)."""
    return generate_body(spec, schema if isinstance(schema, dict) else {}, seed=seed)
