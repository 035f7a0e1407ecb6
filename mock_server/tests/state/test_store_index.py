"""Indexed queries answer exactly what a full scan answers: random accounts, random filters and sorts, every
page both ways, on every backend (the index only narrows and orders; `_filters.evaluate` decides)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from mock_server.state import OpInfo, ResourceIndex, Store
from mock_server.state._collections import ListSource, Page, RecordSource, StoreSource, run_query
from mock_server.state._fields import FieldReader
from mock_server.state._plan import build_plan

from .conftest import STORE_KINDS

ACCOUNT = "api_key:pk_index"
EMAILS = [f"p{i}@example.com" for i in range(12)] + ["Z@example.com", "ä@example.com", "a@example.com"]
STAMPS = ["2024-01-01T00:00:00+00:00", "2024-06-01T12:00:00+00:00", "2025-01-01T00:00:00+00:00", 17, 3.5, True]


def _profile(rng: random.Random, i: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if rng.random() < 0.8:
        attrs["email"] = rng.choice(EMAILS)  # duplicates on purpose: the index is not a uniqueness check
    if rng.random() < 0.5:
        attrs["phone_number"] = rng.choice(["+15005550006", "+15005550007", 15005550006])
    if rng.random() < 0.5:
        attrs["external_id"] = rng.choice(["x1", "x2", 1, 1.0, ["x1", "x3"], None])
    for name in ("created", "updated"):
        if rng.random() < 0.9:
            attrs[name] = rng.choice(STAMPS)
    if rng.random() < 0.3:
        reason = rng.choice(["HARD_BOUNCE", "USER_SUPPRESSED"])
        attrs["subscriptions"] = {
            "email": {"marketing": {"suppression": [{"reason": reason, "timestamp": rng.choice(STAMPS)}]}}
        }
    return {"type": "profile", "id": f"P{i:03d}", "attributes": attrs, "relationships": {}}


def _event(rng: random.Random, i: int, profiles: int) -> dict[str, Any]:
    rels: dict[str, Any] = {}
    if rng.random() < 0.9:
        rels["metric"] = {"many": False, "data": [{"type": "metric", "id": rng.choice(["M1", "M2", "M3"])}]}
    if rng.random() < 0.9:
        rels["profile"] = {"many": False, "data": [{"type": "profile", "id": f"P{rng.randrange(profiles):03d}"}]}
    # Times a range index must place (other offsets, a naive one, epoch seconds) or cannot (always candidates).
    stamp = rng.choice([*STAMPS[:3], "2024-06-01T14:00:00+02:00", "2024-06-01T12:00:00", 1717243200, "soon", None])
    attrs = {"datetime": stamp, "timestamp": rng.randrange(1_700_000_000, 1_700_000_100)}
    return {"type": "event", "id": f"E{i:03d}", "attributes": attrs, "relationships": rels}


def _filters(rng: random.Random, rtype: str) -> list[str | None]:
    if rtype == "profile":
        emails = ",".join(f"'{e}'" for e in rng.sample(EMAILS, 3))
        pool = [
            f"equals(email,'{rng.choice(EMAILS)}')",
            f"any(email,[{emails}])",
            f"equals(email,[{emails}])",
            "equals(phone_number,'+15005550006')",
            "equals(external_id,'x1')",
            "equals(external_id,1)",
            f"any(id,['P{rng.randrange(40):03d}','P{rng.randrange(40):03d}'])",
            f"equals(id,'P{rng.randrange(40):03d}')",
            "greater-than(created,2024-03-01T00:00:00Z)",
            f"equals(email,'{rng.choice(EMAILS)}'),greater-than(updated,2024-03-01T00:00:00Z)",
            "equals(subscriptions.email.marketing.suppression.reason,'HARD_BOUNCE')",
            "equals(email,'nobody@example.com')",
        ]
    else:
        pool = [
            f"equals(metric_id,'{rng.choice(['M1', 'M2', 'M3', 'M9'])}')",
            f"equals(profile_id,'P{rng.randrange(40):03d}')",
            "equals(metric_id,'M1'),greater-or-equal(datetime,2024-06-01T00:00:00Z)",
            "equals(metric_id,'M2'),greater-than(datetime,2024-06-01T12:00:00Z),less-or-equal(datetime,2025-01-01)",
            f"equals(profile_id,'P{rng.randrange(40):03d}'),less-than(datetime,2024-06-01T12:00:00Z)",
            "equals(metric_id,'M3'),greater-or-equal(timestamp,1700000050),less-than(timestamp,1700000090)",
            "has(profile)",
            "less-than(timestamp,1700000050)",
        ]
    return [None, *rng.sample(pool, 4)]


def _pages(run: Callable[[dict[str, str]], Page], query: dict[str, str]) -> tuple[list[list[str]], list[list[str]]]:
    """Every page forwards from the first, then backwards from the last (ids)."""
    forward, backward = [], []
    page = run(query)
    forward.append([r["id"] for r in page.records])
    while page.next_cursor:
        page = run({**query, "page[cursor]": page.next_cursor})
        forward.append([r["id"] for r in page.records])
    while page.prev_cursor:
        page = run({**query, "page[cursor]": page.prev_cursor})
        backward.append([r["id"] for r in page.records])
    return forward, backward


def _runner(op: OpInfo, source: Callable[[], RecordSource], reader: FieldReader) -> Callable[[dict[str, str]], Page]:
    return lambda query: run_query(op, source(), query, lookup=reader)


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_indexed_queries_match_a_full_scan(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    store = open_any_store(kind)
    store.configure(build_plan(index))
    found = 0
    for seed in range(6):
        rng = random.Random(seed)
        store.reset()
        with store.transaction() as tx:
            profiles = [_profile(rng, i) for i in range(40)]
            tx.put_many(ACCOUNT, profiles[:20])
            for record in profiles[20:]:
                tx.put(ACCOUNT, record)
            for record in rng.sample(profiles, 8):  # updates move records in the indexes
                record["attributes"]["email"] = rng.choice(EMAILS)
                tx.put(ACCOUNT, record)
            for record in rng.sample(profiles, 3):
                tx.delete(ACCOUNT, "profile", record["id"])
            events = [_event(rng, i, 40) for i in range(60)]
            for record in events:
                tx.put(ACCOUNT, record)
            for record in rng.sample(events, 10):  # updates and deletes move events in the range indexes
                tx.put(ACCOUNT, _event(rng, int(record["id"][1:]), 40))
            for record in rng.sample(events, 4):
                tx.delete(ACCOUNT, "event", record["id"])
        for rtype in ("profile", "event"):
            op = index.ops[index.types[rtype].list_op or ""]
            for text in _filters(rng, rtype):
                for sort in [None, *rng.sample(sorted(op.sorts), 2)]:
                    query = {"page[size]": str(rng.choice([1, 3, 7, 50]))}
                    if text:
                        query["filter"] = text
                    if sort:
                        query["sort"] = sort
                    with store.transaction(write=False) as tx:
                        reader = FieldReader(index, tx, ACCOUNT)
                        everything = tx.scan(ACCOUNT, rtype)

                        indexed = _runner(op, lambda tx=tx, t=rtype: StoreSource(tx, ACCOUNT, t), reader)
                        scanned = _runner(op, lambda rows=everything: ListSource(list(rows)), reader)
                        pages = _pages(indexed, query)
                        assert pages == _pages(scanned, query), (kind, seed, query)
                        found += sum(len(p) for p in pages[0])
                        whole = run_query(op, StoreSource(tx, ACCOUNT, rtype), query, lookup=reader, paginate=False)
                        assert [r["id"] for r in whole.records] == [
                            r["id"] for r in run_query(op, everything, query, lookup=reader, paginate=False).records
                        ]
    assert found > 1000  # the queries do find records (an always-empty answer would match too)


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_find_and_referencing_use_the_indexes(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    store = open_any_store(kind)
    store.configure(build_plan(index))
    with store.transaction() as tx:
        tx.put(ACCOUNT, {"type": "profile", "id": "A", "attributes": {"email": "a@example.com"}, "relationships": {}})
        tx.put(ACCOUNT, {"type": "profile", "id": "B", "attributes": {"email": "b@example.com"}, "relationships": {}})
        member = {"many": True, "data": [{"type": "profile", "id": "A"}, {"type": "profile", "id": "B"}]}
        tx.put(
            ACCOUNT, {"type": "list", "id": "L1", "attributes": {"name": "One"}, "relationships": {"profiles": member}}
        )
        tx.put(ACCOUNT, {"type": "list", "id": "L2", "attributes": {"name": "Two"}, "relationships": {}})
    with store.transaction() as tx:
        found = tx.find(ACCOUNT, "profile", "email", "b@example.com")
        assert found is not None and found["id"] == "B"
        assert tx.find(ACCOUNT, "profile", "email", "c@example.com") is None
        assert [r["id"] for r in tx.referencing(ACCOUNT, "list", "profile", "A")] == ["L1"]
        tx.put(ACCOUNT, {"type": "profile", "id": "B", "attributes": {"email": "c@example.com"}, "relationships": {}})
        tx.put(ACCOUNT, {"type": "list", "id": "L1", "attributes": {"name": "One"}, "relationships": {}})
    with store.transaction(write=False) as tx:
        assert tx.find(ACCOUNT, "profile", "email", "b@example.com") is None
        found = tx.find(ACCOUNT, "profile", "email", "c@example.com")
        assert found is not None and found["id"] == "B"
        assert tx.referencing(ACCOUNT, "list", "profile", "A") == []
        assert tx.find(ACCOUNT, "list", "name", "Two") is not None
