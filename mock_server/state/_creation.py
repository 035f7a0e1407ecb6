"""A memory table's records in creation order (`seq`, then id): the order of a page without `sort`.

New records take the next `seq`, so the index is two arrays appended to: the seqs (`array('q')`, 8 bytes each)
and the ids (the very strings the table is keyed by). That costs 16 bytes a record where a sorted list of
`(rank, value, seq, id)` tuples costs ~100, and an append where it costs a bisect and an insert in Python, so a
table keeps it from its first record: the first page of a large account reads no record to build it. A removed
record leaves a hole (None) that a later write of the same record fills (an update keeps its `seq`); holes are
squeezed out once they are half the index. A record given an older `seq` than the newest (seed data with
`seq`s) is inserted in its place.
"""

from __future__ import annotations

import array
import bisect
from collections.abc import Iterator

__all__ = ["CreationOrder"]

_SQUEEZE_FROM = 1024  # holes tolerated whatever the size (squeezing costs a copy of the index)


class CreationOrder:
    __slots__ = ("_holes", "_ids", "_moves", "_seqs")

    def __init__(self) -> None:
        self._seqs = array.array("q")
        self._ids: list[str | None] = []  # None: a hole
        self._holes = 0
        self._moves = 0  # how often positions moved (an insert, a squeeze): a walk in progress finds its place again

    def __len__(self) -> int:
        return len(self._ids) - self._holes

    def add(self, seq: int, rid: str) -> None:
        seqs, ids = self._seqs, self._ids
        if not seqs or seq > seqs[-1]:
            seqs.append(seq)
            ids.append(rid)
            return
        start, end = bisect.bisect_left(seqs, seq), bisect.bisect_right(seqs, seq)
        if end - start == 1 and ids[start] is None:  # its own hole (an update: removed, then written again)
            ids[start] = rid
            self._holes -= 1
            return
        at = start
        while at < end and ((held := ids[at]) is None or held < rid):  # equal seqs: by id, as tuples sort
            at += 1
        seqs.insert(at, seq)
        ids.insert(at, rid)
        self._moves += 1

    def remove(self, seq: int, rid: str) -> None:
        seqs, ids = self._seqs, self._ids
        for at in range(bisect.bisect_left(seqs, seq), bisect.bisect_right(seqs, seq)):
            if ids[at] == rid:
                ids[at] = None
                self._holes += 1
                break
        if self._holes >= _SQUEEZE_FROM and self._holes * 2 >= len(ids):
            kept = [at for at, held in enumerate(ids) if held is not None]
            self._seqs = array.array("q", (seqs[at] for at in kept))
            self._ids = [ids[at] for at in kept]
            self._holes = 0
            self._moves += 1

    def walk(self, *, descending: bool, after: int | None = None) -> Iterator[tuple[int, str]]:
        """(seq, id) in creation order (newest first when `descending`), strictly after the seq `after` in that
        direction. Writes while walking are seen as a sorted list shows them (moved positions are found again)."""
        moves = self._moves
        if descending:
            at = len(self._seqs) if after is None else bisect.bisect_left(self._seqs, after)
            while at > 0:
                at -= 1
                seq, rid = self._seqs[at], self._ids[at]
                if rid is not None:
                    yield seq, rid
                    if self._moves != moves:  # positions moved: find the next one by its seq
                        moves, at = self._moves, bisect.bisect_left(self._seqs, seq)
            return
        at = 0 if after is None else bisect.bisect_right(self._seqs, after)
        while at < len(self._seqs):
            seq, rid = self._seqs[at], self._ids[at]
            at += 1
            if rid is not None:
                yield seq, rid
                if self._moves != moves:
                    moves, at = self._moves, bisect.bisect_right(self._seqs, seq)
