"""The memory store's record encoding (`_records`): every record decodes to exactly what was stored."""

from __future__ import annotations

import marshal
from typing import Any

import pytest

from mock_server.state import _records
from mock_server.state._records import decode, encode

EVENT: dict[str, Any] = {
    "type": "event",
    "id": "01G3SYKJTQZ9CZ5JKZDCEDKN2R",
    "attributes": {
        "timestamp": 1785505309,
        "datetime": "2026-07-31T13:41:49+00:00",
        "event_properties": {"Items": ["SKU-1", "SKU-2"], "$value": 12.5, "nested": {"a": [1, {"b": None}]}},
        "value": None,
        "flag": True,
        "empty": {},
        "list_of_lists": [[1, 2], [], [{"x": "y"}]],
    },
    "relationships": {"metric": {"many": False, "data": [{"type": "metric", "id": "b5wnHY"}]}},
    "seq": 181,
}


def _same(left: Any, right: Any) -> bool:
    """Equal, with the same types and key order all the way down (`1 == 1.0 == True` is not enough)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(v, right[k]) for k, v in left.items())
    if isinstance(left, list | tuple):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


@pytest.mark.parametrize(
    "record",
    [
        EVENT,
        {"type": "profile", "id": "p1", "attributes": {}, "relationships": {}, "seq": 1},
        {"id": "p2", "type": "profile", "seq": 2, "attributes": {"n": 1, "f": 1.0, "b": False, "s": "", "u": "é\x00"}},
        {"type": "list", "id": "l1", "seq": 3, "attributes": {"keys": {"": 1, "id": "not-the-record's"}}},
    ],
)
def test_a_record_decodes_to_exactly_what_was_stored(record: dict[str, Any]) -> None:
    blob = encode(record["id"], record)
    assert _same(decode(record["id"], blob), record)
    assert len(blob) < len(marshal.dumps(record))  # the keys are not stored again with every record


def test_the_decoded_id_is_the_stored_key_and_each_read_is_a_fresh_copy() -> None:
    rid = "".join(["01G3SYKJTQZ9CZ5JKZDCEDKN2R"])  # a string object of its own
    blob = encode(rid, EVENT)
    first, second = decode(rid, blob), decode(rid, blob)
    assert first["id"] is rid
    first["attributes"]["event_properties"]["Items"].append("changed")
    assert _same(second, EVENT)


def test_a_record_kept_under_another_key_keeps_its_own_id() -> None:
    assert _same(decode("other", encode("other", EVENT)), EVENT)
    no_id = {"type": "x", "seq": 1}
    assert _same(decode("k", encode("k", no_id)), no_id)


def test_tuples_stay_tuples() -> None:
    record = {"type": "x", "id": "t", "attributes": {"pair": (1, "a", [2, (3,)]), "empty": ()}}
    assert _same(decode("t", encode("t", record)), record)


def test_objects_past_the_shape_limit_are_kept_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_records, "MAX_SHAPES", len(_records._shapes))  # no new shape may be numbered
    record = {"type": "x", "id": "w", "attributes": {"never-seen-key-1": {"never-seen-key-2": [1, {"k": (2,)}]}}}
    assert _same(decode("w", encode("w", record)), record)
