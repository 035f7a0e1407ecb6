"""Campaign and flow reports (values and series), computed from the account's stored events.

A report is found by shape: a POST whose request attributes carry `statistics` and `timeframe` and whose
`group_by` names `<subject>_id` and `<subject>_message_id` (campaign, flow). An event counts for a message
when its `$message` property names the message (or, for campaigns, the campaign); a flow's events also carry
`$flow`. What each statistic counts (by Klaviyo's metric names) is in `_COUNTS`; conversions are the
`conversion_metric_id` events whose `$attributed_message` (or `$attributed_flow`) names the message (flow);
rates divide as Klaviyo documents them. docs/mock-server.md ("Reports and aggregates") has the table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from mock_server import MockRequest, MockResponse

from .._collections import page_link
from .._errors import invalid, not_found
from .._filters import FilterError, Node, evaluate, fields_of, parse_filter
from .._render import request_path
from .._schema import Spec, flatten, success_response
from .._store import Record, StoreTx
from ._aggregates import attribute_schema_of, buckets
from ._base import Backend
from ._events import event_moment, event_property, event_related_id, event_value, events_between
from ._lists import is_computed
from ._membership import Interval, intervals, reconcile_snapshot

__all__ = ["ReportsBackend", "report_fields", "report_subject"]

_POINTER = "/data/attributes"
_BY_PROPERTY = "property:"  # a subject whose events name it in a property (`form_id`), not through a message
_BY_MEMBERSHIP = "members:"  # a subject with members (a segment): counted from who joined and left when
_INTERVALS = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}
# Engagement statistics: (metric name prefix, count or unique profiles).
_COUNTS: dict[str, tuple[str, bool]] = {
    "delivered": ("received", False),
    "bounced": ("bounced", False),
    "failed": ("failed to deliver", False),
    "opens": ("opened", False),
    "opens_unique": ("opened", True),
    "clicks": ("clicked", False),
    "clicks_unique": ("clicked", True),
    "unsubscribes": ("unsubscribed", False),
    "unsubscribe_uniques": ("unsubscribed", True),
    "spam_complaints": ("marked email as spam", False),
}


def _ratio(top: float, bottom: float) -> float:
    return round(top / bottom, 6) if bottom else 0.0


# Statistics derived from the counts above and the conversions.
_DERIVED: dict[str, Callable[[dict[str, float]], float]] = {
    "recipients": lambda s: s["delivered"] + s["bounced"] + s["failed"],
    "bounced_or_failed": lambda s: s["bounced"] + s["failed"],
    "delivery_rate": lambda s: _ratio(s["delivered"], s["recipients"]),
    "bounce_rate": lambda s: _ratio(s["bounced"], s["recipients"]),
    "failed_rate": lambda s: _ratio(s["failed"], s["recipients"]),
    "bounced_or_failed_rate": lambda s: _ratio(s["bounced"] + s["failed"], s["recipients"]),
    "open_rate": lambda s: _ratio(s["opens_unique"], s["delivered"]),
    "click_rate": lambda s: _ratio(s["clicks_unique"], s["delivered"]),
    "click_to_open_rate": lambda s: _ratio(s["clicks_unique"], s["opens_unique"]),
    "unsubscribe_rate": lambda s: _ratio(s["unsubscribe_uniques"], s["delivered"]),
    "spam_complaint_rate": lambda s: _ratio(s["spam_complaints"], s["delivered"]),
    "conversion_rate": lambda s: _ratio(s["conversion_uniques"], s["delivered"]),
    "average_order_value": lambda s: _ratio(s["conversion_value"], s["conversions"]),
    "revenue_per_recipient": lambda s: _ratio(s["conversion_value"], s["delivered"]),
}


def report_fields(spec: Spec, props: dict[str, Any]) -> list[str]:
    """The attributes a report groups and filters by: its `group_by` enum, else (older revisions) the ones
    its filter's description allows ("Allowed filters are send_channel, campaign_id.")."""
    items = flatten(spec, flatten(spec, props.get("group_by")).get("items"))
    if items.get("enum"):
        return [str(v) for v in items["enum"] if v is not None]
    text = str(flatten(spec, props.get("filter")).get("description") or "")
    found = re.search(r"Allowed filters are ([\w, ]+)\.", text)
    listed = found.group(1) if found else " ".join(re.findall(r"attributes \(([^)]*)\)", text))
    return list(dict.fromkeys(re.findall(r"[a-z][a-z_]*[a-z]", listed)))


