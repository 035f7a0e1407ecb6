"""Schema-walking helpers shared by the overlay, validator, diff, generator, mock and tests.

Nothing here follows `$ref` implicitly: walkers yield the node where it stands, with its JSON pointer,
and `resolve_ref` follows one reference when a caller wants it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HTTP_METHODS",
    "SCHEMA_CHILD_KEYS",
    "Operation",
    "deref",
    "escape_pointer",
    "iter_operations",
    "iter_parameter_objects",
    "iter_schema_nodes",
    "iter_schemas",
    "join_pointer",
    "located_parameters",
    "operation_parameters",
    "resolve_pointer",
    "resolve_ref",
    "walk_nodes",
]

Spec = dict[str, Any]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Keywords whose value is one schema, a list of schemas, or a name -> schema map.
_SINGLE = ("items", "additionalProperties", "not")
_LISTS = ("allOf", "anyOf", "oneOf")
_MAPS = ("properties",)
SCHEMA_CHILD_KEYS = _SINGLE + _LISTS + _MAPS


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, *tokens: str | int) -> str:
    return base + "".join("/" + escape_pointer(str(t)) for t in tokens)


def resolve_pointer(spec: Spec, pointer: str) -> Any:
    """Follow a local JSON pointer (`#/a/b` or `/a/b`); raises KeyError if it leads nowhere."""
    node: Any = spec
    path = pointer[1:] if pointer.startswith("#") else pointer
    if not path:
        return node
    for raw in path.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            try:
                node = node[int(token)]
            except (ValueError, IndexError):
                raise KeyError(pointer) from None
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise KeyError(pointer)
    return node


def resolve_ref(spec: Spec, ref: str) -> Any:
    if not ref.startswith("#"):
        raise KeyError(f"only local references are supported: {ref}")
    return resolve_pointer(spec, ref)


def deref(spec: Spec, node: Any, *, max_hops: int = 32) -> Any:
    """Follow `$ref` chains until a non-reference node (bounded, so a reference cycle cannot hang)."""
    for _ in range(max_hops):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            node = resolve_ref(spec, node["$ref"])
        else:
            return node
    raise KeyError("reference chain too long (cycle?)")


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    node: dict[str, Any]
    path_item: dict[str, Any]

    @property
    def pointer(self) -> str:
        return join_pointer("#/paths", self.path, self.method)

    @property
    def operation_id(self) -> str:
        return str(self.node.get("operationId", f"{self.method} {self.path}"))


def iter_operations(spec: Spec) -> Iterator[Operation]:
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            node = item.get(method)
            if isinstance(node, dict):
                yield Operation(path, method, node, item)


def operation_parameters(spec: Spec, op: Operation) -> list[dict[str, Any]]:
    """Path-item and operation parameters merged (operation wins on name+in), references followed."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*op.path_item.get("parameters", []), *op.node.get("parameters", [])]:
        param = deref(spec, raw)
        merged[(param.get("name", ""), param.get("in", ""))] = param
    return list(merged.values())


def located_parameters(spec: Spec, op: Operation) -> list[tuple[str, dict[str, Any]]]:
    """`operation_parameters` with the JSON pointer where each is written (a referenced parameter points at
    its component); references that lead nowhere are left out."""
    merged: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    containers = ((op.path_item, join_pointer("#/paths", op.path)), (op.node, op.pointer))
    for container, base in containers:
        for i, param in enumerate(container.get("parameters") or []):
            pointer = join_pointer(base, "parameters", i)
            for _ in range(32):  # bounded: a reference cycle cannot hang
                if not (isinstance(param, dict) and isinstance(param.get("$ref"), str)):
                    break
                pointer = param["$ref"]
                try:
                    param = resolve_pointer(spec, pointer)
                except KeyError:
                    break
            if isinstance(param, dict) and "$ref" not in param:
                merged[(str(param.get("name", "")), str(param.get("in", "")))] = (pointer, param)
    return list(merged.values())


