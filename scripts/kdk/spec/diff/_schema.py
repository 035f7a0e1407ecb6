"""Compare two schemas (a request body's or a response's) property by property.

Work is memoized per pair of schema objects and direction: Klaviyo reuses its components across hundreds of
operations, so each pair is compared once and the findings are re-rooted under every operation that uses it.
A pair already being compared further up (a recursive schema such as `Step`) yields nothing the second time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ._resolve import FlatSchema, Member, Resolver, Tokens

__all__ = ["Direction", "Finding", "SchemaDiffer", "display_name"]

Direction = Literal["request", "response"]


@dataclass(frozen=True)
class Finding:
    """One change inside a schema, located relative to the schemas compared (not yet to an operation)."""

    rule: str
    old: Tokens | None  # None: absent on that side
    new: Tokens | None
    name: tuple[str, ...] = ()  # display path: ("data", "attributes", "email"), "[]" for array items
    args: tuple[tuple[str, str], ...] = ()

    def under(self, old_prefix: Tokens, new_prefix: Tokens, name: tuple[str, ...]) -> Finding:
        return Finding(
            self.rule,
            None if self.old is None else old_prefix + self.old,
            None if self.new is None else new_prefix + self.new,
            name + self.name,
            self.args,
        )


def display_name(name: tuple[str, ...]) -> str:
    """`data.attributes.email`, `data[].id`, `included[](profile).id`; `(body)` for the schema itself."""
    out = ""
    for token in name:
        out += token if token.startswith(("[", "(")) or not out else "." + token
    return out or "(body)"


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


class SchemaDiffer:
    def __init__(self, old: Resolver, new: Resolver) -> None:
        self.old = old
        self.new = new
        self._memo: dict[tuple[int, int, str], list[Finding]] = {}
        self._active: set[tuple[int, int, str]] = set()

    def compare(self, old_node: Any, new_node: Any, direction: Direction) -> list[Finding]:
        old, new = self.old.schema(old_node), self.new.schema(new_node)
        key = (id(old), id(new), direction)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        if key in self._active:
            return []  # a cycle: the outer comparison of this pair reports whatever differs
        self._active.add(key)
        try:
            found = list(self._compare(self.old.flat(old), self.new.flat(new), direction))
        finally:
            self._active.discard(key)
        self._memo[key] = found
        return found

    def _compare(self, old: FlatSchema, new: FlatSchema, d: Direction) -> Iterable[Finding]:
        here: Tokens = ()
        if old.types and new.types and old.type_label != new.type_label:
            args = (("old", old.type_label), ("new", new.type_label))
            yield Finding(f"{d}-property-type-changed", here, here, (), args)
        if old.nullable != new.nullable:
            became = "nullable" if new.nullable else "not-nullable"
            yield Finding(f"{d}-property-became-{became}", here, here)
        yield from self._enum(old, new, d)
        yield from self._properties(old, new, d)
        if old.items is not None and new.items is not None:
            for f in self.compare(old.items.node, new.items.node, d):
                yield f.under(old.items.tokens, new.items.tokens, ("[]",))
        if old.branches or new.branches:
            yield from self._branches(old, new, d)

    def _enum(self, old: FlatSchema, new: FlatSchema, d: Direction) -> Iterable[Finding]:
        if new.enum is None:
            return
        if old.enum is None:
            if d == "request":
                yield Finding("request-property-became-enum", (), ("enum",))
            return
        before = {_value(v) for v in old.enum}
        after = {_value(v) for v in new.enum}
        for value in sorted(before - after):
            yield Finding(f"{d}-property-enum-value-removed", ("enum",), ("enum",), (), (("value", value),))
        for value in sorted(after - before):
            yield Finding(f"{d}-property-enum-value-added", ("enum",), ("enum",), (), (("value", value),))

    def _properties(self, old: FlatSchema, new: FlatSchema, d: Direction) -> Iterable[Finding]:
        # A read-only property never travels in a request, a write-only one never in a response.
        hidden = "read_only" if d == "request" else "write_only"
        for name in sorted(old.properties.keys() | new.properties.keys()):
            before, after = old.properties.get(name), new.properties.get(name)
            was_hidden = before is not None and getattr(self.old.flat(before.node), hidden)
            is_hidden = after is not None and getattr(self.new.flat(after.node), hidden)
            if (before is None or was_hidden) and (after is None or is_hidden):
                continue
            if before is None or was_hidden:
                assert after is not None
                required = name in new.required
                if d == "request":
                    rule = "new-required-request-property" if required else "new-optional-request-property"
                else:
                    rule = f"response-{'required' if required else 'optional'}-property-added"
                yield Finding(rule, None, after.tokens, (name,))
                continue
            if after is None or is_hidden:
                if d == "request":
                    rule = "request-property-removed"
                else:
                    rule = f"response-{'required' if name in old.required else 'optional'}-property-removed"
                yield Finding(rule, before.tokens, None, (name,))
                continue
            was_required, is_required = name in old.required, name in new.required
            if was_required != is_required:
                became = "required" if is_required else "optional"
                yield Finding(f"{d}-property-became-{became}", before.tokens, after.tokens, (name,))
            for f in self.compare(before.node, after.node, d):
                yield f.under(before.tokens, after.tokens, (name,))

    def _branches(self, old: FlatSchema, new: FlatSchema, d: Direction) -> Iterable[Finding]:
        before, after = self._keyed(self.old, old.branches), self._keyed(self.new, new.branches)
        for key in sorted(before.keys() - after.keys()):
            yield Finding(f"{d}-property-one-of-removed", before[key].tokens, None, (), (("value", key),))
        for key in sorted(after.keys() - before.keys()):
            yield Finding(f"{d}-property-one-of-added", None, after[key].tokens, (), (("value", key),))
        for key in sorted(before.keys() & after.keys()):
            for f in self.compare(before[key].node, after[key].node, d):
                yield f.under(before[key].tokens, after[key].tokens, (f"({key})",))

    @staticmethod
    def _keyed(resolver: Resolver, branches: list[Member]) -> dict[str, Member]:
        """Name each alternative by what it *is*, not where it sits, so reordering is no change: its JSON:API
        `type` constant, else its other constant properties (`method=static`), else its title, else its type.
        Ties are broken by the referenced component's name, and only then by position."""
        names = [_branch_name(resolver, member) for member in branches]
        tied = {name for name in names if names.count(name) > 1}
        for i, member in enumerate(branches):
            ref = member.node.get("$ref")
            if names[i] in tied and isinstance(ref, str):
                names[i] = f"{names[i]}:{ref.rsplit('/', 1)[-1]}"
        keyed: dict[str, Member] = {}
        for i, (name, member) in enumerate(zip(names, branches, strict=True)):
            keyed[name if names.count(name) == 1 else f"{name}#{i}"] = member
        return keyed


def _branch_name(resolver: Resolver, member: Member) -> str:
    flat = resolver.flat(member.node)
    consts: dict[str, str] = {}
    for prop, child in flat.properties.items():
        enum = resolver.flat(child.node).enum
        if enum is not None and len(enum) == 1:
            consts[prop] = _value(enum[0])
    if consts:
        kind = consts.pop("type", None)
        rest = ",".join(f"{k}={v}" for k, v in sorted(consts.items()))
        return f"{kind}[{rest}]" if kind and rest else kind or rest
    title = flat.node.get("title")
    return title if isinstance(title, str) else flat.type_label or "schema"