def report_subject(spec: Spec, request_schema: dict[str, Any] | None, types: Iterable[str]) -> str | None:
    """What a report is about, from its request's shape: the resource type `<type>_id` names among its
    fields. A type with messages (`campaign`, `flow`) is reported through them; another (`form`) through the
    events that name it in a property."""
    props = attribute_schema_of(spec, request_schema).get("properties") or {}
    if "statistics" not in props or "timeframe" not in props:
        return None
    known = set(types)
    subjects = [n[: -len("_id")] for n in report_fields(spec, props) if n.endswith("_id") and n[:-3] in known]
    senders = [subject for subject in subjects if f"{subject}-message" in known]  # not `tag_id`'s tag
    if len(senders) == 1:
        return senders[0]
    if len(subjects) != 1:
        return None
    items = flatten(spec, flatten(spec, props.get("statistics")).get("items"))
    offered = [str(v) for v in items.get("enum") or []]
    # A segment's `total_members`, `members_added`...: counted from its membership history, not from events.
    if any("members" in name.split("_") for name in offered):
        return f"{_BY_MEMBERSHIP}{subjects[0]}"
    # Without messages, only statistics named after the subject's events (`viewed_form`) are counted from events.
    named = [name for name in offered if subjects[0] in name.split("_")]
    return f"{_BY_PROPERTY}{subjects[0]}" if named else None


def _timeframe(raw: Any, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a report's timeframe, in the company timezone (UTC in the mock)."""
    pointer = f"{_POINTER}/timeframe"
    if not isinstance(raw, dict):
        raise invalid("`timeframe` must be an object with `key`, or `start` and `end`.", pointer=pointer)
    if "key" in raw:
        found = _KEYS.get(str(raw["key"]))
        if found is None:
            raise invalid(f"Unknown timeframe key {raw['key']!r}.", pointer=f"{pointer}/key")
        return found(now.replace(hour=0, minute=0, second=0, microsecond=0), now)
    bounds = []
    for name in ("start", "end"):
        try:
            # "Offset is ignored and the company timezone is used."
            bounds.append(dt.datetime.fromisoformat(str(raw.get(name))).replace(tzinfo=dt.UTC))
        except ValueError:
            raise invalid(f"`timeframe.{name}` is not an ISO 8601 datetime.", pointer=f"{pointer}/{name}") from None
    if bounds[1] < bounds[0]:  # an empty timeframe (end == start, as in the spec's own example) reports nothing
        raise invalid("The timeframe's end is before its start.", pointer=pointer)
    if bounds[1] - bounds[0] > dt.timedelta(days=366):
        raise invalid("The timeframe is longer than one year.", pointer=pointer)
    return bounds[0], bounds[1]


def _months_back(day: dt.datetime, months: int) -> dt.datetime:
    month = day.month - 1 - months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1, day=1)


_KEYS: dict[str, Callable[[dt.datetime, dt.datetime], tuple[dt.datetime, dt.datetime]]] = {
    "today": lambda day, now: (day, now),
    "yesterday": lambda day, now: (day - dt.timedelta(days=1), day),
    "this_week": lambda day, now: (day - dt.timedelta(days=day.weekday()), now),
    "last_week": lambda day, now: (
        day - dt.timedelta(days=day.weekday() + 7),
        day - dt.timedelta(days=day.weekday()),
    ),
    "this_month": lambda day, now: (day.replace(day=1), now),
    "last_month": lambda day, now: (_months_back(day, 1), day.replace(day=1)),
    "this_year": lambda day, now: (day.replace(month=1, day=1), now),
    "last_year": lambda day, now: (day.replace(year=day.year - 1, month=1, day=1), day.replace(month=1, day=1)),
    "last_7_days": lambda day, now: (day - dt.timedelta(days=7), day),
    "last_30_days": lambda day, now: (day - dt.timedelta(days=30), day),
    "last_90_days": lambda day, now: (day - dt.timedelta(days=90), day),
    "last_365_days": lambda day, now: (day - dt.timedelta(days=365), day),
    "last_3_months": lambda day, now: (_months_back(day, 3), day.replace(day=1)),
    "last_12_months": lambda day, now: (_months_back(day, 12), day.replace(day=1)),
}


