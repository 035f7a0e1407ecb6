"""Events and metrics, as Klaviyo's Track API describes them.

A tracked event finds or creates its metric by name and its profile by its identifiers (the profile's
attributes sent with it are merged in), is stored with its time, value, properties and `unique_id`, and is
linked to both; a repeated `unique_id` for the same profile and metric records nothing (without one, the
event's time to the second is the unique id, as the spec says). Bulk creates (`/api/event-bulk-create-jobs`,
`/client/event-bulk-create`) track each event they carry the same way.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from mock_server import MockRequest

from .._errors import invalid
from .._index import OpInfo
from .._models import Outcome, Record, merge, now
from .._plan import key_text
from .._schema import Spec, flatten
from .._store import BatchingTx, StoreTx
from ._base import Backend, Call

__all__ = [
    "EventsBackend",
    "carries_events",
    "event_moment",
    "event_property",
    "event_related_id",
    "event_value",
    "events_between",
]

_IDENTIFIERS = ("email", "phone_number", "external_id")
_NOT_STORED_ON_PROFILE = ("meta", "_kx", "anonymous_id")  # how to identify/update, not what the profile holds


def carries_events(spec: Spec, schema: Any, depth: int = 0) -> bool:
    """Does a request schema hold event resources to track (`type: event` with a `metric`)? (By shape: the
    bulk create operations carry them a few levels down.)"""
    node = flatten(spec, schema)
    if depth > 16 or not node:
        return False
    props = node.get("properties") or {}
    kind = flatten(spec, props.get("type")).get("enum") or []
    if kind == ["event"] and "metric" in (flatten(spec, props.get("attributes")).get("properties") or {}):
        return True
    children = list(props.values()) + [node[k] for k in ("items",) if k in node]
    return any(carries_events(spec, child, depth + 1) for child in children)


def _event_time(value: Any) -> dt.datetime:
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise invalid(f"`time` is not an ISO 8601 datetime: {value!r}.", pointer="/data/attributes/time") from None
        moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    else:
        moment = dt.datetime.now(dt.UTC)
    # "The time is truncated to the second"; Klaviyo answers events' times in UTC (so they also sort as text).
    try:
        return moment.astimezone(dt.UTC).replace(microsecond=0)
    except OverflowError:
        raise invalid(f"`time` is outside the supported dates: {value!r}.", pointer="/data/attributes/time") from None


class EventsBackend(Backend):
    types: ClassVar[tuple[str, ...]] = ("event",)

    def complete(self, record: Record, op: OpInfo | None) -> None:
        """An event loaded as seed data reads back like a tracked one: its time in both forms (now when it
        has neither; its `datetime` in UTC, as Klaviyo answers it and as it sorts as a time), a uuid, and
        properties (never null)."""
        attrs = record.setdefault("attributes", {})
        moment = event_moment(record) or dt.datetime.now(dt.UTC).replace(microsecond=0)
        if attrs.get("datetime") is None or event_moment({"attributes": {"datetime": attrs["datetime"]}}):
            attrs["datetime"] = moment.astimezone(dt.UTC).isoformat()
        if attrs.get("timestamp") is None:
            attrs["timestamp"] = int(moment.timestamp())
        if not attrs.get("uuid"):
            attrs["uuid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"event:{record.get('id')}"))
        if not isinstance(attrs.get("event_properties"), dict):
            attrs["event_properties"] = {}
        super().complete(record, op)

    def create(self, call: Call) -> Outcome:
        self.track_request(call.req)
        return Outcome(call.op.status)

    def upsert(self, call: Call) -> Outcome:  # `/client/events` creates like `/api/events`
        return self.create(call)

    def track_request(self, req: MockRequest) -> int:
        """Track every event the request body carries; returns how many were recorded."""
        body = req.body if isinstance(req.body, dict) else None
        if body is None or not isinstance(body.get("data"), dict):
            raise invalid("The request body must be a JSON:API document with `data`.")
        found = list(_events_in(body["data"], None))
        if not found:
            raise invalid("The request carries no event to track.", pointer="/data")
        with self.store.transaction() as tx:
            # A bulk create's events, profiles and metric properties are stored together (`put_many`: one
            # round of statements in SQL), like a profile bulk import's.
            batch: StoreTx = BatchingTx(tx) if len(found) > 1 else tx
            tracked = sum(1 for attributes, profile in found if self.track(batch, req.account, attributes, profile))
            if isinstance(batch, BatchingTx):
                batch.flush()
            return tracked

    def track(self, tx: StoreTx, account: str, attributes: dict[str, Any], profile_data: Any) -> bool:
        metric_data = (attributes.get("metric") or {}).get("data") or {}
        metric_attrs = metric_data.get("attributes") or {}
        name = metric_attrs.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("An event needs `metric.data.attributes.name`.", pointer="/data/attributes/metric")
        metric = self.metric(tx, account, name, metric_attrs)
        profile = self.profile(tx, account, profile_data if isinstance(profile_data, dict) else {})
        moment = _event_time(attributes.get("time"))
        unique = str(attributes.get("unique_id") or moment.isoformat())
        for earlier in tx.referencing(account, "event", "profile", profile["id"]):  # indexed: not every event
            stored = earlier.get("attributes") or {}
            rels = earlier.get("relationships") or {}
            if (
                stored.get("unique_id") == unique
                and (rels.get("metric") or {}).get("data") == [{"type": "metric", "id": metric["id"]}]
                and (rels.get("profile") or {}).get("data") == [{"type": "profile", "id": profile["id"]}]
            ):
                return False  # a repeated unique_id does not count twice
        properties = dict(attributes.get("properties") or {})
        value = attributes.get("value")
        if value is not None:
            properties.setdefault("$value", value)
        event: Record = {
            "type": "event",
            "id": self.ids.rule("event").new(),
            "attributes": {
                "timestamp": int(moment.timestamp()),
                "datetime": moment.isoformat(),
                "uuid": str(uuid.uuid1()),
                "event_properties": properties,
                # Kept for reports and aggregates (not in the event's response schema):
                "value": value,
                "value_currency": attributes.get("value_currency"),
                "unique_id": unique,
            },
            "relationships": {
                "metric": {"many": False, "data": [{"type": "metric", "id": metric["id"]}]},
                "profile": {"many": False, "data": [{"type": "profile", "id": profile["id"]}]},
            },
        }
        tx.put(account, event)
        self.record_properties(tx, account, metric, properties)
        profile_attrs = profile.setdefault("attributes", {})
        last = profile_attrs.get("last_event_date")
        if "last_event_date" in self._profile_attributes() and (
            not last or str(last) < event["attributes"]["datetime"]
        ):
            profile_attrs["last_event_date"] = event["attributes"]["datetime"]
        tx.put(account, profile)
        return True

    def metric(self, tx: StoreTx, account: str, name: str, attributes: dict[str, Any]) -> Record:
        """The account's metric with this name, else a new one."""
        found = tx.find(account, "metric", "name", name)
        if found is not None:
            return found
        stamp = now()
        service = attributes.get("service")
        metric: Record = {
            "type": "metric",
            "id": self.ids.rule("metric").new(),
            "attributes": {"name": name, "created": stamp, "updated": stamp},
            "relationships": {},
        }
        # A metric tracked through the API shows the API integration (or the `service` the event names).
        metric["attributes"]["integration"] = {
            "object": "integration",
            "name": str(service or "API"),
            "category": "API",
        }
        info = self.index.types.get("metric")
        get_op = self.index.ops.get(info.get_op or "") if info else None
        self.backends.for_type("metric").complete(metric, get_op)
        return tx.put(account, metric)

    def record_properties(self, tx: StoreTx, account: str, metric: Record, properties: dict[str, Any]) -> None:
        """The metric's properties (`/api/metrics/{id}/properties`): one per event property name seen, with
        its inferred type and a few sample values."""
        if "metric-property" not in self.index.types:
            return
        known = {
            str((p.get("attributes") or {}).get("property")): p
            for p in tx.referencing(account, "metric-property", "metric", metric["id"])  # indexed: this metric's
            if {"type": "metric", "id": metric["id"]}
            in ((p.get("relationships") or {}).get("metric") or {}).get("data", [])
        }
        for name, value in properties.items():
            found = known.get(name)
            if found is None:
                found = {
                    "type": "metric-property",
                    "id": self.ids.rule("metric-property").new(),
                    "attributes": {"label": name, "property": name, "inferred_type": _inferred_type(value)},
                    "relationships": {"metric": {"many": False, "data": [{"type": "metric", "id": metric["id"]}]}},
                }
            samples = list(found["attributes"].get("sample_values") or [])
            if value not in samples and len(samples) < _SAMPLES and isinstance(value, str | int | float | bool):
                samples.append(value)
            found["attributes"]["sample_values"] = samples
            tx.put(account, found)

    def profile(self, tx: StoreTx, account: str, data: dict[str, Any]) -> Record:
        """The profile the event is about (by id, else identifiers), created when new, its attributes updated."""
        attrs = {k: v for k, v in (data.get("attributes") or {}).items() if k not in _NOT_STORED_ON_PROFILE}
        identifiers = {k: attrs[k] for k in _IDENTIFIERS if attrs.get(k) not in (None, "")}
        rid = str(data.get("id") or "") or None
        if rid is None and not identifiers:
            raise invalid(
                "An event's profile needs an id or one of email, phone_number, external_id.",
                pointer="/data/attributes/profile/data",
            )
        profiles = self.backends.profiles
        profile = profiles.find_or_create(tx, account, identifiers, rid)
        if attrs:
            profile["attributes"] = merge(profile.get("attributes") or {}, attrs)
            profile["attributes"]["updated"] = now()
        return profile

    def _profile_attributes(self) -> set[str]:
        return set((self.attribute_schema(None, "profile").get("properties") or {}).keys())


