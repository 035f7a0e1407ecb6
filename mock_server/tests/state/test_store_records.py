"""The memory store's record encoding (`_records`): every record decodes to exactly what was stored."""

from __future__ import annotations

import marshal
from typing import Any

import pytest

from mock_server.state._records import TRAIN_AT, RecordCodec

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
RECORDS: list[dict[str, Any]] = [
    EVENT,
    {"type": "profile", "id": "p1", "attributes": {}, "relationships": {}, "seq": 1},
    {"id": "p2", "type": "profile", "seq": 2, "attributes": {"n": 1, "f": 1.0, "b": False, "s": "", "u": "é\x00"}},
    {"type": "list", "id": "l1", "seq": 3, "attributes": {"keys": {"": 1, "id": "not-the-record's"}}},
    {"type": "x", "id": "t", "attributes": {"pair": (1, "a", [2, (3,)]), "empty": ()}},  # kept as marshal keeps it
]


def _same(left: Any, right: Any) -> bool:
    """Equal, with the same types and key order all the way down (`1 == 1.0 == True` is not enough)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(v, right[k]) for k, v in left.items())
    if isinstance(left, list | tuple):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _trained() -> RecordCodec:
    codec = RecordCodec()
    blobs: dict[str, bytes] = {}
    for i in range(TRAIN_AT):
        rid = f"01G3SYKJTQZ9CZ5JKZDC{i:06d}"
        blobs[rid] = codec.encode(rid, {**EVENT, "id": rid, "seq": i, "attributes": {**EVENT["attributes"], "n": i}})
        assert codec.wants_training(len(blobs)) == (i == TRAIN_AT - 1)
    codec.train(blobs)
    assert codec.trained
    for rid, blob in blobs.items():  # what was stored before the dictionary reads back the same after it
        assert codec.decode(rid, blob)["attributes"]["n"] == int(rid[-6:])
    return codec


@pytest.mark.parametrize("trained", [False, True])
@pytest.mark.parametrize("record", RECORDS)
def test_a_record_decodes_to_exactly_what_was_stored(record: dict[str, Any], trained: bool) -> None:
    codec = _trained() if trained else RecordCodec()
    before = marshal.loads(marshal.dumps(record))
    assert _same(codec.decode(record["id"], codec.encode(record["id"], record)), record)
    assert _same(record, before)  # encoding leaves the stored record as it was (its id in its place)


def test_a_trained_table_keeps_a_record_in_a_fraction_of_its_marshal_bytes() -> None:
    codec, plain = _trained(), RecordCodec()
    record = {**EVENT, "id": "01G3SYKJTQZ9CZ5JKZDCXXXXXX"}
    assert len(codec.encode(record["id"], record)) * 3 < len(plain.encode(record["id"], record))


def test_the_decoded_id_is_the_stored_key_and_each_read_is_a_fresh_copy() -> None:
    codec = _trained()
    rid = "".join(["01G3SYKJTQZ9CZ5JKZDCEDKN2R"])  # a string object of its own
    blob = codec.encode(rid, EVENT)
    first, second = codec.decode(rid, blob), codec.decode(rid, blob)
    assert first["id"] is rid
    first["attributes"]["event_properties"]["Items"].append("changed")
    assert _same(second, EVENT)


def test_a_record_kept_under_another_key_keeps_its_own_id() -> None:
    codec = RecordCodec()
    assert _same(codec.decode("other", codec.encode("other", EVENT)), EVENT)
    no_id = {"type": "x", "seq": 1}
    assert _same(codec.decode("k", codec.encode("k", no_id)), no_id)


def test_records_too_few_to_learn_from_stay_plain_and_training_is_tried_again_later() -> None:
    codec = RecordCodec()
    blobs = {"a": codec.encode("a", {"type": "x", "id": "a"})}
    codec.train(blobs)  # one tiny sample: zstd cannot make a dictionary of it
    assert not codec.trained
    assert not codec.wants_training(TRAIN_AT)
    assert codec.wants_training(4 * TRAIN_AT)
    assert codec.decode("a", blobs["a"]) == {"type": "x", "id": "a"}


def test_a_memory_table_past_its_training_reads_back_every_record_exactly() -> None:
    from mock_server.state import MemoryStore

    store = MemoryStore()
    written: dict[str, dict[str, Any]] = {}
    with store.transaction() as tx:
        for i in range(TRAIN_AT + 500):  # the dictionary is trained at TRAIN_AT: records on both sides of it
            rid = f"01G3SYKJTQZ9CZ5JKZD{i:07d}"
            record = {**EVENT, "id": rid, "attributes": {**EVENT["attributes"], "n": i, "odd": [i] * (i % 3)}}
            if i % 7 == 0:
                record["relationships"] = {}  # a shape unlike the others
            tx.put("acct", record)
            written[rid] = record
        for rid, record in written.items():
            assert _same(tx.get("acct", "event", rid), record)
        changed = {**written[next(iter(written))], "attributes": {"n": -1}}  # updated after the training
        tx.put("acct", changed)
        written[changed["id"]] = changed
        assert tx.delete("acct", "event", "01G3SYKJTQZ9CZ5JKZD0000001")
        del written["01G3SYKJTQZ9CZ5JKZD0000001"]
        scanned = tx.scan("acct", "event")
    assert [r["id"] for r in scanned] == list(written)
    assert all(_same(r, written[r["id"]]) for r in scanned)
