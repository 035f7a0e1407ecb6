"""Response bodies built from a response schema: property examples where they fit, realistic values otherwise.

The result is a pure function of (schema, seed), so the same request always gets the same body. Examples are
used only when they fit their own schema (type, enum, format), because a few of Klaviyo's examples do not.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from kdk.spec import deref, resolve_ref

from ._ids import id_rules
from ._values import seeded_int, string_for

__all__ = ["generate_body"]

Spec = dict[str, Any]


class _Missing:
    """Marks a value the generator chose not to produce (a reference cycle, a skipped optional member)."""


_MISSING = _Missing()

# Optional top-level members a real response only carries when asked for (`include=...`) or when paging.
_SKIPPED_OPTIONAL = frozenset({"included", "prev", "next", "first", "last"})
_MAX_CYCLE_DEPTH = 1


def generate_body(spec: Spec, schema: dict[str, Any], *, seed: str) -> Any:
    """A JSON value valid against `schema` (an OpenAPI 3.0 schema of `spec`), deterministic for `seed`."""
    value = _Generator(spec, seed).value(schema, "", ())
    return None if value is _MISSING else value


class _Generator:
    def __init__(self, spec: Spec, seed: str) -> None:
        self.spec = spec
        self.seed = seed

    def value(self, schema: Any, name: str, stack: tuple[str, ...]) -> Any:
        if not isinstance(schema, dict):
            return _MISSING
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if stack.count(ref) > _MAX_CYCLE_DEPTH:
                return _MISSING
            return self.value(resolve_ref(self.spec, ref), name, (*stack, ref))
        if "allOf" in schema:
            return self._all_of(schema, name, stack)
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                # A scalar example on the composition itself (latitude: "40.7128" over [string, number]) is
                # more realistic than a value made up for the first branch.
                example = schema.get("example")
                if example is not None and any(_fits(self.spec, option, example) for option in options):
                    return example
                return self._first_option(options, name, stack)
        if "example" in schema and _fits(self.spec, schema, schema["example"]):
            return schema["example"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            non_null = [v for v in enum if v is not None]
            return non_null[0] if non_null else None
        if "default" in schema and _fits(self.spec, schema, schema["default"]):
            return schema["default"]
        kind = _type_of(schema)
        if kind == "object":
            return self._object(schema, name, stack)
        if kind == "array":
            return self._array(schema, name, stack)
        if kind == "string":
            return string_for(name, schema.get("format"), f"{self.seed}/{name}")
        if kind == "integer":
            return _bounded(schema, seeded_int(f"{self.seed}/{name}", 1, 100))
        if kind == "number":
            return float(_bounded(schema, seeded_int(f"{self.seed}/{name}", 1, 100)))
        if kind == "boolean":
            return False
        return None if schema.get("nullable") else "value"

    def _all_of(self, schema: dict[str, Any], name: str, stack: tuple[str, ...]) -> Any:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            produced = self.value(part, name, stack)
            if isinstance(produced, dict):
                _deep_merge(merged, produced)
            elif produced is not _MISSING:
                return produced
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        if "properties" in rest:
            extra = self._object(rest, name, stack)
            if isinstance(extra, dict):
                _deep_merge(merged, extra)
        return merged

    def _first_option(self, options: list[Any], name: str, stack: tuple[str, ...]) -> Any:
        for option in options:
            resolved = option
            if isinstance(option, dict) and isinstance(option.get("$ref"), str):
                resolved = resolve_ref(self.spec, option["$ref"])
            if isinstance(resolved, dict) and _type_of(resolved) == "null":
                continue
            produced = self.value(option, name, stack)
            if produced is not _MISSING:
                return produced
        return None

    def _object(self, schema: dict[str, Any], name: str, stack: tuple[str, ...]) -> Any:
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            example = schema.get("example")
            return example if isinstance(example, dict) else {}
        required = set(schema.get("required") or [])
        result: dict[str, Any] = {}
        for prop, sub in properties.items():
            if prop not in required and (prop in _SKIPPED_OPTIONAL or _is_write_only(self.spec, sub)):
                continue
            produced = self.value(sub, prop, stack)
            if produced is _MISSING:
                if prop in required:
                    produced = {} if _type_of(deref(self.spec, sub)) == "object" else None
                else:
                    continue
            result[prop] = produced
        self._shape_resource(properties, result)
        return result

    def _shape_resource(self, properties: dict[str, Any], result: dict[str, Any]) -> None:
        """A JSON:API resource object (`type` + `id`) without an id example gets a Klaviyo-shaped id."""
        rtype = result.get("type")
        if not isinstance(rtype, str) or "id" not in result:
            return
        id_schema = deref(self.spec, properties.get("id"))
        if isinstance(id_schema, dict) and "example" not in id_schema and _type_of(id_schema) == "string":
            result["id"] = id_rules(self.spec).seeded(rtype, f"{self.seed}/{rtype}")

    def _array(self, schema: dict[str, Any], name: str, stack: tuple[str, ...]) -> Any:
        items = schema.get("items")
        example = schema.get("example")
        if isinstance(example, list) and isinstance(items, dict) and all(_fits(self.spec, items, v) for v in example):
            return example
        produced = self.value(items, name, stack)
        if produced is _MISSING:
            return []
        count = max(1, int(schema.get("minItems") or 1))
        if isinstance(schema.get("maxItems"), int):
            count = min(count, schema["maxItems"])
        return [produced] * count


def _deep_merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    """allOf parts each describe part of the same object (often the same nested `attributes`): merge deeply."""
    for key, value in extra.items():
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def _type_of(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return None


def _is_write_only(spec: Spec, schema: Any) -> bool:
    resolved = deref(spec, schema)
    return isinstance(resolved, dict) and bool(resolved.get("writeOnly"))


def _bounded(schema: dict[str, Any], value: int) -> int:
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, int | float) and value < low:
        value = int(low) if low == int(low) else int(low) + 1
    if isinstance(high, int | float) and value > high:
        value = int(high)
    return value


def _fits(spec: Spec, schema: Any, value: Any) -> bool:
    """Does a scalar example/default fit its own schema? (Containers are generated, not trusted.)"""
    schema = deref(spec, schema)
    if not isinstance(schema, dict):
        return False
    if value is None:
        return bool(schema.get("nullable"))
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return False
    kind = _type_of(schema)
    if kind == "string":
        return isinstance(value, str) and _format_ok(schema.get("format"), value)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and _in_bounds(schema, value)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and _in_bounds(schema, value)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list) and not isinstance(schema.get("items"), dict)
    if kind == "object":
        return isinstance(value, dict) and not schema.get("properties")
    return not any(k in schema for k in ("oneOf", "anyOf", "allOf")) and isinstance(value, str | int | float | bool)


def _in_bounds(schema: dict[str, Any], value: float) -> bool:
    low, high = schema.get("minimum"), schema.get("maximum")
    return not (isinstance(low, int | float) and value < low) and not (isinstance(high, int | float) and value > high)


def _format_ok(fmt: Any, value: str) -> bool:
    try:
        if fmt == "date-time":
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return "T" in value and parsed is not None
        if fmt == "date":
            date.fromisoformat(value)
        elif fmt == "uri":
            return "://" in value and " " not in value
        elif fmt == "email":
            return "@" in value
    except ValueError:
        return False
    return True
