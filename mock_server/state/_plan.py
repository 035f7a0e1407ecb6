"""What the store indexes, derived from the spec: per type, every field an operation filters on, every
documented sort key, the identifiers looked up one by one, and the time windows of a parent's children
(`ranges`); and how a stored record yields its index keys.

An index only *narrows* candidates and *orders* them; the filter itself is still evaluated by
`_filters.evaluate` on what the index returns, so an indexed answer is the answer of a full scan. For that
the keys of a record are a superset rule: when a filter `equals(F, v)`/`any(F, [...])` can match a record,
`v` is among the record's keys for F, or the record is marked *unknown* for F (its value depends on other
records, e.g. an inverse relationship) and is always a candidate. A range index keeps the same rule for
`greater-*`/`less-*` filters: a record is found under its value as a number (a datetime as epoch seconds,
bounds inclusive), or is unknown and always a candidate. A page of a window sorted by the range field (or in
creation order) is walked from the range index in order and stops once full; for that a placed record is
*regular* when its sort position (`sort_key`) is where its number puts it (`sorts_as_ranged`); the few that
are not are kept apart (`odd`) and merged into a walk by their sort key, like the unknown ones.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from mock_server import type_of_id_field

from ._filters import FilterError, Node, field_value, parse_datetime
from ._index import Kind, ResourceIndex
from ._schema import flatten

__all__ = [
    "IndexPlan",
    "Range",
    "SortKey",
    "build_plan",
    "equality_terms",
    "key_text",
    "range_keys",
    "range_resume",
    "range_terms",
    "ref_text",
    "sort_key",
    "sorts_as_ranged",
]

Record = dict[str, Any]
Range = tuple[float | None, float | None]  # inclusive bounds of a range filter (None: open on that side)
SortKey = tuple[int, Any, int]  # (rank, value, seq): what cursors hold, ordered like `sorted` orders them

# Fields looked up one by one (`tx.find`) that no filter names: Klaviyo's unique profile identifiers (its
# docs say they are unique, the spec does not) and a metric's name (events name their metric).
_LOOKUPS = ("email", "phone_number", "external_id", "name")


def sort_key(record: Record, sort_field: str | None) -> SortKey:
    """The position of `record` in a collection sorted by `sort_field` (None: creation order): values of
    one kind compare among themselves, missing values last, `seq` breaks ties."""
    seq = int(record.get("seq") or 0)
    if sort_field is None:
        return (0, 0, seq)
    value = field_value(record, sort_field)
    if value is None:
        return (4, 0, seq)
    if isinstance(value, bool):
        return (0, int(value), seq)
    if isinstance(value, int | float):
        return (1, value, seq)
    if isinstance(value, str):
        return (2, value, seq)
    return (3, json.dumps(value, sort_keys=True), seq)


def key_text(value: Any) -> str | None:
    """An equality key as text, equal exactly when Python's `==` holds for these scalars (`1 == 1.0 ==
    True`); None for what no equality filter value can equal (None, objects)."""
    if isinstance(value, str):
        return "s" + value.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL (collisions only widen)
    if isinstance(value, bool | int | float):
        return "n" + repr(float(value))
    return None


def ref_text(rtype: str, rid: str) -> str:
    return f"{rtype}\x1f{rid}"


def equality_terms(node: Node) -> list[tuple[str, list[str]]]:
    """The `equals`/`any` conditions every match of `node` must meet: (field, key texts), one of which the
    record must hold. Only conditions whose values are plain scalars count (dates compare after parsing)."""
    children = node.children if node.op == "and" else (node,)
    terms = []
    for child in children:
        if child.op not in ("equals", "any"):
            continue
        values = child.value if isinstance(child.value, list) else [child.value]
        if not values or not all(type(v) in (str, int, float, bool) for v in values):
            continue
        keys = [k for v in values if (k := key_text(v)) is not None]
        terms.append((child.field, keys))
    return terms


_LOWER = ("greater-than", "greater-or-equal")
_UPPER = ("less-than", "less-or-equal")


def range_number(value: Any) -> float | None:
    """A range filter's value, or a stored value it compares with, as a number: a datetime (or an ISO
    datetime string, read as `_filters` reads it) as epoch seconds, a number as itself; None for the rest."""
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_datetime(value).timestamp()
        except (FilterError, OverflowError, ValueError):
            return None
    return None


def range_keys(record: Record, path: str) -> list[float] | None:
    """The numbers `record` is found under in a range index on `path`; None: unknown, always a candidate
    (no value of its own: a reader may find one elsewhere; or a value no number stands for)."""
    value = field_value(record, path)
    keys = []
    for item in value if isinstance(value, list) else [value]:
        number = range_number(item)
        if number is None:
            return None
        keys.append(number)
    return keys or None


def _utc_text(number: float) -> str | None:
    try:
        return dt.datetime.fromtimestamp(number, dt.UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def sorts_as_ranged(value: Any, rank: int) -> bool:
    """Does a stored value sort (`sort_key`) where its range number puts it, among the values of its index's
    kind? A number in a numeric index (rank 1); in a datetime index (rank 2) a text in the one form
    `isoformat` writes in UTC (what the mock stores): such texts sort as their times, others need not
    (`...-05:00`, `...Z` next to `...+00:00`)."""
    if isinstance(value, bool):
        return False
    if rank == 1:
        return isinstance(value, int | float) and float(value) == value
    if not isinstance(value, str):
        return False
    number = range_number(value)
    return number is not None and _utc_text(number) == value


def range_resume(
    rank: int, sort_field: str | None, after: SortKey | None, descending: bool
) -> tuple[str, tuple[float, int] | None] | None:
    """Where a walk of a range index's regular entries resumes after the cursor key `after`, for a walk in
    creation order (`sort_field` None: entries by seq) or by the range field (entries by (number, seq)):
    ("from", bound) strictly after the bound, bound None: from the start; ("none",): none is after it.
    None: the cursor holds a position the index cannot find (a key of another sort): the caller reads
    the window whole instead."""
    if after is None:
        return ("from", None)
    at, value, seq = after
    if sort_field is None:
        return ("from", (0.0, seq)) if at == 0 else None
    if at != rank:  # every regular entry has this index's rank: all of them sort on one side of the cursor
        return ("from", None) if (at < rank) != descending else ("none", None)
    if not sorts_as_ranged(value, rank):
        return None
    number = range_number(value)
    return None if number is None else ("from", (number, seq))


def range_terms(node: Node) -> dict[str, Range]:
    """The `greater-*`/`less-*` conditions every match of `node` must meet on a field, as one inclusive
    range per field (datetime and number values only: a quoted string compares as text)."""
    children = node.children if node.op == "and" else (node,)
    found: dict[str, Range] = {}
    for child in children:
        if child.op not in _LOWER + _UPPER or isinstance(child.value, str):
            continue
        number = range_number(child.value)
        if number is None:
            continue
        low, high = found.get(child.field, (None, None))
        if child.op in _LOWER:
            low = number if low is None else max(low, number)
        else:
            high = number if high is None else min(high, number)
        found[child.field] = (low, high)
    return found


@dataclass
class IndexPlan:
    """Per type: the fields with an equality index, the fields with an order index, and the range indexes
    (parent field, range field): a parent's children ordered by a field compared with ranges (an event's
    `metric_id` and `datetime`), so a time window of one parent costs the window, not the parent's history."""

    fields: dict[str, frozenset[str]] = field(default_factory=dict)
    sorts: dict[str, frozenset[str]] = field(default_factory=dict)
    ranges: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    index: ResourceIndex | None = None
    # (type, range field) -> the `sort_key` rank its regular values have: 1 numbers, 2 datetime texts
    range_ranks: dict[tuple[str, str], int] = field(default_factory=dict)
    # Per type, the identifier fields looked up one by one (`_LOOKUPS`): a uniqueness check asks for each of them,
    # so a store that builds indexes on first use builds these together (one pass over the records).
    lookups: dict[str, frozenset[str]] = field(default_factory=dict)
    # (type, parent field, range field) -> the measure whose hourly totals per parent the store keeps from the
    # index's build on, with every write (`StoreTx.rollup`): an event's value, for metric aggregates
    measures: dict[tuple[str, str, str], Callable[[Record], float]] = field(default_factory=dict)
    _relations: dict[tuple[str, str, frozenset[str]], tuple[str, bool] | None] = field(default_factory=dict)
    _field_reader: Any = None
    _own: dict[tuple[str, str], bool] = field(default_factory=dict)  # (type, attribute) -> the type's own?
    _absent: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # see `equality_keys`

    def fingerprint(self) -> str:
        body = {t: sorted(f) for t, f in sorted(self.fields.items())}
        body |= {f"sort:{t}": sorted(f) for t, f in sorted(self.sorts.items())}
        body |= {f"range:{t}": sorted(f"{p}>{r}" for p, r in f) for t, f in sorted(self.ranges.items()) if f}
        body |= {f"rank:{t}>{r}": [str(n)] for (t, r), n in sorted(self.range_ranks.items())}
        body |= {f"totals:{t}>{p}>{r}": [m.__qualname__] for (t, p, r), m in sorted(self.measures.items())}
        return json.dumps(body, sort_keys=True)

    def range_place(self, record: Record, parent: str, path: str) -> tuple[list[str], list[float], bool] | None:
        """Where `record` sits in the range index (parent, path): its parent keys, its numbers, and whether
        it is regular (`sorts_as_ranged`); None: unknown, always a candidate."""
        keys = self.equality_keys(record, parent)
        if keys is None:
            return None
        value = field_value(record, path)
        rank = self.range_ranks.get((record["type"], path), 2)
        if type(value) is str and rank == 2:  # the common case (a datetime text) with one parse, not two
            try:
                if "Z" in value or " " in value:
                    moment = parse_datetime(value)
                else:  # what `parse_datetime` reads such a text as, without its rewrites
                    moment = dt.datetime.fromisoformat(value)
                    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
                number = moment.timestamp()
            except (FilterError, OverflowError, ValueError):
                return None
            return keys, [number], _utc_text(number) == value
        numbers = range_keys(record, path)
        if numbers is None:
            return None
        return keys, numbers, sorts_as_ranged(value, rank)

    def equality_keys(self, record: Record, path: str) -> list[str] | None:
        """The keys `record` is found under for `path` (None: unknown, always a candidate). Mirrors
        `FieldReader`: the id, an attribute, else the ids of a relationship the record holds itself."""
        if path in ("id", "ids"):
            return [key_text(record["id"]) or ""]
        # (an attribute by name, the common case, read directly: every write keys every indexed field)
        value = (record.get("attributes") or {}).get(path) if "." not in path else field_value(record, path)
        if type(value) is str:
            return ["s" + value.replace("\x00", "\ufffd")]  # key_text of a string
        if value is None:
            if record.get("relationships"):
                kind, name = self._absent_place(record, path)
            else:
                # Holding no relationships (a new profile), a record's answer for an absent field depends on its
                # type alone: worked out once per (type, path), not on every write (a create keys each identifier).
                place = self._absent.get((record["type"], path))
                if place is None:
                    place = self._absent[(record["type"], path)] = self._absent_place(record, path)
                kind, name = place
            if kind == "none":
                return []  # the reader reads the type's own (here absent) attribute: no key (a profile's phone)
            if kind == "id":
                return [key_text(record["id"]) or ""]
            if kind == "read":
                return _keys_of(self._reader()(record, path))
            own = (record.get("relationships") or {}).get(name) if kind == "ids" else None
            if own is None:
                return None  # read from other records: no key of this record's own
            value = [ref["id"] for ref in own.get("data") or []]
        return _keys_of(value)

    def _absent_place(self, record: Record, path: str) -> tuple[str, str]:
        """Where the reader finds `path` when the record has no value there: ("id", ""): its own id; ("none", ""):
        nowhere (an absent own attribute); ("read", ""): a member nested in an attribute object; ("ids", name):
        the ids of its own relationship `name`; ("other", name): other records."""
        head, _, rest = path.partition(".")
        named = type_of_id_field(head) if not rest else None
        if named == record["type"]:
            return "id", ""
        relation = self._relation(record, named or head, rest, named is not None)
        if relation is None:
            # No relationship: the reader may still find a member nested in an attribute object (a flow
            # message's `name` under `definition`); key the record by what the reader reads.
            if rest or self.index is None or self._own_attribute(record["type"], path):
                return "none", ""
            return "read", ""
        name, ids_only = relation
        return ("ids" if ids_only else "other"), name

    def _own_attribute(self, rtype: str, path: str) -> bool:
        own = self._own.get((rtype, path))
        if own is None:
            own = self._own[(rtype, path)] = bool(self._reader()._own_attribute(rtype, path))
        return own

    def _reader(self) -> Any:
        from ._fields import FieldReader

        assert self.index is not None
        if self._field_reader is None:  # reads no other record on this path: no transaction
            self._field_reader = FieldReader(self.index, cast(Any, None), "")
        return self._field_reader

    def _relation(self, record: Record, head: str, rest: str, named: bool) -> tuple[str, bool] | None:
        names = frozenset((record.get("relationships") or {}).keys())
        cache_key = (record["type"], head + "." + rest + ("#" if named else ""), names)
        if cache_key not in self._relations:
            found: tuple[str, bool] | None = ("", False)  # without the spec index: unknown
            if self.index is not None:
                from ._fields import FieldReader

                # Only the relationship naming of the reader is used: no store transaction is needed.
                reader = FieldReader(self.index, cast(Any, None), "")
                shape = {"type": record["type"], "id": "", "relationships": record.get("relationships") or {}}
                hit = reader.relationship(shape, head)
                found = None if hit is None else (hit[0], named or rest in ("", "id"))
            self._relations[cache_key] = found
        return self._relations[cache_key]


def _keys_of(value: Any) -> list[str] | None:
    items = value if isinstance(value, list) else [value]
    keys = []
    for item in items:
        if isinstance(item, list):
            return None  # nested lists compare element by element: not worth a key
        text = key_text(item)
        if text is not None:
            keys.append(text)
    return keys


def build_plan(
    index: ResourceIndex, measures: dict[tuple[str, str, str], Callable[[Record], float]] | None = None
) -> IndexPlan:
    """Every filter field and sort key the spec documents, per type they apply to; with `measures`, the range
    indexes (of these) whose hourly totals the store keeps."""
    fields: dict[str, set[str]] = {}
    sorts: dict[str, set[str]] = {}
    ranged: dict[str, set[str]] = {}
    for op in index.ops.values():
        if op.kind is Kind.LIST:
            target = op.resource_type
        elif op.kind is Kind.RELATED and op.related_type:
            target = op.related_type
        else:
            continue
        # Equality indexes serve `equals`/`any`; range filters read the candidates a walk yields.
        fields.setdefault(target, {"id"}).update(
            name for name, rule in op.filters.items() if {"equals", "any"} & (rule.single | rule.many)
        )
        sorts.setdefault(target, set()).update(s.lstrip("-") for s in op.sorts)
        ranged.setdefault(target, set()).update(
            name for name, rule in op.filters.items() if set(_LOWER + _UPPER) & (rule.single | rule.many)
        )
    lookups: dict[str, frozenset[str]] = {}
    for name in index.types:
        schema = index.resource_schema(name) or {}
        attributes = flatten(index.spec, (schema.get("properties") or {}).get("attributes")).get("properties") or {}
        lookups[name] = frozenset(f for f in _LOOKUPS if f in attributes)
        fields.setdefault(name, {"id"}).update(lookups[name])
    ranges = {
        t: frozenset((p, r) for p in _parents(index, t, fields.get(t, set())) for r in f) for t, f in ranged.items()
    }
    ranks: dict[tuple[str, str], int] = {}
    for t, pairs in ranges.items():
        schema = index.resource_schema(t) or {}
        attributes = flatten(index.spec, (schema.get("properties") or {}).get("attributes")).get("properties") or {}
        for _, path in pairs:
            kind = flatten(index.spec, attributes.get(path.partition(".")[0])).get("type")
            ranks[(t, path)] = 1 if kind in ("integer", "number") else 2
    return IndexPlan(
        {t: frozenset(f) for t, f in fields.items()},
        {t: frozenset(s) for t, s in sorts.items()},
        {t: f for t, f in ranges.items() if f},
        index,
        ranks,
        {t: f for t, f in lookups.items() if f},
        {(t, p, r): m for (t, p, r), m in (measures or {}).items() if (p, r) in ranges.get(t, ())},
    )


def _parents(index: ResourceIndex, rtype: str, filtered: set[str]) -> list[str]:
    """The equality filter fields of `rtype` that name a relationship to another type (`metric_id`,
    `coupon.id`): the parents whose children a range index keeps apart. (A range over the whole type is
    left to the walk in sort order: it stops after a page, which a range read in full would not.)"""
    from ._fields import FieldReader

    reader = FieldReader(index, cast(Any, None), "")
    shape = {"type": rtype, "id": "", "relationships": {}}
    parents = []
    for name in sorted(filtered):
        head, _, rest = name.partition(".")
        named = type_of_id_field(head) if not rest else None
        if named == rtype or (rest and rest != "id") or (not rest and named is None):
            continue
        hit = reader.relationship(shape, named or head)
        if hit is not None and hit[1] not in (None, rtype):
            parents.append(name)
    return parents