class ReportsBackend(Backend):
    types: ClassVar[tuple[str, ...]] = ()

    def report(self, req: MockRequest, request_schema: dict[str, Any] | None, subject: str) -> MockResponse:
        data = req.body.get("data") if isinstance(req.body, dict) else None
        attrs = data.get("attributes") if isinstance(data, dict) else None
        if not isinstance(attrs, dict):
            raise invalid("The request body must be a JSON:API document with `data.attributes`.", pointer="/data")
        spec = self.index.spec
        props = attribute_schema_of(spec, request_schema).get("properties") or {}
        group_doc = str(flatten(spec, props.get("group_by")).get("description") or "")
        statistics = [str(s) for s in attrs.get("statistics") or []]
        if not statistics:
            raise invalid("`statistics` must name at least one statistic.", pointer=f"{_POINTER}/statistics")
        start, end = _timeframe(attrs.get("timeframe"), dt.datetime.now(dt.UTC))
        fields = report_fields(spec, props)
        group_by = [str(g) for g in attrs.get("group_by") or []] or _listed(group_doc, "grouped by") or fields
        missing = [g for g in _listed(group_doc, "required") if g not in group_by]
        if missing:
            raise invalid(f"`group_by` must include {', '.join(missing)}.", pointer=f"{_POINTER}/group_by")
        tree = self._filter(
            attrs.get("filter"), fields, str(flatten(spec, props.get("filter")).get("description") or "")
        )
        interval = attrs.get("interval")
        series = "interval" in props
        if series:
            longest = _longest(str(flatten(spec, props.get("interval")).get("description") or ""), str(interval))
            if longest is not None and end - start > longest:
                raise invalid(
                    f"With `{interval}` the timeframe cannot be longer than {longest.days} days.",
                    pointer=f"{_POINTER}/timeframe",
                )
        starts = buckets(start, end, _INTERVALS.get(str(interval), "day"), dt.UTC) if series else [start]
        if subject.startswith(_BY_MEMBERSHIP):
            rows = self._membership(req.account, subject[len(_BY_MEMBERSHIP) :], group_by, tree, starts, (start, end))
        else:
            groups = self._event_groups(req, props, attrs, subject, fields, group_by, tree, starts, (start, end))
            count = _named_statistics if subject.startswith(_BY_PROPERTY) else _statistics
            rows = [(key, [count(slot, statistics) for slot in slots]) for key, slots in sorted(groups.items())]
        results = []
        for key, values in rows:
            stats = {s: [v[s] for v in values] if series else values[0][s] for s in statistics}
            results.append({"groupings": dict(zip(group_by, key, strict=True)), "statistics": stats})
        _status, response = success_response(spec, self._op_node(req.operation_id))
        data_schema = flatten(spec, ((response or {}).get("properties") or {}).get("data"))
        rtype = (flatten(spec, (data_schema.get("properties") or {}).get("type")).get("enum") or ["report"])[0]
        attributes: dict[str, Any] = {"results": results}
        if series:
            attributes["date_times"] = [s.isoformat() for s in starts]
        link = page_link(req.base_url, request_path(req), {})
        return MockResponse(200, {"data": {"type": rtype, "attributes": attributes}, "links": {"self": link}})

    def _event_groups(
        self,
        req: MockRequest,
        props: dict[str, Any],
        attrs: dict[str, Any],
        subject: str,
        fields: list[str],
        group_by: list[str],
        tree: Node | None,
        starts: list[dt.datetime],
        timeframe: tuple[dt.datetime, dt.datetime],
    ) -> dict[tuple[str, ...], list[dict[str, list[Record]]]]:
        """The events in the timeframe that count for the subject, by grouping and by time slot."""
        allowed = set(fields)
        start, end = timeframe
        with self.store.transaction(write=False) as tx:
            conversion_metric = attrs.get("conversion_metric_id")
            if "conversion_metric_id" in props and tx.get(req.account, "metric", str(conversion_metric)) is None:
                raise not_found("metric", str(conversion_metric))
            metric_names = {
                m["id"]: str((m.get("attributes") or {}).get("name") or "") for m in tx.scan(req.account, "metric")
            }
            groups: dict[tuple[str, ...], list[dict[str, list[Record]]]] = {}
            for event in events_between(tx, req.account, list(metric_names), start, end):
                moment = event_moment(event)
                if moment is None or not start <= moment < end:
                    continue
                metric = event_related_id(event, "metric") or ""
                converting = metric == conversion_metric
                name = metric_names.get(metric, "")
                if subject.startswith(_BY_PROPERTY):
                    found = _by_property(subject[len(_BY_PROPERTY) :], event, allowed, name)
                else:
                    found = self._attribution(tx, req.account, subject, event, converting, name)
                if found is None:
                    continue
                groupings, kind = found
                if tree is not None and not evaluate(tree, groupings, lambda g, f: g.get(f)):
                    continue
                key = tuple(str(groupings.get(g) or "") for g in group_by)
                slots = groups.setdefault(key, [{} for _ in starts])
                slot = max(i for i, s in enumerate(starts) if s <= moment)
                slots[slot].setdefault(kind, []).append(event)
        return groups

    def _membership(
        self,
        account: str,
        subject: str,
        group_by: list[str],
        tree: Node | None,
        starts: list[dt.datetime],
        timeframe: tuple[dt.datetime, dt.datetime],
    ) -> list[tuple[tuple[str, ...], list[dict[str, float]]]]:
        """Each group's (segment's) statistics per time slot, from its membership history (`_membership.py`).
        A computed segment's snapshot is brought up to date first, so the report writes."""
        lists = self.backends.lists
        rows = []
        with self.store.transaction() as tx:
            for group in sorted(tx.scan(account, subject), key=lambda g: str(g["id"])):
                groupings = {f"{subject}_id": group["id"]}  # the one field such a report filters on
                if tree is not None and not evaluate(tree, groupings, lambda g, f: g.get(f)):
                    continue
                current = lists.members(tx, account, group)
                since = str((group.get("attributes") or {}).get("created") or "")
                if is_computed(group):
                    joined = reconcile_snapshot(tx, account, group, current)
                else:
                    joined = {pid: when or since for pid, when in current.items()}
                spans = intervals(tx, account, group, joined)
                # A series' first slot starts at the timeframe's start, even when its interval's start is earlier.
                slots = [max(s, timeframe[0]) for s in starts]
                ends = [*starts[1:], timeframe[1]]
                values = [_membership_statistics(spans, a, b) for a, b in zip(slots, ends, strict=True)]
                rows.append((tuple(str(groupings.get(g) or "") for g in group_by), values))
        return rows

    def _op_node(self, operation_id: str) -> dict[str, Any]:
        for methods in self.index.spec.get("paths", {}).values():
            for node in methods.values() if isinstance(methods, dict) else ():
                if isinstance(node, dict) and node.get("operationId") == operation_id:
                    return node
        return {}

    def _filter(self, raw: Any, allowed: list[str], description: str) -> Node | None:
        """The report's filter, held to the rules its description states (fields, operators, one filter per
        attribute, the most items of a list filter)."""
        if not raw:
            return None
        pointer = f"{_POINTER}/filter"
        try:
            tree = parse_filter(str(raw))
        except FilterError as exc:
            raise invalid(f"Invalid filter: {exc}.", pointer=pointer) from None
        if any(node.op in ("or", "not") for node in _nodes(tree)):
            raise invalid("Only AND can be used as a combination operator.", pointer=pointer)
        for name in fields_of(tree):
            if allowed and name not in allowed:
                raise invalid(f"'{name}' is not a field this report can filter on.", pointer=pointer)
        leaves = [node for node in _nodes(tree) if not node.children]
        operators = _operators(description)
        most = re.search(r"Max of (\d+) \w+ per (?:ANY|list) filter", description, re.IGNORECASE)
        seen: set[str] = set()
        for leaf in leaves:
            known = operators.get(leaf.field) or operators.get("")
            if known and leaf.op not in known:
                raise invalid(
                    f"'{leaf.op}' is not an operator for '{leaf.field}' (use {', '.join(sorted(known))}).",
                    pointer=pointer,
                )
            if leaf.field in seen and "only one filter can be used per attribute" in description.lower():
                raise invalid(f"Only one filter can be used per attribute ('{leaf.field}').", pointer=pointer)
            seen.add(leaf.field)
            if most and isinstance(leaf.value, list) and len(leaf.value) > int(most.group(1)):
                raise invalid(f"At most {most.group(1)} values per list filter.", pointer=pointer)
        return tree

    def _attribution(
        self, tx: StoreTx, account: str, subject: str, event: Record, converting: bool, metric_name: str
    ) -> tuple[dict[str, Any], str] | None:
        """The groupings an event reports under and what it counts as (a metric name, or `conversion`)."""
        prefix = "$attributed_" if converting else "$"
        message_id = event_property(event, f"{prefix}message")
        subject_id = event_property(event, f"{prefix}flow") if subject == "flow" else None
        if not message_id and not subject_id:
            return None
        message = tx.get(account, f"{subject}-message", str(message_id)) if message_id else None
        if subject == "campaign" and message is None and message_id:
            campaign = tx.get(account, "campaign", str(message_id))  # `$message` may name the campaign itself
            if campaign is None:
                return None
            subject_id = campaign["id"]
            refs = ((campaign.get("relationships") or {}).get("campaign-messages") or {}).get("data") or []
            message = tx.get(account, "campaign-message", refs[0]["id"]) if refs else None
            message_id = message["id"] if message else message_id
        if subject_id is None and message is not None:
            subject_id = self._parent_id(tx, account, subject, message)
        if subject_id is None:
            return None
        parent = tx.get(account, subject, str(subject_id))
        message_attrs = (message or {}).get("attributes") or {}
        raw = message_attrs.get("definition")
        definition: dict[str, Any] = raw if isinstance(raw, dict) else {}
        channel = message_attrs.get("channel") or definition.get("channel") or _channel_of(metric_name)
        groupings = {
            f"{subject}_id": str(subject_id),
            f"{subject}_message_id": str(message_id or ""),
            f"{subject}_name": ((parent or {}).get("attributes") or {}).get("name"),
            f"{subject}_message_name": message_attrs.get("name")
            or definition.get("name")
            or message_attrs.get("label"),
            "send_channel": channel,
            "variation": event_property(event, "$variation"),
            "tag_id": self._tags(tx, account, parent, "id"),
            "tag_name": self._tags(tx, account, parent, "name"),
        }
        return groupings, "conversion" if converting else metric_name.lower()

    def _parent_id(self, tx: StoreTx, account: str, subject: str, message: Record) -> str | None:
        for rel in (message.get("relationships") or {}).values():
            for ref in rel.get("data") or []:
                if ref.get("type") == subject:
                    return str(ref["id"])
        for parent in tx.scan(account, subject):
            for rel in (parent.get("relationships") or {}).values():
                if {"type": message["type"], "id": message["id"]} in (rel.get("data") or []):
                    return str(parent["id"])
        return None

    def _tags(self, tx: StoreTx, account: str, parent: Record | None, member: str) -> list[str]:
        refs = ((parent or {}).get("relationships") or {}).get("tags") or {}
        out = []
        for ref in refs.get("data") or []:
            tag = tx.get(account, "tag", ref["id"]) if member != "id" else None
            out.append(ref["id"] if member == "id" else str(((tag or {}).get("attributes") or {}).get(member) or ""))
        return out


