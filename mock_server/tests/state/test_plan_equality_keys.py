"""`IndexPlan.equality_keys` answers an absent field of a record without relationships from a cache by (type,
path): the answers are the ones a fresh plan (nothing cached) gives, for every indexed field of every type, and a
record of the same type that holds relationships is still keyed by its own."""

from __future__ import annotations

from typing import Any

from mock_server.state import ResourceIndex
from mock_server.state._plan import build_plan


def _bare(rtype: str, rid: str) -> dict[str, Any]:
    return {"type": rtype, "id": rid, "attributes": {}, "relationships": {}}


def test_absent_fields_are_keyed_as_a_fresh_plan_keys_them(index: ResourceIndex) -> None:
    plan = build_plan(index)
    asked = 0
    for rtype, fields in sorted(plan.fields.items()):
        for path in sorted(fields):
            for rid in ("A1", "B2"):  # worked out, then from the cache (an id-derived key follows the record)
                fresh = build_plan(index).equality_keys(_bare(rtype, rid), path)
                assert plan.equality_keys(_bare(rtype, rid), path) == fresh, (rtype, path, rid)
            asked += 1
    assert asked > 0


def test_a_profile_without_a_phone_has_no_phone_key_and_keeps_its_email_key(index: ResourceIndex) -> None:
    plan = build_plan(index)
    for _ in range(2):  # computed, then cached
        record = {"type": "profile", "id": "P1", "attributes": {"email": "a@example.com"}, "relationships": {}}
        assert plan.equality_keys(record, "phone_number") == []
        assert plan.equality_keys(record, "email") == ["sa@example.com"]


def test_relationships_are_read_from_the_record_after_a_bare_one_was_cached(index: ResourceIndex) -> None:
    plan = build_plan(index)
    # the metric an event points at: a relationship field of the spec's events
    path = next((p for p in sorted(plan.fields.get("event", ())) if p.startswith("metric")), None)
    assert path is not None
    bare = plan.equality_keys(_bare("event", "E1"), path)
    related = {"metric": {"many": False, "data": [{"type": "metric", "id": "M1"}]}}
    held = plan.equality_keys({**_bare("event", "E2"), "relationships": related}, path)
    assert bare is None  # nothing of its own: found through other records (always a candidate)
    assert held == build_plan(index).equality_keys({**_bare("event", "E2"), "relationships": related}, path)
    assert held is not None and any("M1" in key for key in held)
