"""Reading a filter field of a stored resource, as Klaviyo's filters name them.

Rules by shape (not by endpoint): `id`/`ids` is the resource id; a dotted path into the attributes is
read there (a list on the way gives every element's value: any element may match); otherwise the first
segment names a relationship: `metric_id` (Klaviyo's `<type>_id`), `coupon.id`, `profile` (for `has`) give
the related ids, `messages.channel` gives the `channel` of each related message.
"""

from __future__ import annotations

import functools
from typing import Any

from mock_server import type_of_id_field

from ._filters import field_value
from ._index import ResourceIndex
from ._render import related_ids, related_type_of
from ._schema import flatten
from ._store import Record, StoreTx

__all__ = ["FieldReader"]


def _deep(node: Any, key: str, depth: int = 0) -> Any:
    """The first `key` member at any depth of `node` (a message's `channel` under `definition`)."""
    if depth > 6 or not isinstance(node, dict):
        return None
    if key in node:
        return node[key]
    for child in node.values():
        found = _deep(child, key, depth + 1)
        if found is not None:
            return found
    return None


def _member_path(spec: Any, node: dict[str, Any], name: str, depth: int) -> list[str] | None:
    """The property names leading to a member `name` in an object schema (through arrays and variants)."""
    if depth > 4:
        return None
    while node.get("type") == "array" or "items" in node:
        node = flatten(spec, node.get("items"))
    props = dict(node.get("properties") or {})
    for branch in (node.get("oneOf") or []) + (node.get("anyOf") or []):
        props.update(flatten(spec, branch).get("properties") or {})
    if name in props:
        return [name]
    for key, child in props.items():
        below = _member_path(spec, flatten(spec, child), name, depth + 1)
        if below:
            return [key, *below]
    return None


@functools.lru_cache(maxsize=1024)
def _split(path: str) -> tuple[str, str, str | None]:
    """(first segment, the rest, the type a `<type>_id` field names)."""
    head, _, rest = path.partition(".")
    return head, rest, type_of_id_field(head) if not rest else None


@functools.lru_cache(maxsize=1024)
def _names_for(head: str) -> frozenset[str]:
    head = head.replace("_", "-")
    plural = head[:-1] + "ies" if head.endswith("y") else head + "s"
    return frozenset({head, plural})


