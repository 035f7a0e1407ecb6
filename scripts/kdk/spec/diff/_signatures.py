"""Which generated client functions change signature between two patched specs.

Computed from the specs (operationId -> its arguments), not by importing generated code, so `kdk upgrade` can
say what SDK users will see before anything is regenerated. The rendering follows openapi-python-client's
conventions closely enough to read as the function: the operationId in snake_case, path parameters positional,
everything else keyword-only, the `revision` header left out (the client sends it), `body` typed by its model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .._pinned import PatchedSpec, content_of
from .._walk import iter_operations
from ._resolve import Resolver

__all__ = ["Signature", "SignatureChange", "signature_changes", "signatures"]

Spec = dict[str, Any]
_PY_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "object": "dict"}


@dataclass(frozen=True)
class Signature:
    function: str
    method: str
    path: str
    positional: tuple[str, ...]  # "id: str"
    keywords: tuple[str, ...]  # "body: ProfileCreateQuery", "page_size: int | Unset = UNSET"

    def render(self) -> str:
        args = [*self.positional, "*", *self.keywords] if self.keywords else list(self.positional)
        return f"{self.function}({', '.join(args)})"


@dataclass(frozen=True)
class SignatureChange:
    operation_id: str
    old: Signature | None  # None: the function is new
    new: Signature | None  # None: the function is gone

    @property
    def kind(self) -> str:
        return "added" if self.old is None else "removed" if self.new is None else "changed"


def _snake(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower() or "arg"


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9a-zA-Z]+", name) if part)


def _type(resolver: Resolver, node: Any) -> str:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target = resolver.flat(node)
        if target.properties or target.branches:  # a model class, named after its component
            return _pascal(node["$ref"].rsplit("/", 1)[-1])
    flat = resolver.flat(node)
    if flat.items is not None:
        return f"list[{_type(resolver, flat.items.node)}]"
    names = sorted(_PY_TYPES.get(t, "Any") for t in flat.types) or ["Any"]
    label = " | ".join(names)
    return f"{label} | None" if flat.nullable else label


def _signature(spec: Spec, resolver: Resolver, op: Any) -> Signature:
    positional: list[str] = []
    required: list[str] = []
    optional: list[str] = []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(op.path_item.get("parameters") or ()), *(op.node.get("parameters") or ())]:
        param = resolver.deref(raw)
        if isinstance(param, dict):
            seen[(str(param.get("in")), str(param.get("name")))] = param
    for (where, name), param in seen.items():
        if where == "header" and name.lower() == "revision":
            continue
        arg = f"{_snake(name)}: {_type(resolver, param.get('schema') or {})}"
        if where == "path":
            positional.append(arg)
        elif param.get("required"):
            required.append(arg)
        else:
            optional.append(f"{arg} | Unset = UNSET")
    body = resolver.deref(op.node.get("requestBody"))
    if isinstance(body, dict):
        content = body.get("content") or {}
        schema = next((m.get("schema") for m in content.values() if isinstance(m, dict)), None)
        kind = _type(resolver, schema) if schema is not None else "Any"
        if kind == "dict":  # an inline body model is named after the operation
            kind = f"{_pascal(op.operation_id)}Body"
        (required if body.get("required") else optional).append(
            f"body: {kind}" if body.get("required") else f"body: {kind} | Unset = UNSET"
        )
    return Signature(
        _snake(op.operation_id),
        op.method.upper(),
        op.path,
        tuple(positional),
        ("client: AuthenticatedClient", *required, *sorted(optional)),
    )


def signatures(spec: Spec) -> dict[str, Signature]:
    """operationId -> the generated function's signature (for a *patched* spec)."""
    resolver = Resolver(spec)
    return {op.operation_id: _signature(spec, resolver, op) for op in iter_operations(spec)}


def signature_changes(old: PatchedSpec | Spec, new: PatchedSpec | Spec) -> list[SignatureChange]:
    before, after = signatures(content_of(old)), signatures(content_of(new))
    return [
        SignatureChange(op_id, before.get(op_id), after.get(op_id))
        for op_id in sorted(before.keys() | after.keys())
        if before.get(op_id) is None
        or after.get(op_id) is None
        or (before[op_id].render(), before[op_id].path) != (after[op_id].render(), after[op_id].path)
    ]