def _by_property(subject: str, event: Record, names: set[str], metric_name: str) -> tuple[dict[str, Any], str] | None:
    """A form's events name it in their properties (`form_id`, `form_version_id`; `$form_id` too)."""
    groupings = {}
    for name in names:
        value = event_property(event, name)
        groupings[name] = value if value is not None else event_property(event, f"${name}")
    if groupings.get(f"{subject}_id") in (None, ""):
        return None
    return groupings, metric_name.lower()


def _named_statistics(slot: dict[str, list[Record]], wanted: list[str]) -> dict[str, float]:
    """Statistics named after their metric (`viewed_form` = Viewed Form events, `_uniques` = distinct
    profiles); `submits` are Submitted Form events and `submit_rate` = submits / viewed_form."""

    def events(name: str) -> list[Record]:
        base = name[: -len("_uniques")] if name.endswith("_uniques") else name
        metric = {"submits": "submitted form"}.get(base, base.replace("_", " "))
        return slot.get(metric, [])

    out: dict[str, float] = {}
    for name in wanted:
        if name.endswith("_rate"):
            out[name] = _ratio(len(events("submits")), len(events("viewed_form")))
        elif name.endswith("_uniques"):
            out[name] = len({event_related_id(e, "profile") for e in events(name)})
        else:
            out[name] = len(events(name))
    return out


