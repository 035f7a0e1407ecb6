"""`query_metric_aggregates`, computed from the account's stored events.

The events of `metric_id` inside the filter's datetime range (`greater-or-equal`/`greater-than` and
`less-than`/`less-or-equal` on `datetime`, both required) that pass the other filters are counted per time
bucket: `count` (events), `sum_value` (their values) and `unique` (distinct profiles). Buckets start at the
range's start floored to the interval (hour, day, Monday-started week, month) in the query's `timezone`, and
run until the range's end. `by` splits the rows by event properties (`$message`, `URL`, ...: an event without
the property counts under ""). The operation is found by shape: a POST whose request attributes carry
`metric_id` and `measurements`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import math
import zoneinfo
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any, ClassVar

from mock_server import MockRequest, MockResponse

from .._collections import page_link
from .._errors import invalid, not_found
from .._filters import FilterError, Node, evaluate, parse_filter
from .._plan import key_text
from .._render import request_path
from .._schema import Spec, flatten
from .._store import Record, StoreTx
from ._base import Backend
from ._events import event_moment, event_property, event_related_id, event_value, events_between

__all__ = [
    "INTERVALS",
    "ROLLUPS",
    "AggregatesBackend",
    "attribute_schema_of",
    "buckets",
    "query_timezone",
    "time_range",
]

INTERVALS = ("hour", "day", "week", "month")
MAX_BUCKETS = 10_000
_LOWER = ("greater-or-equal", "greater-than")
_UPPER = ("less-than", "less-or-equal")
_POINTER = "/data/attributes"


def attribute_schema_of(spec: Spec, request_schema: dict[str, Any] | None) -> dict[str, Any]:
    """The `data.attributes` schema of a request body (flattened)."""
    data = flatten(spec, ((request_schema or {}).get("properties") or {}).get("data"))
    return flatten(spec, (data.get("properties") or {}).get("attributes"))


def query_timezone(name: Any, pointer: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(str(name or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise invalid(f"Unknown timezone {name!r}.", pointer=pointer) from None


def _floor(moment: dt.datetime, interval: str) -> dt.datetime:
    moment = moment.replace(minute=0, second=0, microsecond=0)
    if interval == "hour":
        return moment
    moment = moment.replace(hour=0)
    if interval == "week":
        return moment - dt.timedelta(days=moment.weekday())
    if interval == "month":
        return moment.replace(day=1)
    return moment


def _step(moment: dt.datetime, interval: str) -> dt.datetime:
    if interval == "month":
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        return moment.replace(year=year, month=month)
    days = {"day": 1, "week": 7}.get(interval)
    if days is None:  # an hour: on the UTC clock, so a DST change neither skips nor repeats one
        return (moment.astimezone(dt.UTC) + dt.timedelta(hours=1)).astimezone(moment.tzinfo)
    # Calendar days in local time: wall-clock midnight to midnight, whatever the offset does in between.
    local = moment.replace(tzinfo=None) + dt.timedelta(days=days)
    return local.replace(tzinfo=moment.tzinfo)


def buckets(
    start: dt.datetime, end: dt.datetime, interval: str, tz: dt.tzinfo, *, floor: bool = True
) -> list[dt.datetime]:
    """The start of every `interval` bucket from `start` (floored in `tz`, when asked) up to `end`."""
    out: list[dt.datetime] = []
    try:
        first = start.astimezone(tz)
        current = _floor(first, interval) if floor else first
        while current < end:
            if len(out) == MAX_BUCKETS:  # a century of hours: refused, not cut short
                raise invalid(f"The time range holds more than {MAX_BUCKETS} {interval} intervals.", pointer=_POINTER)
            out.append(current)
            current = _step(current, interval)
    except (OverflowError, ValueError):  # at the ends of the calendar (year 1, year 9999)
        raise invalid("The time range reaches outside the supported dates.", pointer=_POINTER) from None
    return out


def time_range(tree: Node | None, field: str, pointer: str) -> tuple[dt.datetime, dt.datetime, Node | None]:
    """The [start, end) a filter gives `field` (both bounds required) and what is left of the filter."""
    clauses = list(tree.children) if tree is not None and tree.op == "and" else ([tree] if tree else [])
    start = end = None
    rest: list[Node] = []
    for clause in clauses:
        if clause.field == field and isinstance(clause.value, dt.datetime) and clause.op in _LOWER + _UPPER:
            nudge = dt.timedelta(microseconds=1 if clause.op in ("greater-than", "less-or-equal") else 0)
            try:
                moment = clause.value + nudge
            except OverflowError:
                raise invalid("The time range reaches outside the supported dates.", pointer=pointer) from None
            if clause.op in _LOWER:
                start = moment
            else:
                end = moment
            continue
        rest.append(clause)
    if start is None or end is None:
        raise invalid(
            f"The filter must include a time range: a greater-or-equal and a less-than filter on `{field}`.",
            pointer=pointer,
        )
    if end <= start:
        raise invalid("The time range is empty: its end is not after its start.", pointer=pointer)
    left = None if not rest else (rest[0] if len(rest) == 1 else Node("and", children=tuple(rest)))
    return start, end, left


class AggregatesBackend(Backend):
    types: ClassVar[tuple[str, ...]] = ("metric-aggregate",)

    @staticmethod
    def answers(spec: Spec, request_schema: dict[str, Any] | None) -> bool:
        """Is this POST an aggregate query (by shape: `metric_id` and `measurements` attributes)?"""
        props = attribute_schema_of(spec, request_schema).get("properties") or {}
        return "metric_id" in props and "measurements" in props

    def aggregate(self, req: MockRequest, request_schema: dict[str, Any] | None) -> MockResponse:
        data = req.body.get("data") if isinstance(req.body, dict) else None
        attrs = data.get("attributes") if isinstance(data, dict) else None
        if not isinstance(attrs, dict):
            raise invalid("The request body must be a JSON:API document with `data.attributes`.", pointer="/data")
        props = attribute_schema_of(self.index.spec, request_schema).get("properties") or {}
        metric_id = str(attrs.get("metric_id") or "")
        measurements = [str(m) for m in attrs.get("measurements") or []]
        unknown = [m for m in measurements if m not in _MEASURES]
        if not measurements or unknown:
            raise invalid(
                f"`measurements` must name some of {', '.join(sorted(_MEASURES))}.", pointer=f"{_POINTER}/measurements"
            )
        interval = str(attrs.get("interval") or "day")
        if interval not in INTERVALS:
            raise invalid(f"`interval` must be one of {', '.join(INTERVALS)}.", pointer=f"{_POINTER}/interval")
        tz = query_timezone(attrs.get("timezone"), f"{_POINTER}/timezone")
        dimensions = [str(d) for d in attrs.get("by") or []]
        tree = self._filter(attrs.get("filter"), props, tz)
        start, end, rest = time_range(tree, "datetime", f"{_POINTER}/filter")

        starts = buckets(start, end, interval, tz)
        with self.store.transaction(write=False) as tx:
            if tx.get(req.account, "metric", metric_id) is None:
                raise not_found("metric", metric_id)
            rows = None
            if rest is None and not dimensions and set(measurements) <= set(_ROLLED):
                rows = _rolled_up(tx, req.account, metric_id, starts, start, end, measurements)
            if rows is None:
                events = events_between(tx, req.account, [metric_id], start, end)
                rows = _aggregate(events, starts, start, end, rest, dimensions, measurements)
        rows = _sorted(rows, attrs.get("sort"), dimensions)
        page = _page(rows, attrs.get("page_size"), attrs.get("page_cursor"))
        digest = hashlib.sha256(json.dumps(attrs, sort_keys=True, default=str).encode()).hexdigest()[:20]
        self_link = page_link(req.base_url, request_path(req), {})
        document: dict[str, Any] = {
            "data": {
                "type": "metric-aggregate",
                "id": digest,
                "attributes": {"dates": [s.isoformat() for s in starts], "data": page.rows},
                "links": {"self": self_link},
            },
            "links": {"self": self_link},
        }
        if page.next_cursor:
            document["links"]["next"] = page.next_cursor  # the `page_cursor` of the next request
        return MockResponse(200, document)

    def _filter(self, raw: Any, props: dict[str, Any], tz: dt.tzinfo) -> Node | None:
        texts = raw if isinstance(raw, list) else ([raw] if isinstance(raw, str) and raw else [])
        nodes: list[Node] = []
        for text in texts:
            try:
                tree = parse_filter(str(text), tz)  # a time without an offset is in the query's timezone
            except FilterError as exc:
                raise invalid(f"Invalid filter: {exc}.", pointer=f"{_POINTER}/filter") from None
            nodes.extend(tree.children if tree.op == "and" else (tree,))
        allowed = _dimension_names(self.index.spec, props) | {"datetime", "metric_id"}
        for node in nodes:
            for name in _fields(node):
                if len(allowed) > 2 and name not in allowed:
                    raise invalid(f"'{name}' is not a field this query can filter on.", pointer=f"{_POINTER}/filter")
        if not nodes:
            return None
        return nodes[0] if len(nodes) == 1 else Node("and", children=tuple(nodes))


def _total(values: list[float]) -> float | int:
    """The sum of values, exactly rounded once (so any grouping of them gives the same answer); 0 for none."""
    if not values:
        return 0
    return round(math.fsum(values) if all(math.isfinite(v) for v in values) else sum(values), 6)


_MEASURES: dict[str, Callable[[list[Record]], float | int]] = {
    "count": len,
    "sum_value": lambda events: _total([event_value(e) for e in events]),
    "unique": lambda events: len({event_related_id(e, "profile") for e in events} - {None}),
}


_ROLLED = ("count", "sum_value")  # what hourly totals answer (`unique` needs each event's profile)
_METRIC_WINDOW = ("event", "metric_id", "datetime")
# The hourly totals the store keeps (the plan's `measures`): a metric's events' values, per hour
ROLLUPS: dict[tuple[str, str, str], Callable[[Record], float]] = {_METRIC_WINDOW: event_value}


def _rolled_up(
    tx: StoreTx,
    account: str,
    metric_id: str,
    starts: list[dt.datetime],
    start: dt.datetime,
    end: dt.datetime,
    measurements: list[str],
) -> list[dict[str, Any]] | None:
    """`count`/`sum_value` per bucket from the store's hourly totals of the metric's events (`tx.rollup`): a
    month costs its hours, not its events. Events the totals cannot place (unknown or odd times, the parts
    of a bucket that are not whole hours) are read and counted here like the exact path counts them; None
    when the store keeps no totals or a value has no exact sum (the caller reads the window)."""
    key = key_text(metric_id)
    if key is None:
        return None
    edges = [start.timestamp(), *(s.timestamp() for s in starts[1:]), end.timestamp()]
    rtype, parent, field = _METRIC_WINDOW
    found = tx.rollup(account, rtype, (parent, key), field, edges, ROLLUPS[_METRIC_WINDOW])
    if found is None:
        return None
    totals, loose = found
    counts = [count for count, _ in totals]
    sums = [total for _, total in totals]
    for event in loose:
        moment = event_moment(event)
        if event_related_id(event, "metric") != metric_id or moment is None or not start <= moment < end:
            continue
        value = event_value(event)
        if not math.isfinite(value):
            return None
        slot = bisect.bisect_right(starts, moment) - 1
        counts[slot] += 1
        sums[slot] += Fraction(value)
    values = {
        "count": counts,
        "sum_value": [round(float(total), 6) if count else 0 for count, total in zip(counts, sums, strict=True)],
    }
    return [{"dimensions": [], "measurements": {m: values[m] for m in measurements}}]


def _dimension_names(spec: Spec, props: dict[str, Any]) -> set[str]:
    node = flatten(spec, props.get("by"))
    items = flatten(spec, node.get("items"))
    return {str(v) for v in items.get("enum") or [] if v is not None}


def _fields(node: Node) -> Iterable[str]:
    if node.op in ("and", "or", "not"):
        for child in node.children:
            yield from _fields(child)
    else:
        yield node.field


def _lookup(event: Record, field: str) -> Any:
    if field == "datetime":
        moment = event_moment(event)
        return moment.isoformat() if moment else None
    if field == "metric_id":
        return event_related_id(event, "metric")
    return event_property(event, field)


def _aggregate(
    events: list[Record],
    starts: list[dt.datetime],
    start: dt.datetime,
    end: dt.datetime,
    rest: Node | None,
    dimensions: list[str],
    measurements: list[str],
) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, ...], list[list[Record]]] = {}
    if not dimensions:
        grouped[()] = [[] for _ in starts]
    for event in events:
        moment = event_moment(event)
        if moment is None or not start <= moment < end or (rest is not None and not evaluate(rest, event, _lookup)):
            continue
        slot = bisect.bisect_right(starts, moment) - 1
        if slot < 0:
            continue
        key = tuple("" if (v := event_property(event, d)) is None else str(v) for d in dimensions)
        grouped.setdefault(key, [[] for _ in starts])[slot].append(event)
    return [
        {
            "dimensions": list(key),
            "measurements": {m: [_MEASURES[m](slot) for slot in slots] for m in measurements},
        }
        for key, slots in sorted(grouped.items())
    ]


def _sorted(rows: list[dict[str, Any]], sort: Any, dimensions: list[str]) -> list[dict[str, Any]]:
    if not isinstance(sort, str) or not sort:
        return rows
    name = sort.lstrip("-")
    if name not in dimensions:
        raise invalid(f"Cannot sort by '{name}': it is not one of the `by` dimensions.", pointer=f"{_POINTER}/sort")
    at = dimensions.index(name)
    return sorted(rows, key=lambda row: row["dimensions"][at], reverse=sort.startswith("-"))


class _Page:
    def __init__(self, rows: list[dict[str, Any]], next_cursor: str | None) -> None:
        self.rows = rows
        self.next_cursor = next_cursor


def _page(rows: list[dict[str, Any]], size: Any, cursor: Any) -> _Page:
    limit = size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else 500
    offset = 0
    if cursor:
        try:
            offset = int(str(cursor))
        except ValueError:
            raise invalid("Invalid page cursor.", pointer=f"{_POINTER}/page_cursor") from None
    window = rows[offset : offset + limit]
    return _Page(window, str(offset + limit) if offset + limit < len(rows) else None)
