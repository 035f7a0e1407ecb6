"""Klaviyo's id shapes, in one place: the stateless body generator and the stateful layer both ask here.

A resource type's id shape is read from the spec, never from one revision's list of names:
- the shape of the examples its id carries (resource objects, `/{id}` path parameters, `<type>_id`
  properties, "Ex: XVTP5Q" in descriptions): ULID, Klaviyo's 6-character ids, 32 hex digits, UUID, digits;
- ids *built from attributes*: when a type's id example is its attribute examples joined by separators
  (a coupon's `10OFF` is its `external_id`; a coupon code's `10OFF-ASD325...` is its coupon's id, `-` and its
  `unique_code`; a catalog item's `$custom:::$default:::SAMPLE-1` is integration, catalog and external id),
  the id of a new resource is built the same way from its own attributes and relationships.
Types the spec gives no example for fall back on the shapes Klaviyo's docs give (`_DOCUMENTED`).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "IdPart",
    "IdRule",
    "IdRules",
    "IdShape",
    "id_rules",
    "id_shape_for_example",
    "job_effect",
    "new_id",
    "relationship_name",
    "seeded_id",
    "type_of_id_field",
]

IdShape = str  # "ulid" | "short" | "hex32" | "hex12" | "uuid" | "digits"
Spec = dict[str, Any]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_PAIRS = [high + low for high in _CROCKFORD for low in _CROCKFORD]  # 10 bits -> 2 characters
_ULID_MASK = (1 << 130) - 1  # 26 characters of 5 bits
_ULID_SHIFTS = tuple(range(120, -1, -10))
_ULID_HEAD_SHIFTS = _ULID_SHIFTS[:9]  # the first 18 characters: the time and the top 40 random bits
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
# Klaviyo's docs (not the spec, which shows no example of their resource ids) give these shapes: 6-character
# metric/segment/flow/template/flow-message ids, numeric flow-action ids (a flow definition's action `id` example
# is "123").
_DOCUMENTED: dict[str, IdShape] = {
    "metric": "short",
    "segment": "short",
    "flow": "short",
    "template": "short",
    "flow-message": "short",
    "flow-action": "digits",
}
_EX_IN_TEXT = re.compile(r"\bEx(?:ample)?:\s*([A-Za-z0-9]{4,40})\b")
_SEPARATOR = re.compile(r"[^A-Za-z0-9]+")


def id_shape_for_example(example: str | None) -> IdShape:
    """The shape of one example id (ULID when there is none or it fits no known shape)."""
    if not example:
        return "ulid"
    if re.fullmatch(r"[0-9A-Z]{26}", example):
        return "ulid"
    if re.fullmatch(r"[A-Za-z0-9]{6}", example):
        return "short"
    if re.fullmatch(r"[0-9a-f]{32}", example):
        return "hex32"
    if re.fullmatch(r"[0-9a-f]{12}", example):
        return "hex12"
    if re.fullmatch(r"[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}", example):
        return "uuid"
    if re.fullmatch(r"[0-9]+", example):
        return "digits"
    return "ulid"


def _encode_ulid(number: int) -> str:
    """The low 130 bits of `number` as 26 Crockford base-32 characters, most significant first (two characters
    per lookup: a bulk import makes 10,000 ids per request)."""
    number &= _ULID_MASK
    return "".join([_CROCKFORD_PAIRS[(number >> shift) & 1023] for shift in _ULID_SHIFTS])


def _from_bytes(shape: IdShape, raw: bytes, ulid_number: int) -> str:
    if shape == "short":
        return "".join(_ALNUM[b % len(_ALNUM)] for b in raw[:6])
    if shape == "hex32":
        return raw[:16].hex()
    if shape == "hex12":
        return raw[:6].hex()
    if shape == "uuid":
        return str(uuid.UUID(bytes=raw[:16], version=4))
    if shape == "digits":
        return str(int.from_bytes(raw[:6], "big") % 9 * 10**12 + 10**12 + int.from_bytes(raw[6:12], "big") % 10**12)
    return _encode_ulid(ulid_number)


def new_id(shape: IdShape) -> str:
    """A fresh random id of `shape` (ULIDs carry the time first, so they sort like Klaviyo's)."""
    if shape == "ulid":  # the common shape
        return _ULIDS.new()
    raw = secrets.token_bytes(20)
    return _from_bytes(shape, raw, (int(time.time() * 1000) << 80) | secrets.randbits(80))


class _MonotonicUlids:
    """ULIDs in the spec's monotonic mode: the first of a millisecond gets 80 random bits, each later one of the
    same millisecond the previous one's plus one, so a process's ids are unique and sort in the order they were
    made (a bulk import makes 10,000 ids per request). The random bits come from the system's random source read
    ahead in blocks (one read per `_RANDOM_BLOCK` bytes, not one system call per millisecond: a sequential
    client's creates each start a millisecond). Thread-safe; a forked worker draws its own randomness (it does
    not continue its parent's, nor use what its parent read ahead)."""

    __slots__ = ("_head", "_high", "_lock", "_ms", "_pool", "_random", "_taken")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ms = -1  # the millisecond of the last id (never goes back, even when the clock does)
        self._random = 0  # its 80 random bits
        self._high = -1  # the top 40 of them that `_head` was made with
        self._head = ""  # the first 18 characters (time and the top 40 random bits), shared by a run of ids
        self._pool = b""  # random bytes read ahead, used from `_taken` on
        self._taken = 0

    def reset(self) -> None:
        with self._lock:
            self._ms, self._high, self._pool, self._taken = -1, -1, b"", 0

    def _draw(self, bits: int) -> int:
        """`bits` (<= 80) random bits from the read-ahead pool (under the lock)."""
        start = self._taken
        if start + 10 > len(self._pool):
            self._pool, start = os.urandom(_RANDOM_BLOCK), 0
        self._taken = start + 10
        return int.from_bytes(self._pool[start : start + 10], "big") >> (80 - bits)

    def new(self) -> str:
        ms = time.time_ns() // 1_000_000
        with self._lock:
            if ms > self._ms:
                self._ms, self._random, self._high = ms, self._draw(80), -1
            elif self._random < _RANDOM_LAST:
                self._random += 1
            else:  # 2**80 ids in one millisecond: borrow the next one
                self._ms, self._random, self._high = self._ms + 1, self._draw(79), -1
            number = self._random
            if number >> 40 != self._high:
                self._high = number >> 40
                whole = (self._ms << 80) | number
                self._head = "".join([_CROCKFORD_PAIRS[(whole >> shift) & 1023] for shift in _ULID_HEAD_SHIFTS])
            head = self._head
        pairs = _CROCKFORD_PAIRS  # the last 40 bits: 8 characters
        tail = pairs[(number >> 30) & 1023] + pairs[(number >> 20) & 1023] + pairs[(number >> 10) & 1023]
        return head + tail + pairs[number & 1023]


_RANDOM_BLOCK = 4096  # random bytes read ahead at a time (409 milliseconds' draws)
_RANDOM_LAST = (1 << 80) - 1
_ULIDS = _MonotonicUlids()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ULIDS.reset)


