"""JSON Schemas for the generated client's models: what hypothesis-jsonschema draws model instances from.

Each component schema of the client's spec (the pinned, patched spec as prepared for the generator) is a model
class of the same name; nested inline objects and enums are models reached through them. OpenAPI 3.0 is
turned into JSON Schema (`nullable` -> a null alternative; OpenAPI-only keywords dropped) with every
component kept under `components/schemas` so the `$ref`s resolve.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

__all__ = ["model_schemas", "shard_of", "to_json_schema"]

Spec = dict[str, Any]
_OPENAPI_ONLY = ("nullable", "discriminator", "example", "examples", "xml", "externalDocs", "deprecated")


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items() if k not in _OPENAPI_ONLY and not k.startswith("x-")}
    if node.get("readOnly") or node.get("writeOnly"):
        out.pop("readOnly", None)
        out.pop("writeOnly", None)
    if node.get("nullable") is True:
        if "$ref" in out or any(k in out for k in ("oneOf", "anyOf", "allOf")):
            return {"anyOf": [out, {"type": "null"}]}
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


def to_json_schema(spec: Spec, name: str) -> dict[str, Any]:
    """The component schema `name` as a self-contained JSON Schema (components embedded for $ref)."""
    components = {"schemas": _convert(copy.deepcopy(spec["components"]["schemas"]))}
    return {"$ref": f"#/components/schemas/{name}", "components": components}


def model_schemas(spec: Spec, model_names: set[str]) -> list[str]:
    """Component schemas that are object models of the client (same name), sorted."""
    schemas = spec.get("components", {}).get("schemas", {})
    return sorted(name for name in schemas if name in model_names)


def shard_of(name: str, shards: int) -> int:
    """A stable shard for a model name (crc32: the same on every machine and every run)."""
    return zlib.crc32(name.encode()) % shards
