"""Typed views of the stateful layer's data: a request's resource document, a reference, an outcome.

Stored resources stay plain JSON dicts (`Record`, see `_store.py`) so both stores can keep them as they are;
what a request *sends* is parsed once into `ResourceInput`, and what a backend *answers* is an `Outcome`
that the renderer turns into a JSON:API document.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from ._errors import invalid
from ._store import Record

__all__ = ["Outcome", "Record", "Ref", "ResourceInput", "merge", "now", "ref", "refs_of"]

Ref = dict[str, str]  # {"type": ..., "id": ...}


def now() -> str:
    """The current UTC time as `datetime.now(UTC).isoformat(timespec="microseconds")` writes it, the date and
    time of day formatted once per second (a bulk import stamps 10,000 records per request)."""
    global _SECOND
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)  # (datetime.now's clock, also floored)
    head = _SECOND
    if head[0] != second:
        head = _SECOND = (second, dt.datetime.fromtimestamp(second, dt.UTC).isoformat(timespec="seconds")[:-6])
    return f"{head[1]}.{micro:06d}+00:00"


_SECOND: tuple[int, str] = (-1, "")  # (a Unix second, its date and time of day as text): the last one `now` wrote


def ref(record: Record) -> Ref:
    return {"type": record["type"], "id": record["id"]}


def refs_of(record: Record, relationship: str) -> list[Ref]:
    """The references a stored record holds under `relationship` (none when it holds none)."""
    rel = (record.get("relationships") or {}).get(relationship) or {}
    return list(rel.get("data") or [])


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new` merged into `old`, nested objects member by member (how Klaviyo's PATCH treats attributes)."""
    out = dict(old)
    for key, value in new.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@dataclass
class ResourceInput:
    """The `data` object of a JSON:API request document."""

    type: str
    id: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    relationships: dict[str, dict[str, Any]] = field(default_factory=dict)  # stored shape: {"many", "data"}

    @classmethod
    def from_data(cls, data: dict[str, Any], default_type: str) -> ResourceInput:
        relationships: dict[str, dict[str, Any]] = {}
        for name, rel in (data.get("relationships") or {}).items():
            value = rel.get("data") if isinstance(rel, dict) else None
            if isinstance(value, list):
                items = [
                    {"type": str(v["type"]), "id": str(v["id"])} for v in value if isinstance(v, dict) and "id" in v
                ]
                relationships[name] = {"many": True, "data": items}
            elif isinstance(value, dict) and "id" in value:
                relationships[name] = {"many": False, "data": [{"type": str(value["type"]), "id": str(value["id"])}]}
        rid = data.get("id")
        return cls(
            type=str(data.get("type") or default_type),
            id=str(rid) if rid not in (None, "") else None,
            attributes=dict(data.get("attributes") or {}),
            relationships=relationships,
        )

    @classmethod
    def from_body(cls, body: Any, default_type: str) -> ResourceInput:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise invalid("The request body must be a JSON:API document with `data`.")
        return cls.from_data(data, default_type)

    def related_ids(self) -> dict[str, str]:
        """The id of each to-one relationship (what ids built from relationships are made of)."""
        return {
            name: rel["data"][0]["id"] for name, rel in self.relationships.items() if rel["data"] and not rel["many"]
        }

    def record(self, rid: str) -> Record:
        return {
            "type": self.type,
            "id": rid,
            "attributes": dict(self.attributes),
            # (`joined`, when a seed's list carries when each member joined, is kept beside `data`)
            "relationships": {k: {**v, "data": list(v["data"])} for k, v in self.relationships.items()},
        }


@dataclass
class Outcome:
    """What a backend did, for the renderer: the status and the resources (or references) to answer with.

    `links` says which `links.self` the document gets: "resource" (the resource's own URL, for creates),
    "request" (the request URL), "path" (the request path without its query), "page" (with next/prev).
    """

    status: int
    records: list[Record] | None = None  # None: the answer has no body
    many: bool = False
    refs: list[Ref] | None = None  # relationship endpoints answer with references
    links: str = "request"
    next_cursor: str | None = None
    prev_cursor: str | None = None