def seeded_id(shape: IdShape, seed: str) -> str:
    """A deterministic id of `shape` for `seed` (the stateless generator's: same request, same body)."""
    raw = hashlib.blake2b(seed.encode("utf-8"), digest_size=20).digest()
    # A ULID's first characters encode the top bits of the timestamp; "01" keeps it in Klaviyo's range.
    ulid = "01" + _encode_ulid(int.from_bytes(raw[:17], "big"))[2:]
    return ulid if shape == "ulid" else _from_bytes(shape, raw, 0)


@dataclass(frozen=True)
class IdPart:
    kind: str  # "attribute" | "relationship" | "literal"
    value: str  # the attribute or relationship name, or the literal separator


@dataclass(frozen=True)
class IdRule:
    shape: IdShape = "ulid"
    parts: tuple[IdPart, ...] = ()  # when the id is built from attributes/relationships
    defaults: tuple[tuple[str, str], ...] = ()  # attribute defaults the spec declares (integration `$custom`)

    def build(self, attributes: Mapping[str, Any], relationships: Mapping[str, str]) -> str | None:
        """The id built from a new resource's attributes and related ids; None when a part is missing."""
        if not self.parts:
            return None
        defaults = dict(self.defaults)
        out = []
        for part in self.parts:
            if part.kind == "literal":
                out.append(part.value)
                continue
            value = attributes.get(part.value) if part.kind == "attribute" else relationships.get(part.value)
            if value in (None, "") and part.kind == "attribute":
                value = defaults.get(part.value)
            if not isinstance(value, str | int) or value == "":
                return None
            out.append(str(value))
        return "".join(out)

    def new(self, attributes: Mapping[str, Any] | None = None, relationships: Mapping[str, str] | None = None) -> str:
        return self.build(attributes or {}, relationships or {}) or new_id(self.shape)