def _membership_statistics(spans: list[Interval], start: dt.datetime, end: dt.datetime) -> dict[str, float]:
    """A group's statistics over [start, end): `members_added` joins and `members_removed` departures in it,
    `net_members_changed` their difference, `total_members` the members at its end (at most now); so
    net_members_changed == total_members(end) - total_members(start)."""
    closing = min(end, dt.datetime.now(dt.UTC))
    added = sum(1 for joined, _ in spans if start <= joined < end)
    removed = sum(1 for _, left in spans if left is not None and start <= left < end)
    total = sum(1 for joined, left in spans if joined <= closing and (left is None or left > closing))
    return {
        "members_added": added,
        "members_removed": removed,
        "net_members_changed": added - removed,
        "total_members": total,
    }


def _channel_of(metric_name: str) -> str:
    lowered = metric_name.lower()
    # The report's own channel names ("allowed values are email, push-notification, sms").
    return "sms" if "sms" in lowered else "push-notification" if "push" in lowered else "email"


def _operators(description: str) -> dict[str, set[str]]:
    """The operators a report's filter description allows, by field ("" for every field): "Allowed operators
    are equals, any." or "Scalar attributes (send_channel, campaign_id): Supported operators: equals, contains-any."."""
    out: dict[str, set[str]] = {}
    for fields, ops in re.findall(r"\(([\w, ]+)\): Supported operators: ([\w, -]+)\.", description):
        for name in re.findall(r"\w+", fields):
            out[name] = set(re.findall(r"[\w-]+", ops))
    found = re.search(r"Allowed operators are ([\w, -]+)\.", description)
    if found:
        out[""] = set(re.findall(r"[\w-]+", found.group(1)))
    return out


