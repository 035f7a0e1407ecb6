"""What keeps bulk writes and the first requests of a large memory account cheap: a type's identifiers
(`IndexPlan.lookups`: email, phone_number, external_id...) are indexed from its first record, so the first lookup
reads no record to build them (answers: those of a scan, before and after records change); and the collector is
paused while a bulk write runs."""

from __future__ import annotations

import datetime as dt
import gc
import random
from typing import Any

import pytest
from sortedcontainers import SortedList  # type: ignore[import-untyped]

from mock_server.state import MemoryStore, ResourceIndex
from mock_server.state._collector import collector_paused
from mock_server.state._models import now
from mock_server.state._plan import build_plan, sort_key
from mock_server.state._store import first_match, merge_into

ACCOUNT = "api_key:pk_identifiers"
EMAILS = ["a@example.com", "b@example.com", "c@example.com", "A@example.com", "é@example.com", ""]


def _profile(rng: random.Random, i: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if rng.random() < 0.8:
        attrs["email"] = rng.choice(EMAILS)  # duplicates on purpose: the index is not a uniqueness check
    if rng.random() < 0.5:
        attrs["phone_number"] = rng.choice(["+15005550006", "+15005550007", 15005550006, None])
    if rng.random() < 0.5:
        attrs["external_id"] = rng.choice(["x1", "x2", 1, 1.0, True, ["x1"], {"x": 1}])
    return {"type": "profile", "id": f"P{i:03d}", "attributes": attrs, "relationships": {}}


def test_identifiers_are_indexed_as_records_are_stored(index: ResourceIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(12)
    store = MemoryStore()
    plan = build_plan(index)
    assert {"email", "phone_number", "external_id"} <= plan.lookups["profile"]
    store.configure(plan)
    stored: dict[str, dict[str, Any]] = {}
    with store.transaction() as tx:
        for i in range(60):
            record = _profile(rng, i)
            stored[record["id"]] = tx.put(ACCOUNT, record)
    table = store.data[ACCOUNT]["profile"]

    def no_pass(*_: object) -> Any:
        raise AssertionError("an identifier lookup read every record to build its index")

    values = [*EMAILS, "nobody@example.com", "+15005550006", 15005550006, "x1", 1, True, "x2"]
    for round_ in range(3):
        with monkeypatch.context() as patched:
            patched.setattr(type(table.rows), "values", no_pass)
            with store.transaction(write=False) as tx:
                for attribute in ("email", "phone_number", "external_id"):
                    for value in values:
                        found = tx.find(ACCOUNT, "profile", attribute, value)
                        expected = first_match(stored.values(), attribute, value)
                        assert (found and found["id"]) == (expected and expected["id"]), (round_, attribute, value)
        with store.transaction() as tx:  # changes, removals and new records keep the indexes up to date
            for _ in range(20):
                rid = f"P{rng.randrange(80):03d}"
                if rng.random() < 0.3 and rid in stored:
                    assert tx.delete(ACCOUNT, "profile", rid)
                    del stored[rid]
                else:
                    record = _profile(rng, int(rid[1:]))
                    stored[rid] = tx.put(ACCOUNT, record)


def test_a_reconfigured_store_builds_its_identifier_indexes_again(index: ResourceIndex) -> None:
    store = MemoryStore()
    store.configure(build_plan(index))
    with store.transaction() as tx:
        tx.put(ACCOUNT, {"type": "profile", "id": "P1", "attributes": {"email": "a@example.com"}, "relationships": {}})
    store.configure(build_plan(index))  # indexes dropped: built again on first use
    with store.transaction(write=False) as tx:
        found = tx.find(ACCOUNT, "profile", "email", "a@example.com")
        assert found is not None and found["id"] == "P1"


def test_the_collector_is_paused_while_a_bulk_write_runs_and_back_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a nested bulk write leaves it to the outer one
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a failed write")
    assert gc.isenabled()


def test_now_writes_what_datetime_writes() -> None:
    """`now()` (a bulk job stamps every record) formats the time of day once per second: the same text as
    `datetime.now(UTC).isoformat(timespec="microseconds")`, between what that reads just before and after."""
    for _ in range(2_000):
        before = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        made = now()
        after = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        assert before <= made <= after
        assert dt.datetime.fromisoformat(made).isoformat(timespec="microseconds") == made


@pytest.mark.parametrize("seed", range(40))
def test_entries_merged_into_a_sorted_list_are_what_its_own_update_makes(seed: int) -> None:
    """`merge_into` (an order index takes a bulk job's entries in one pass) leaves a `SortedList` that holds
    what `update` would, keeping its invariants (`_check`) and positional index."""
    rng = random.Random(seed)
    size = rng.choice([0, 3, 200, 5_000, 30_000])
    entries = [(rng.randrange(4), rng.randrange(100), i, f"r{i}") for i in range(size)]
    ordered, expected = SortedList(entries), SortedList(entries)
    if rng.random() < 0.5:
        ordered._reset(expected._load if rng.random() < 0.5 else rng.choice([4, 16]))
    for batch in range(3):
        count = rng.choice([1, 31, 32, 500, 12_000])
        newest = rng.random() < 0.3  # all after every entry held (a bulk job's `updated`), or anywhere
        added = [
            (
                3 if newest else rng.randrange(4),
                10**6 + i if newest else rng.randrange(100),
                10**6 * (batch + 1) + i,
                "n",
            )
            for i in range(count)
        ]
        if len(ordered):
            assert ordered[len(ordered) // 2] == expected[len(expected) // 2]  # (a positional index in use)
        merge_into(ordered, list(added))
        expected.update(added)
        ordered._check()
        assert list(ordered) == list(expected)
        assert [ordered[i] for i in range(0, len(ordered), 997)] == [expected[i] for i in range(0, len(expected), 997)]


def test_an_order_index_settles_waiting_records_before_it_is_read_or_one_leaves(index: ResourceIndex) -> None:
    """Records written after an order index was built wait to be merged into it: every walk in that order, and
    an update of a record still waiting (its old place removed), answer as if each had been inserted at once."""
    store = MemoryStore()
    store.configure(build_plan(index))
    rng = random.Random(3)

    def profile(i: int) -> dict[str, Any]:
        return {"type": "profile", "id": f"P{i:05d}", "attributes": {"email": f"{rng.randrange(10**6)}@x.com"}}

    with store.transaction() as tx:
        for i in range(300):
            tx.put(ACCOUNT, profile(i))
        list(tx.walk(ACCOUNT, "profile", "email", descending=False, after=None))  # the index is built
        for i in range(300, 3_000):  # waiting
            tx.put(ACCOUNT, profile(i))
        moved = profile(1_000)
        moved["attributes"]["email"] = "0@first.com"
        tx.put(ACCOUNT, moved)  # an update of a waiting record
        walked = [r["id"] for _, r in tx.walk(ACCOUNT, "profile", "email", descending=False, after=None)]
        scanned = [r["id"] for r in sorted(tx.scan(ACCOUNT, "profile"), key=lambda r: sort_key(r, "email"))]
        assert walked == scanned and walked[0] == "P01000" and len(walked) == 3_000
        for i in range(3_000, 3_100):
            tx.put(ACCOUNT, profile(i))
        tx.delete(ACCOUNT, "profile", "P03050")  # a waiting record leaves
        backwards = [r["id"] for _, r in tx.walk(ACCOUNT, "profile", "email", descending=True, after=None)]
        scanned = [r["id"] for r in sorted(tx.scan(ACCOUNT, "profile"), key=lambda r: sort_key(r, "email"))]
        assert backwards == scanned[::-1] and "P03050" not in backwards
