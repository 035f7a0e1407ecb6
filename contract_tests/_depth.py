"""How deeply a request body nests alternatives: what makes schemathesis 4.32's examples phase explode.

Schemathesis' example extraction (`schemathesis/specs/openapi/examples.py`) walks every path through a body
schema without memoising, and at every property whose schema is a composition (`oneOf`/`anyOf`, and every
OpenAPI 3.0 `nullable`, which its converter rewrites to `anyOf: [schema, {type: null}]`) it walks each
alternative twice: once as an alternative yielded by `_expand_subschemas`, and again inside the composed
schema's own `extract_from_schema`. The work therefore doubles with every nested composition layer, and at
each visited object it draws a Hypothesis example for every property without one. Flow definitions nest
11 such layers (actions -> action oneOf -> experiment variations -> message -> additional_filters ->
condition_groups -> conditions oneOf -> consent oneOf -> consent_status oneOf -> nullable filters oneOf ->
filter oneOf): ~2.3 million walk steps and ~190,000 Hypothesis draws, about 10 minutes per operation, all
before the first request is sent (the examples are materialised eagerly, so `max-examples`/`max-time`
cannot bound it). See README.md ("The schemathesis 4.32 hang").
"""

from __future__ import annotations

from typing import Any

__all__ = ["body_composition_depth", "composition_depths"]

Spec = dict[str, Any]
_COMPOSITIONS = ("oneOf", "anyOf")


def _resolve(spec: Spec, node: Any) -> tuple[Any, str | None]:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref: str = node["$ref"]
        target: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return target, ref
    return node, None


def _layers(node: dict[str, Any]) -> int:
    """Composition layers this schema adds: one for oneOf/anyOf, one for `nullable` (anyOf with null)."""
    has_alternatives = any(isinstance(node.get(k), list) and node[k] for k in _COMPOSITIONS)
    return int(has_alternatives) + int(node.get("nullable") is True)


def body_composition_depth(spec: Spec, schema: Any) -> int:
    """The most composition layers met on any path from `schema` down to a leaf (cycles cut)."""
    memo: dict[str, int] = {}

    def depth(node: Any, stack: tuple[str, ...]) -> int:
        node, ref = _resolve(spec, node)
        if not isinstance(node, dict):
            return 0
        if ref is not None:
            if ref in stack:
                return 0
            if ref in memo:
                return memo[ref]
            stack = (*stack, ref)
        children: list[Any] = list((node.get("properties") or {}).values())
        for key in (*_COMPOSITIONS, "allOf"):
            children.extend(node.get(key) or [])
        if isinstance(node.get("items"), dict):
            children.append(node["items"])
        if isinstance(node.get("additionalProperties"), dict):
            children.append(node["additionalProperties"])
        result = _layers(node) + max((depth(c, stack) for c in children), default=0)
        if ref is not None:
            memo[ref] = result
        return result

    return depth(schema, ())


def composition_depths(spec: Spec) -> dict[str, int]:
    """operationId -> composition depth of its request body (0 without a JSON body)."""
    from kdk.spec import iter_operations

    result: dict[str, int] = {}
    for op in iter_operations(spec):
        body, _ = _resolve(spec, op.node.get("requestBody") or {})
        content = (body or {}).get("content") or {}
        depth = 0
        for media in content.values():
            if isinstance(media, dict) and "schema" in media:
                depth = max(depth, body_composition_depth(spec, media["schema"]))
        result[str(op.node.get("operationId"))] = depth
    return result