def _nodes(tree: Node) -> list[Node]:
    return [tree, *(n for child in tree.children for n in _nodes(child))]


def _longest(description: str, interval: str) -> dt.timedelta | None:
    """The longest timeframe an interval allows, as the interval's description states it ("If hourly is used,
    the timeframe cannot be longer than 7 days.")."""
    found = re.search(
        rf"If {re.escape(interval)} is used, the timeframe cannot be longer than (\d+) (day|week)", description
    )
    if not found:
        return None
    return dt.timedelta(days=int(found.group(1)) * (7 if found.group(2) == "week" else 1))


def _listed(description: str, word: str) -> list[str]:
    """The attribute names a `group_by` description lists after `word` ("grouped by a, b", "required: a, b")."""
    for sentence in re.split(r"(?<=\.)\s|\n", description):
        if word in sentence:
            return re.findall(r"[a-z][a-z_]*_id|send_channel", sentence.split(word, 1)[1])
    return []


def _statistics(slot: dict[str, list[Record]], wanted: list[str]) -> dict[str, float]:
    counts: dict[str, float] = {}
    for name, (prefix, unique) in _COUNTS.items():
        events = [e for kind, found in slot.items() if kind.startswith(prefix) for e in found]
        counts[name] = len({event_related_id(e, "profile") for e in events}) if unique else len(events)
    conversions = slot.get("conversion", [])
    counts["conversions"] = len(conversions)
    counts["conversion_uniques"] = len({event_related_id(e, "profile") for e in conversions})
    counts["conversion_value"] = round(sum(event_value(e) for e in conversions), 6)
    counts["recipients"] = _DERIVED["recipients"](counts)
    out = {}
    for name in wanted:
        if name in counts:
            out[name] = counts[name]
        elif name in _DERIVED:
            out[name] = _DERIVED[name](counts)
        else:
            out[name] = 0  # SMS spend, credits, segments: nothing in the mock's events carries them
    return out
