"""How the memory store keeps a record: `marshal` bytes of the record with its objects' keys taken out.

Most of a JSON record's bytes are its keys, the same in every record of a type (`attributes`, `relationships`,
`event_properties`, `type`/`id` of every reference...). A record is kept as nested tuples: an object becomes
`(shape, value, ...)` where `shape` numbers its key tuple in one registry per process, a list stays a list; the
record's own `id` (the key it is stored under) is left out and put back on reading, as the very string the table
holds (one string per id, however many indexes name it). A demo event takes ~300 bytes instead of ~450, a
profile ~430 instead of ~900. Decoding builds fresh objects (a caller may change what it got).

Only JSON values go in; a tuple (not a JSON value, but kept exactly as `marshal` kept it before) is tagged
`(-1, items...)`. Past `MAX_SHAPES` distinct key tuples (records with arbitrary keys: event properties), an
object is kept whole as a dict, which marshal stores with its keys.
"""

from __future__ import annotations

import marshal
import threading
from typing import Any, cast

__all__ = ["MAX_SHAPES", "decode", "encode"]

Record = dict[str, Any]
MAX_SHAPES = 1 << 16  # distinct key tuples numbered; past them an object is kept as a plain dict
_TUPLE = -1  # the tag of a tuple value
_NO_ID = None  # in place of the record's `id` when it is the key the record is stored under
_CONTAINERS = (dict, list, tuple)

# An object's shape: its keys and the types of its values (so a shape knows which members hold objects or
# lists to walk into; the others are copied as they are, in C). Numbered in one registry per process.
_shapes: list[tuple[tuple[str, ...], tuple[int, ...]]] = []  # number -> (keys, positions holding containers)
_shape_ids: dict[tuple[tuple[str, ...], tuple[type, ...]], tuple[int, tuple[int, ...]]] = {}
_lock = threading.Lock()


def _shape(keys: tuple[str, ...], kinds: tuple[type, ...]) -> tuple[int, tuple[int, ...]] | None:
    with _lock:  # a new shape (rare): numbered once, whichever thread sees it first
        found = _shape_ids.get((keys, kinds))
        if found is None and len(_shapes) < MAX_SHAPES:
            nested = tuple(i + 1 for i, kind in enumerate(kinds) if kind in _CONTAINERS)
            found = _shape_ids[(keys, kinds)] = (len(_shapes), nested)
            _shapes.append((keys, nested))
        return found


def _pack(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        keys, kinds = tuple(value), tuple(map(type, value.values()))
        found = _shape_ids.get((keys, kinds)) or _shape(keys, kinds)
        if found is None:
            return value  # past MAX_SHAPES: kept whole (no tuple inside: JSON)
        shape, nested = found
        if not nested:
            return (shape, *value.values())
        packed = [shape, *value.values()]
        for at in nested:
            packed[at] = _pack(packed[at])
        return tuple(packed)
    if kind is list:
        return [_pack(v) if type(v) in _CONTAINERS else v for v in value]
    if kind is tuple:
        return (_TUPLE, *[_pack(v) if type(v) in _CONTAINERS else v for v in value])
    return value


def _unpack(value: Any) -> Any:
    kind = type(value)
    if kind is tuple:
        head = value[0]
        if head == _TUPLE:
            return tuple(_unpack(v) if type(v) in _CONTAINERS else v for v in value[1:])
        keys, nested = _shapes[head]
        if not nested:
            return dict(zip(keys, value[1:], strict=True))
        values = list(value)
        for at in nested:
            values[at] = _unpack(values[at])
        return dict(zip(keys, values[1:], strict=True))
    if kind is list:
        return [_unpack(v) if type(v) in _CONTAINERS else v for v in value]
    return value  # a scalar, or an object kept whole (already a fresh copy)


def encode(rid: str, record: Record) -> bytes:
    """`record`, stored under `rid`, as bytes."""
    if record.get("id") == rid and type(record.get("id")) is str:
        record = dict(record)
        record["id"] = _NO_ID
        packed = _pack(record)
    else:  # (stored under another key: kept as it is)
        packed = (_TUPLE, _pack(record))
    return marshal.dumps(packed)


def decode(rid: str, blob: bytes) -> Record:
    """A fresh copy of the record `encode(rid, ...)` made, its `id` the string `rid` itself."""
    packed = marshal.loads(blob)
    if type(packed) is tuple and packed[0] == _TUPLE:
        return cast(Record, _unpack(packed[1]))
    record = cast(Record, _unpack(packed))
    record["id"] = rid
    return record
