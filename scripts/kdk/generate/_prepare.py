"""Generator-only preparation of the patched spec: what a Python client needs that no other consumer does.

The overlay (kdk.spec.apply_overlay) fixes the spec for everyone; this module only adapts it to the shape of
*our client*: the `revision` header moves from every operation's arguments to `KlaviyoClient`, and the
`explode: false` array parameters are recorded so the templates send them comma-joined, and nullable enums
become `X | None` without renaming their classes (see `_hoist_nullable_enums`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from kdk.spec import deref, iter_operations, join_pointer, operation_parameters

from ._naming import readable_names

__all__ = ["REVISION_HEADER", "NullableEnum", "NullableEnums", "OperationKey", "PreparedSpec", "prepare_spec"]

Spec = dict[str, Any]
REVISION_HEADER = "revision"
# (HTTP method upper-case, path template, wire name of the parameter)
OperationKey = tuple[str, str, str]


@dataclass(frozen=True)
class NullableEnum:
    """One enum property made nullable: `model.<property>` is now `enum | None`."""

    pointer: str  # where the property is in the spec
    model: str  # class name of the model that holds the property
    property: str  # wire name
    enum: str  # class name of the enum = its new component schema name


@dataclass(frozen=True)
class NullableEnums:
    """What `_hoist_nullable_enums` did: the enum properties it made nullable, and those it could not reach."""

    fixed: list[NullableEnum]
    left: list[str]  # JSON pointers of nullable enums in places whose class name we do not derive


@dataclass(frozen=True)
class PreparedSpec:
    spec: Spec
    revision: str
    operations: list[tuple[str, str]]  # (METHOD, path) of every operation, in spec order
    comma_joined: frozenset[OperationKey]
    revision_params_removed: int
    schema_names: list[str] = field(default_factory=list)
    nullable_enums: NullableEnums = field(default_factory=lambda: NullableEnums([], []))


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


# The overlay's spelling of "or null" (its `nullable-without-type` fix): openapi-python-client reads it as `None`.
_NULL_BRANCH: dict[str, Any] = {"enum": [None]}
# Keys that make up the enum itself (they move to the component); the rest (description, default, example, ...)
# describes the property and stays on it.
_ENUM_KEYS = ("type", "format", "enum")


def _non_null_enum_values(schema: dict[str, Any]) -> list[Any] | None:
    """The values of an enum that admits null (`nullable: true`, or null among its values) but has others too.

    Only string and integer enums: the generator makes Literal types of those alone (booleans are the overlay's).
    """
    enum = schema.get("enum")
    if not isinstance(enum, list):
        return None
    values = [v for v in enum if v is not None]
    if not values or (schema.get("nullable") is not True and len(values) == len(enum)):
        return None
    if not ({type(v) for v in values} <= {str} or {type(v) for v in values} <= {int}):
        return None
    return values


def _same_enum(a: Any, b: dict[str, Any]) -> bool:
    """Would the generator take `a` and `b` for one enum class (same keys, same values in any order)?"""
    if not isinstance(a, dict) or a.keys() != b.keys() or not isinstance(a.get("enum"), list):
        return False
    return all(a[k] == b[k] for k in b if k != "enum") and set(a["enum"]) == set(b["enum"])


def _inline_model_name(schema: dict[str, Any], name: str) -> str | None:
    """The name openapi-python-client builds an inline object under, or None if it is not a plain object model.

    A nullable object becomes the union `[object, null]`, whose object branch is named `<name>_type_0`.
    """
    if any(k in schema for k in ("$ref", "enum", "allOf", "anyOf", "oneOf")) or "properties" not in schema:
        return None
    kind = schema.get("type", "object")
    if kind != "object":
        return None
    return f"{name}_type_0" if schema.get("nullable") is True else name


def _hoist_nullable_enums(spec: Spec, *, field_prefix: str) -> NullableEnums:
    """A nullable enum property becomes `anyOf: [$ref to the enum, null]`, the enum a component under its old name.

    openapi-python-client ignores `nullable` on an enum (`X | Unset`, and `from_dict` raises on the nulls
    Klaviyo sends, e.g. a flow's `trigger_type`); null among the values gives `...Type1` unions, and an inline
    `anyOf` renames the enum `...Type0`. A `$ref` keeps whatever name the component has, so each enum moves to
    `components/schemas/<the class name it had inline>` (parent model's class name + property name, as the
    generator derives it) and the property refers to it next to a null branch: `X | None`, same class `X`.
    Reached through `properties` of plain object models from every component schema; other places are listed
    in `left` (none in Klaviyo's specs so far).
    """
    from openapi_python_client.strings import ClassName, pascal_case

    schemas: dict[str, Any] = (spec.get("components") or {}).get("schemas") or {}
    fixed: list[NullableEnum] = []
    left: list[str] = []

    def class_string(parent_class: str, name: str, schema: dict[str, Any]) -> str:
        # What the generator hands to Class.from_string for a model or enum (title wins over the name).
        own = str(schema.get("title") or name)
        return f"{pascal_case(parent_class)}{pascal_case(own)}" if parent_class else own

    def hoist(pointer: str, holder: dict[str, Any], prop: str, schema: dict[str, Any], parent_class: str) -> None:
        values = _non_null_enum_values(schema)
        assert values is not None
        key = class_string(parent_class, prop, schema)
        component = {k: schema[k] for k in _ENUM_KEYS if k in schema} | {"enum": values}
        existing = schemas.get(key)
        if existing is None:
            schemas[key] = component
        elif not _same_enum(existing, component):
            left.append(pointer)  # another schema already has this name: the generator would have refused it too
            return
        rest = {k: v for k, v in schema.items() if k not in (*_ENUM_KEYS, "nullable")}
        holder[prop] = {"anyOf": [{"$ref": join_pointer("#/components/schemas", key)}, dict(_NULL_BRANCH)], **rest}
        fixed.append(NullableEnum(pointer, parent_class, prop, key))

    def visit(pointer: str, schema: dict[str, Any], class_name: str) -> None:
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return
        for prop, child in list(properties.items()):
            if not isinstance(child, dict):
                continue
            child_pointer = join_pointer(pointer, "properties", prop)
            if _non_null_enum_values(child) is not None:
                hoist(child_pointer, properties, prop, child, class_name)
                continue
            model_name = _inline_model_name(child, prop)
            if model_name is not None:
                visit(child_pointer, child, ClassName(class_string(class_name, model_name, child), field_prefix))
            else:
                find_left(child_pointer, child)

    def find_left(pointer: str, schema: Any) -> None:
        # A nullable enum somewhere we do not name (inside items, allOf, a union, ...): reported, left as it is.
        stack: list[tuple[str, Any]] = [(pointer, schema)]
        while stack:
            at, node = stack.pop()
            if isinstance(node, list):
                stack.extend((join_pointer(at, i), v) for i, v in enumerate(node))
            elif isinstance(node, dict):
                if _non_null_enum_values(node) is not None:
                    left.append(at)
                stack.extend((join_pointer(at, k), v) for k, v in node.items() if isinstance(v, (dict, list)))

    with readable_names():
        for key, schema in list(schemas.items()):
            if not isinstance(schema, dict):
                continue
            pointer = join_pointer("#/components/schemas", key)
            model_name = _inline_model_name(schema, key)
            if model_name is None:
                find_left(pointer, schema)
                continue
            visit(pointer, schema, ClassName(class_string("", model_name, schema), field_prefix))
    return NullableEnums(fixed, sorted(left))


def prepare_spec(patched: Spec, *, field_prefix: str = "field_") -> PreparedSpec:
    """A copy of `patched` shaped for openapi-python-client, plus what the templates need to know about it.

    `field_prefix` is the generator config's (it takes part in class names that would start with a digit).
    """
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
    nullable_enums = _hoist_nullable_enums(spec, field_prefix=field_prefix)  # after: response bodies are models now
    schema_names = list(((spec.get("components") or {}).get("schemas") or {}).keys())
    return PreparedSpec(spec, revision, operations, frozenset(comma_joined), removed, schema_names, nullable_enums)