@dataclass
class IdRules:
    """Every resource type's id rule, read from one spec."""

    rules: dict[str, IdRule]

    def rule(self, resource_type: str) -> IdRule:
        found = self.rules.get(resource_type)
        if found is not None:
            return found
        return IdRule(_DOCUMENTED.get(resource_type, "ulid"))

    def shape(self, resource_type: str) -> IdShape:
        return self.rule(resource_type).shape

    def seeded(self, resource_type: str, seed: str) -> str:
        return seeded_id(self.shape(resource_type), seed)


def deref(spec: Spec, node: Any) -> Any:
    # Imported here: the mock's cached start-up path must not load the spec toolkit.
    from kdk.spec import deref as follow

    return follow(spec, node)


def _props(spec: Spec, node: Any, depth: int = 0) -> dict[str, Any]:
    """Properties of an object schema, `allOf` parts merged (a small view: ids need no more)."""
    node = deref(spec, node)
    if not isinstance(node, dict) or depth > 8:
        return {}
    out = dict(node.get("properties") or {})
    for part in node.get("allOf") or []:
        out.update(_props(spec, part, depth + 1))
    return out


def _single_enum(spec: Spec, node: Any) -> str | None:
    values = (deref(spec, node) or {}).get("enum") or []
    return str(values[0]) if len(values) == 1 else None


def _iter_resource_objects(spec: Spec) -> Iterator[tuple[str, dict[str, Any]]]:
    """(type, properties) of every component schema shaped like a JSON:API resource object."""
    for schema in ((spec.get("components") or {}).get("schemas") or {}).values():
        props = _props(spec, schema)
        rtype = _single_enum(spec, props.get("type")) if "type" in props else None
        if rtype:
            yield rtype, props


@dataclass
class _Evidence:
    id_examples: list[str]
    attribute_examples: dict[str, str]
    attribute_defaults: dict[str, str]
    relationships: dict[str, str]  # relationship name -> related type


def _collect(spec: Spec) -> dict[str, _Evidence]:
    found: dict[str, _Evidence] = {}

    def evidence(rtype: str) -> _Evidence:
        return found.setdefault(rtype, _Evidence([], {}, {}, {}))

    for rtype, props in _iter_resource_objects(spec):
        ev = evidence(rtype)
        id_node = deref(spec, props.get("id")) if "id" in props else None
        if isinstance(id_node, dict):
            if isinstance(id_node.get("example"), str):
                ev.id_examples.append(id_node["example"])
            text = _EX_IN_TEXT.search(str(id_node.get("description") or ""))
            if text:
                ev.id_examples.append(text.group(1))
        for name, node in _props(spec, props.get("attributes")).items():
            node = deref(spec, node)
            if isinstance(node, dict):
                if isinstance(node.get("example"), str):
                    ev.attribute_examples.setdefault(name, node["example"])
                if isinstance(node.get("default"), str):
                    ev.attribute_defaults.setdefault(name, node["default"])
                named = type_of_id_field(name)
                if named and isinstance(node.get("example"), str):
                    evidence(named).id_examples.append(node["example"])
        for name, rel in _props(spec, props.get("relationships")).items():
            data = deref(spec, _props(spec, rel).get("data"))
            if isinstance(data, dict) and (data.get("type") == "array" or "items" in data):
                continue  # only to-one relationships can be part of an id
            data_props = _props(spec, data)
            related = _single_enum(spec, data_props.get("type"))
            if related:
                ev.relationships.setdefault(name, related)
                id_node = deref(spec, data_props.get("id"))
                if isinstance(id_node, dict) and isinstance(id_node.get("example"), str):
                    evidence(related).id_examples.append(id_node["example"])
    return found