_SAMPLES = 10


def _inferred_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Number"
    if isinstance(value, list):
        return "List"
    if isinstance(value, dict):
        return "Object"
    return "String"


def _events_in(node: Any, profile: Any) -> Any:
    """(event attributes, profile data) for every event resource in a request's `data`, each with its own
    profile or the one of the bulk entry that holds it."""
    if isinstance(node, list):
        for item in node:
            yield from _events_in(item, profile)
        return
    if not isinstance(node, dict):
        return
    found = node.get("attributes")
    attributes: dict[str, Any] = found if isinstance(found, dict) else {}
    holder = attributes.get("profile")
    own_profile = holder.get("data") if isinstance(holder, dict) else None
    if node.get("type") == "event" and "metric" in attributes:
        yield attributes, own_profile or profile
        return
    for value in attributes.values():
        if isinstance(value, dict) and "data" in value:
            yield from _events_in(value["data"], own_profile or profile)


# -- reading stored events (aggregates and reports count them) ---------------------------------------------
def events_between(
    tx: StoreTx, account: str, metric_ids: list[str], start: dt.datetime, end: dt.datetime
) -> list[Record]:
    """The events of these metrics that happened in [start, end), in the order they were stored: read from
    the store's range index on the events' `metric_id` and `datetime` filter fields (the spec's, see
    `_plan.build_plan`), so a month costs the month's events, not the metrics' history; a scan when the
    spec gives the store no such index."""
    keys = [k for m in metric_ids if (k := key_text(m)) is not None]
    found = tx.between(account, "event", ("metric_id", keys), "datetime", (start.timestamp(), end.timestamp()))
    if found is None:
        found = tx.scan(account, "event")
    # The index's candidates include records it cannot place (of any metric): each is checked here.
    wanted = set(metric_ids)
    inside = [
        e
        for e in found
        if event_related_id(e, "metric") in wanted and (moment := event_moment(e)) is not None and start <= moment < end
    ]
    return sorted(inside, key=lambda e: int(e.get("seq") or 0))


def event_moment(event: Record) -> dt.datetime | None:
    """When a stored event happened (its `datetime`, else its `timestamp`)."""
    attrs = event.get("attributes") or {}
    text = attrs.get("datetime")
    if isinstance(text, str) and text:
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    stamp = attrs.get("timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        return dt.datetime.fromtimestamp(stamp, dt.UTC)
    return None


def event_value(event: Record) -> float:
    """The event's value: its `value`, else the `$value` property (0 when it has none)."""
    attrs = event.get("attributes") or {}
    value = attrs.get("value")
    if value is None:
        value = (attrs.get("event_properties") or {}).get("$value")
    try:
        return float(value) if value is not None and not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        return 0.0


def event_related_id(event: Record, name: str) -> str | None:
    """The id of the event's `metric` or `profile`."""
    data = ((event.get("relationships") or {}).get(name) or {}).get("data") or []
    return str(data[0]["id"]) if data else None


def event_property(event: Record, key: str) -> Any:
    """A property of the event (`$message`, `URL`, ...); `$value_currency` also from the event's currency."""
    attrs = event.get("attributes") or {}
    props = attrs.get("event_properties") or {}
    if key in props:
        return props[key]
    if key == "$value_currency":
        return attrs.get("value_currency")
    return None
