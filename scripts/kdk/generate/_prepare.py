"""Generator-only preparation of the patched spec: what a Python client needs that no other consumer does.

The overlay (kdk.spec.apply_overlay) fixes the spec for everyone; this module only adapts it to the shape of
*our client*: the `revision` header moves from every operation's arguments to `KlaviyoClient`, and the
`explode: false` array parameters are recorded so the templates send them comma-joined.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from kdk.spec import deref, iter_operations, operation_parameters

__all__ = ["REVISION_HEADER", "OperationKey", "PreparedSpec", "prepare_spec"]

Spec = dict[str, Any]
REVISION_HEADER = "revision"
# (HTTP method upper-case, path template, wire name of the parameter)
OperationKey = tuple[str, str, str]


@dataclass(frozen=True)
class PreparedSpec:
    spec: Spec
    revision: str
    operations: list[tuple[str, str]]  # (METHOD, path) of every operation, in spec order
    comma_joined: frozenset[OperationKey]
    revision_params_removed: int
    schema_names: list[str] = field(default_factory=list)


def _is_revision_header(spec: Spec, param: Any) -> bool:
    param = deref(spec, param)
    return (
        isinstance(param, dict)
        and param.get("in") == "header"
        and str(param.get("name", "")).lower() == REVISION_HEADER
    )


def _is_comma_joined(spec: Spec, param: dict[str, Any]) -> bool:
    if param.get("in") != "query" or param.get("explode") is not False:
        return False
    if param.get("style", "form") != "form":
        return False
    schema = deref(spec, param.get("schema") or {})
    kind = schema.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def _hoist_shared_response_schemas(spec: Spec) -> int:
    """An inline schema in `#/components/responses/X` becomes `#/components/schemas/X`.

    openapi-python-client builds a model per *use* of an inline response schema, so the shared ClientError
    and ServerError bodies came out as ~2,000 per-operation copies (`GetProfilesResponse4XX`, ...). Moved to
    components/schemas they are one model each. Only the generator cares, so this lives here, not in the overlay.
    """
    components = spec.get("components") or {}
    schemas = components.setdefault("schemas", {})
    moved = 0
    for name, response in (components.get("responses") or {}).items():
        if not isinstance(response, dict):
            continue
        for media in (response.get("content") or {}).values():
            schema = media.get("schema") if isinstance(media, dict) else None
            if not isinstance(schema, dict) or "$ref" in schema:
                continue
            target = name
            while target in schemas and schemas[target] != schema:
                target += "Body"
            schemas[target] = schema
            media["schema"] = {"$ref": f"#/components/schemas/{target}"}
            moved += 1
    return moved


def prepare_spec(patched: Spec) -> PreparedSpec:
    """A copy of `patched` shaped for openapi-python-client, plus what the templates need to know about it."""
    spec = copy.deepcopy(patched)
    removed = 0
    operations: list[tuple[str, str]] = []
    comma_joined: set[OperationKey] = set()
    for op in iter_operations(spec):
        operations.append((op.method.upper(), op.path))
        for param in operation_parameters(spec, op):
            if _is_comma_joined(spec, param):
                comma_joined.add((op.method.upper(), op.path, str(param["name"])))
        for container in (op.node, op.path_item):
            params = container.get("parameters")
            if isinstance(params, list):
                kept = [p for p in params if not _is_revision_header(spec, p)]
                removed += len(params) - len(kept)
                container["parameters"] = kept
    revision = str((spec.get("info") or {}).get("version", ""))
    _hoist_shared_response_schemas(spec)
    schema_names = list(((spec.get("components") or {}).get("schemas") or {}).keys())
    return PreparedSpec(spec, revision, operations, frozenset(comma_joined), removed, schema_names)