def _tile(example: str, pieces: dict[str, IdPart]) -> tuple[IdPart, ...] | None:
    """`example` as pieces joined by separators (every piece an attribute's or related id's example)."""

    def walk(pos: int, after_piece: bool) -> tuple[IdPart, ...] | None:
        if pos == len(example):
            return () if after_piece else None
        for value in sorted(pieces, key=len, reverse=True):
            if value and example.startswith(value, pos):
                rest = walk(pos + len(value), True)
                if rest is not None:
                    return (pieces[value], *rest)
        separator = _SEPARATOR.match(example, pos) if after_piece else None
        # A separator may end where the next piece starts with punctuation (`:::` before `$default`).
        for end in range(separator.end() if separator else pos, pos, -1):
            rest = walk(end, False)
            if rest is not None:
                return (IdPart("literal", example[pos:end]), *rest)
        return None

    return walk(0, False)


_RULES: dict[int, tuple[Spec, IdRules]] = {}


def id_rules(spec: Spec) -> IdRules:
    """The id rules of `spec` (worked out once per spec object)."""
    hit = _RULES.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    evidence = _collect(spec)
    rules: dict[str, IdRule] = {}
    for rtype, ev in evidence.items():
        examples = [e for e in ev.id_examples if e]
        if not examples:
            continue
        example = examples[0]
        pieces: dict[str, IdPart] = {}
        for name, value in ev.relationships.items():
            related = evidence.get(value)
            if related and related.id_examples and related.id_examples[0] != example:
                pieces.setdefault(related.id_examples[0], IdPart("relationship", name))
        for name, value in ev.attribute_examples.items():
            if len(value) >= 2:
                pieces.setdefault(value, IdPart("attribute", name))
        parts = _tile(example, pieces) or ()
        if not any(p.kind != "literal" for p in parts):
            parts = ()
        used = {p.value for p in parts if p.kind == "attribute"}
        defaults = tuple((k, v) for k, v in ev.attribute_defaults.items() if k in used)
        rules[rtype] = IdRule(id_shape_for_example(example), parts, defaults)
    result = IdRules(rules)
    _RULES[id(spec)] = (spec, result)
    return result


# -- naming conventions of types and their id fields --------------------------------------------------------
def type_of_id_field(name: str) -> str | None:
    """`metric_id` -> `metric`, `campaign_message_id` -> `campaign-message` (Klaviyo's `<type>_id` fields)."""
    return name[:-3].replace("_", "-") if name.endswith("_id") and len(name) > 3 else None


def relationship_name(resource_type: str) -> str:
    """The to-many relationship that holds resources of a type (`profile` -> `profiles`)."""
    return f"{resource_type}s"


def job_effect(resource_type: str) -> str | None:
    """What a bulk job does to the resources it carries, from its type's name: "delete", "create"
    (create or merge: `*-create-*`/`*-import-*`), "merge" (update, suppress...); None when not a job."""
    if not resource_type.endswith("-job"):
        return None
    words = set(resource_type.split("-"))
    if "delete" in words:
        return "delete"
    return "create" if words & {"create", "import"} else "merge"
