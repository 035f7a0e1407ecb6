"""How the memory store keeps the records of one table: `marshal` bytes, compressed with a dictionary of the table.

The records of a type look alike: the same keys (`attributes`, `event_properties`, `type`/`id` of every
reference...) and many of the same values. Once a table holds `TRAIN_AT` records, a zstd dictionary is trained
on them and every record is compressed with it: a demo event takes ~90 bytes instead of ~465, a profile ~120
instead of ~950, and reading one back (decompress + `marshal.loads`, in C) costs about what `marshal.loads`
alone cost. The record's own `id` (the key it is stored under) is left out and put back on reading, as the
very string the table holds (one string per id, however many indexes name it). Decoding builds fresh objects
(a caller may change what it got). Records are JSON values, which marshal keeps exactly.

A codec is used under the store's lock (zstd's compressor and decompressor objects are not thread-safe).
"""

from __future__ import annotations

import json
import marshal
from typing import Any, cast

import zstandard

__all__ = ["TRAIN_AT", "RecordCodec", "sql_record"]

Record = dict[str, Any]
TRAIN_AT = 1_000  # records a table holds when its dictionary is trained (fewer: kept as plain marshal)
_DICTIONARY_BYTES = 16 * 1024
_SAMPLES = 4_000  # at most this many records trained on
_LEVEL = 3


class RecordCodec:
    """Encodes and decodes the records of one table (plain marshal until `train` makes its dictionary)."""

    __slots__ = ("_compress", "_decompress", "_train_at")

    def __init__(self) -> None:
        self._compress: Any = None  # bytes -> bytes, once trained
        self._decompress: Any = None
        self._train_at = TRAIN_AT

    @property
    def trained(self) -> bool:
        return self._compress is not None

    def wants_training(self, records: int) -> bool:
        return self._compress is None and records >= self._train_at

    def encode(self, rid: str, record: Record) -> bytes:
        """`record`, stored under `rid`, as bytes."""
        held = record.get("id")
        if held == rid:
            record["id"] = None  # the key: given back by `decode` (set aside in place: no copy of the record)
            try:
                blob = marshal.dumps(record)
            finally:
                record["id"] = held
        else:
            blob = marshal.dumps(record)
        if self._compress is None:
            return blob
        # A copy of the exact size: zstd shrinks its worst-case buffer in place, and the freed tail of each
        # (too small for the next buffer) would stay behind as a hole of ~400 bytes per record.
        return bytes(memoryview(self._compress(blob)))

    def decode(self, rid: str, blob: bytes) -> Record:
        """A fresh copy of the record `encode(rid, ...)` made, its `id` the string `rid` itself."""
        record = cast(Record, marshal.loads(blob if self._decompress is None else self._decompress(blob)))
        if "id" in record and record["id"] is None:
            record["id"] = rid
        return record

    def train(self, blobs: dict[str, bytes]) -> None:
        """Make the table's dictionary from its records (plain marshal so far) and compress them all with it.
        Records unlike any other (too few to learn from) leave the table as it is, to try again at 4x the size."""
        step = max(1, len(blobs) // _SAMPLES)
        samples: list[bytes | bytearray | memoryview] = [*list(blobs.values())[::step][:_SAMPLES]]
        try:
            dictionary = zstandard.train_dictionary(_DICTIONARY_BYTES, samples, level=_LEVEL)
        except zstandard.ZstdError:
            self._train_at *= 4
            return
        compressor = zstandard.ZstdCompressor(
            level=_LEVEL, dict_data=dictionary, write_checksum=False, write_content_size=True, write_dict_id=False
        )
        self._compress = compressor.compress
        self._decompress = zstandard.ZstdDecompressor(dict_data=dictionary).decompress
        for rid, blob in blobs.items():
            blobs[rid] = bytes(memoryview(self._compress(blob)))  # (exact-size copies: see `encode`)


def sql_record(body: str, seq: int) -> dict[str, Any]:
    """A record as the SQL stores keep it: its JSON body, and its `seq` in a column of its own."""
    record: dict[str, Any] = json.loads(body)
    record["seq"] = seq
    return record