def iter_parameter_objects(spec: Spec) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every inline Parameter Object (components, path items, operations) with its pointer, each object once."""
    seen: set[int] = set()
    candidates: list[tuple[str, Any]] = [
        (join_pointer("#/components/parameters", name), param)
        for name, param in ((spec.get("components") or {}).get("parameters") or {}).items()
    ]
    for path, path_item in (spec.get("paths") or {}).items():
        if not isinstance(path_item, dict):
            continue
        base = join_pointer("#/paths", path)
        candidates.extend(
            (join_pointer(base, "parameters", i), p) for i, p in enumerate(path_item.get("parameters") or [])
        )
        for method in HTTP_METHODS:
            if isinstance(path_item.get(method), dict):
                params = path_item[method].get("parameters") or []
                candidates.extend((join_pointer(base, method, "parameters", i), p) for i, p in enumerate(params))
    for pointer, param in candidates:
        if isinstance(param, dict) and "$ref" not in param and id(param) not in seen:
            seen.add(id(param))
            yield pointer, param


def _schema_children(schema: dict[str, Any], pointer: str) -> Iterator[tuple[str, Any]]:
    for key in _SINGLE:
        child = schema.get(key)
        if isinstance(child, dict):
            yield join_pointer(pointer, key), child
    for key in _LISTS:
        for i, child in enumerate(schema.get(key) or []):
            if isinstance(child, dict):
                yield join_pointer(pointer, key, i), child
    for key in _MAPS:
        for name, child in (schema.get(key) or {}).items():
            if isinstance(child, dict):
                yield join_pointer(pointer, key, name), child


def _schema_roots(spec: Spec) -> Iterator[tuple[str, dict[str, Any]]]:
    components = spec.get("components") or {}
    for name, schema in (components.get("schemas") or {}).items():
        yield join_pointer("#/components/schemas", name), schema
    for name, param in (components.get("parameters") or {}).items():
        if isinstance(param, dict) and isinstance(param.get("schema"), dict):
            yield join_pointer("#/components/parameters", name, "schema"), param["schema"]
    for section in ("responses", "requestBodies"):
        for name, body in (components.get(section) or {}).items():
            yield from _content_schemas(body, join_pointer("#/components", section, name))
    for op in iter_operations(spec):
        for container, base in ((op.path_item, join_pointer("#/paths", op.path)), (op.node, op.pointer)):
            for i, param in enumerate(container.get("parameters") or []):
                if isinstance(param, dict) and isinstance(param.get("schema"), dict):
                    yield join_pointer(base, "parameters", i, "schema"), param["schema"]
        body = op.node.get("requestBody")
        if isinstance(body, dict):
            yield from _content_schemas(body, join_pointer(op.pointer, "requestBody"))
        for status, response in (op.node.get("responses") or {}).items():
            yield from _content_schemas(response, join_pointer(op.pointer, "responses", status))


def _content_schemas(holder: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(holder, dict):
        return
    for media, content in (holder.get("content") or {}).items():
        if isinstance(content, dict) and isinstance(content.get("schema"), dict):
            yield join_pointer(pointer, "content", media, "schema"), content["schema"]


def iter_schemas(spec: Spec) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node in the spec (components, parameters, bodies, responses, and all nested
    subschemas), each once, with its JSON pointer. References are yielded as-is, not followed."""
    stack = list(_schema_roots(spec))
    stack.reverse()
    seen: set[int] = set()
    while stack:
        pointer, schema = stack.pop()
        if id(schema) in seen:
            continue
        seen.add(id(schema))
        yield pointer, schema
        children = list(_schema_children(schema, pointer))
        stack.extend(reversed(children))


def iter_schema_nodes(spec: Spec) -> list[dict[str, Any]]:
    """The nodes `iter_schemas` yields (same roots, same children, each once) without building JSON
    pointers: ~3x faster on the 3 MB spec, for callers such as the overlay that need only the nodes.
    A list, so callers may mutate nodes while looping."""
    stack: list[Any] = [schema for _, schema in _schema_roots(spec)]
    seen: set[int] = set()
    nodes: list[dict[str, Any]] = []
    while stack:
        schema = stack.pop()
        if not isinstance(schema, dict) or id(schema) in seen:
            continue
        seen.add(id(schema))
        nodes.append(schema)
        stack.extend(schema.get(key) for key in _SINGLE)
        for key in _LISTS:
            stack.extend(schema.get(key) or [])
        for key in _MAPS:
            stack.extend((schema.get(key) or {}).values())
    return nodes


def walk_nodes(node: Any, visit: Callable[[str, Any], None], pointer: str = "#") -> None:
    """Call `visit(pointer, value)` on every dict/list/scalar in a JSON document, depth first."""
    stack: list[tuple[str, Any]] = [(pointer, node)]
    while stack:
        here, value = stack.pop()
        visit(here, value)
        if isinstance(value, dict):
            stack.extend((join_pointer(here, k), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((join_pointer(here, i), v) for i, v in reversed(list(enumerate(value))))