class FieldReader:
    """`reader(record, field)` for one account inside one store transaction."""

    def __init__(self, index: ResourceIndex, tx: StoreTx, account: str) -> None:
        self.index = index
        self.tx = tx
        self.account = account
        self._relationships: dict[str, dict[str, str | None]] = {}
        self._own: dict[tuple[str, str], bool] = {}
        self._by_name: dict[tuple[str, str], tuple[str, str | None] | None] = {}

    def relationships(self, record: Record) -> dict[str, str | None]:
        """Relationship name -> related type, from the type's schema and what the record holds."""
        rtype = record["type"]
        if rtype not in self._relationships:
            schema = self.index.resource_schema(rtype) or {}
            spec = self.index.spec
            props = flatten(spec, (schema.get("properties") or {}).get("relationships")).get("properties") or {}
            known = {name: related_type_of(spec, schema, name) for name in props}
            # Relationships a type has endpoints for but its response schema leaves out (`categories`).
            for op in self.index.ops.values():
                if op.resource_type == rtype and op.relationship:
                    known.setdefault(op.relationship, op.related_type)
            self._relationships[rtype] = known
        out = dict(self._relationships[rtype])
        for name, rel in (record.get("relationships") or {}).items():
            data = rel.get("data") or []
            out.setdefault(name, data[0]["type"] if data else None)
        return out

    def relationship(self, record: Record, head: str) -> tuple[str, str | None] | None:
        key = (record["type"], head)
        if key not in self._by_name:  # the type's schema names it (the same for every record of the type)
            self.relationships({"type": record["type"]})
            wanted = _names_for(head)
            known = self._relationships[record["type"]]
            self._by_name[key] = next(
                ((n, t) for n, t in known.items() if n in wanted or n.split("-")[-1] in wanted), None
            )
        found = self._by_name[key]
        if found is not None:
            return found
        wanted = _names_for(head)
        rels = self.relationships(record)
        for name, target in rels.items():
            if name in wanted or name.split("-")[-1] in wanted:
                return name, target
        for name, target in rels.items():
            if target and (target in wanted or target.split("-")[-1] in wanted):
                return name, target
        return None

    def __call__(self, record: Record, path: str) -> Any:
        if path in ("id", "ids"):
            return record.get("id")
        value = field_value(record, path)
        if value is not None:
            return value
        head, rest, named = _split(path)
        if named == record["type"]:
            return record.get("id")  # `profile_id` on a profile: its own id
        found = self.relationship(record, named or head)
        if found is None:
            # A member nested in an attribute object (a flow message's `name` under `definition`), when the
            # type has no such attribute of its own.
            return None if rest or self._own_attribute(record["type"], path) else _deep(record.get("attributes"), path)
        name, target = found
        refs = related_ids(self.tx, self.account, record, name, target)
        if named or rest in ("", "id"):
            return [ref["id"] for ref in refs]
        values: list[Any] = []
        for ref in refs:
            other = self.tx.get(self.account, ref["type"], ref["id"])
            if other is None:
                continue
            got = field_value(other, rest)
            if got is None:
                got = _deep(other.get("attributes"), rest.rsplit(".", 1)[-1])
            values.extend(got if isinstance(got, list) else [got])
        return values

    def readable(self, rtype: str, path: str, schema: dict[str, Any] | None = None) -> bool:
        """Can a `path` filter find its value on a `rtype` resource (from the type's schema)? A field no
        rule can read would filter everything out: a silent empty answer."""
        if path in ("id", "ids"):
            return True
        if any(self._readable_attribute(attributes, path) for attributes in self.attribute_schemas(rtype, schema)):
            return True
        head, _, rest = path.partition(".")
        named = type_of_id_field(head) if not rest else None
        if named == rtype:
            return True
        return self.relationship({"type": rtype, "id": ""}, named or head) is not None

    def attribute_schemas(self, rtype: str, schema: dict[str, Any] | None) -> list[Any]:
        """The attribute schemas a `rtype` record may be read with: the operation's own, else (a relationship
        endpoint answers `{type, id}`) the type's and those of the related endpoints that return it."""
        given = ((schema or {}).get("properties") or {}).get("attributes")
        if given:
            return [given]
        schemas = [self.index.resource_schema(rtype)] + [
            op.data_schema for op in self.index.ops.values() if op.related_type == rtype and op.data_is_list
        ]
        return [found for s in schemas if (found := ((s or {}).get("properties") or {}).get("attributes"))]

    def _own_attribute(self, rtype: str, name: str) -> bool:
        key = (rtype, name)
        if key not in self._own:
            spec = self.index.spec
            schemas = self.attribute_schemas(rtype, None)
            self._own[key] = any(name in (flatten(spec, a).get("properties") or {}) for a in schemas)
        return self._own[key]

    def member_path(self, attributes: Any, name: str) -> list[str] | None:
        """Where a member `name` nests inside an attribute object (`["definition", "name"]`), by schema."""
        return _member_path(self.index.spec, flatten(self.index.spec, attributes), name, 0)

    def _readable_attribute(self, attributes: Any, path: str) -> bool:
        spec = self.index.spec
        node: Any = flatten(spec, attributes)
        top = node
        for part in path.split("."):
            while node.get("type") == "array" or "items" in node:
                node = flatten(spec, node.get("items"))
            props = dict(node.get("properties") or {})
            for branch in (node.get("oneOf") or []) + (node.get("anyOf") or []):
                props.update(flatten(spec, branch).get("properties") or {})
            if part not in props:
                if not props and node.get("type") in (None, "object") and node:
                    return True  # a free-form object (a metric's `integration`): any member can be stored
                break
            node = flatten(spec, props[part])
        else:
            return True
        # A member nested in an attribute object (a flow message's `name` under `definition`).
        return "." not in path and len(self.member_path(top, path) or []) > 1

    def unreadable(self, op_schema: dict[str, Any] | None, records: list[Record], fields: set[str]) -> str | None:
        """A filter field no rule can read and no stored record holds, said out loud (an empty answer for
        it would be a silent wrong one)."""
        for path in sorted(fields):
            if any(self.readable(r["type"], path, op_schema) for r in records[:1]):
                continue
            if any(field_value(r, path) is not None for r in records):
                continue
            if records:
                return (
                    f"The mock cannot evaluate the filter field '{path}': the spec does not say where its value "
                    "lives on these resources (store it as an attribute to filter on it)."
                )
        return None
