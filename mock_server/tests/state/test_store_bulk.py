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

from mock_server.state import MemoryStore, ResourceIndex
from mock_server.state._collector import collector_paused
from mock_server.state._models import now
from mock_server.state._plan import build_plan
from mock_server.state._store import first_match

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
