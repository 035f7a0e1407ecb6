"""Read a patched spec as if every `$ref` were replaced by the schema it names.

The diff never inlines the spec (Klaviyo's `Step` schema contains itself, so a fully inlined spec is infinite).
Instead `Resolver` follows each reference once (memoized on the reference string, built on `_walk.deref`) and
hands out the target node itself, so a reference and its target are the *same* object: the comparison can
memoize on object identity and stop on cycles. `flat` folds `allOf` into one view of a schema, so moving a
property into or out of an `allOf` member is not reported as a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._walk import deref

__all__ = ["FlatSchema", "Member", "Resolver", "Tokens"]

Spec = dict[str, Any]
Tokens = tuple[str | int, ...]
_EMPTY: dict[str, Any] = {}


@dataclass(frozen=True)
class Member:
    """A subschema and the pointer tokens leading to it from the schema it belongs to."""

    tokens: Tokens
    node: Any  # as written: may still be a `$ref`


@dataclass
class FlatSchema:
    node: dict[str, Any]
    types: frozenset[str] = frozenset()
    format: str | None = None
    nullable: bool = False
    enum: tuple[Any, ...] | None = None
    properties: dict[str, Member] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: Member | None = None
    branches: list[Member] = field(default_factory=list)  # oneOf / anyOf alternatives
    read_only: bool = False
    write_only: bool = False

    @property
    def type_label(self) -> str:
        """`string`, `string/date-time`, `integer|string`; empty when the schema says nothing."""
        label = "|".join(sorted(self.types))
        return f"{label}/{self.format}" if self.format else label


class Resolver:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._targets: dict[str, Any] = {}
        self._flat: dict[int, FlatSchema] = {}
        self._in_progress: set[int] = set()

    def deref(self, node: Any) -> Any:
        """The node a (chain of) `$ref` leads to; non-references come back unchanged."""
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        ref: str = node["$ref"]
        target = self._targets.get(ref)
        if target is None:
            target = deref(self.spec, node)
            self._targets[ref] = target
        return target

    def schema(self, node: Any) -> dict[str, Any]:
        target = self.deref(node)
        return target if isinstance(target, dict) else _EMPTY

    def flat(self, node: Any) -> FlatSchema:
        """The schema with its `allOf` members folded in (memoized; an `allOf` cycle is cut, not followed)."""
        schema = self.schema(node)
        key = id(schema)
        hit = self._flat.get(key)
        if hit is not None:
            return hit
        if key in self._in_progress:
            return FlatSchema(schema)
        self._in_progress.add(key)
        try:
            flat = self._fold(schema)
        finally:
            self._in_progress.discard(key)
        self._flat[key] = flat
        return flat

    def _fold(self, schema: dict[str, Any]) -> FlatSchema:
        types, nullable = _types(schema)
        enum = schema.get("enum")
        items = schema.get("items")
        flat = FlatSchema(
            node=schema,
            types=types,
            format=schema.get("format"),
            nullable=nullable,
            enum=tuple(enum) if isinstance(enum, list) else None,
            properties={
                name: Member(("properties", name), child)
                for name, child in (schema.get("properties") or {}).items()
                if isinstance(child, dict)
            },
            required=frozenset(r for r in schema.get("required") or () if isinstance(r, str)),
            items=Member(("items",), items) if isinstance(items, dict) else None,
            branches=[
                Member((key, i), child)
                for key in ("oneOf", "anyOf")
                for i, child in enumerate(schema.get(key) or ())
                if isinstance(child, dict)
            ],
            read_only=bool(schema.get("readOnly")),
            write_only=bool(schema.get("writeOnly")),
        )
        members = [m for m in schema.get("allOf") or () if isinstance(m, dict)]
        if not members:
            return flat
        folded = [self.flat(m) for m in members]
        for i, sub in enumerate(folded):
            prefix: Tokens = ("allOf", i)
            for name, member in sub.properties.items():
                flat.properties.setdefault(name, Member(prefix + member.tokens, member.node))
            flat.required |= sub.required
            flat.types = flat.types or sub.types
            flat.format = flat.format or sub.format
            if flat.enum is None and sub.enum is not None:
                flat.enum = sub.enum
            if flat.items is None and sub.items is not None:
                flat.items = Member(prefix + sub.items.tokens, sub.items.node)
            flat.branches += [Member(prefix + b.tokens, b.node) for b in sub.branches]
            flat.read_only = flat.read_only or sub.read_only
            flat.write_only = flat.write_only or sub.write_only
        # `{"allOf": [{"$ref": ...}], "nullable": true}` is how 3.0 specs make a referenced schema nullable.
        flat.nullable = flat.nullable or all(sub.nullable for sub in folded)
        return flat


def _types(schema: dict[str, Any]) -> tuple[frozenset[str], bool]:
    """Declared types without "null", and whether null is allowed (3.0 `nullable` or 3.1 `type: [.., "null"]`)."""
    raw = schema.get("type")
    names = {raw} if isinstance(raw, str) else {t for t in raw or () if isinstance(t, str)}
    nullable = bool(schema.get("nullable")) or "null" in names
    return frozenset(names - {"null"}), nullable
