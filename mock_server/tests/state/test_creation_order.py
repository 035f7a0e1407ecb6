"""The memory store's creation-order index (`_creation.CreationOrder`) walks exactly what a sorted list of
(seq, id) walks: random appends, updates, removals (holes, squeezes), older and repeated seqs, both ways and
from any cursor."""

from __future__ import annotations

import random

import pytest

from mock_server.state._creation import CreationOrder


def _expected(held: set[tuple[int, str]], *, descending: bool, after: int | None) -> list[tuple[int, str]]:
    entries = sorted(held, reverse=descending)
    if after is None:
        return entries
    return [e for e in entries if (e[0] < after if descending else e[0] > after)]


@pytest.mark.parametrize("seed", range(6))
def test_walks_match_a_sorted_list(seed: int) -> None:
    rng = random.Random(seed)
    index, held = CreationOrder(), set[tuple[int, str]]()
    by_id: dict[str, int] = {}
    newest = 0
    for step in range(6000):
        roll = rng.random()
        if roll < 0.45 or not by_id:  # a new record: the next seq (now and then an older or a repeated one)
            rid = f"r{rng.randrange(10**6):06d}"
            if rid in by_id:
                continue
            if rng.random() < 0.9:
                newest += 1
                seq = newest
            else:
                seq = rng.randrange(max(1, newest + 1))
            index.add(seq, rid)
            held.add((seq, rid))
            by_id[rid] = seq
        elif roll < 0.7:  # an update: removed and written again with its seq
            rid = rng.choice(list(by_id))
            index.remove(by_id[rid], rid)
            index.add(by_id[rid], rid)
        else:  # a removal (many: holes get squeezed out)
            rid = rng.choice(list(by_id))
            index.remove(by_id[rid], rid)
            held.discard((by_id.pop(rid), rid))
        if step % 500 == 0 or step == 5999:
            assert len(index) == len(held)
            for descending in (False, True):
                for after in (None, 0, rng.randrange(newest + 2), newest, newest + 1):
                    assert list(index.walk(descending=descending, after=after)) == _expected(
                        held, descending=descending, after=after
                    ), (step, descending, after)


@pytest.mark.parametrize("descending", [False, True])
def test_a_walk_follows_writes_made_while_it_runs(descending: bool) -> None:
    """Removals that squeeze the index, and inserts of older seqs, while a walk is half way: it goes on from the
    seq it reached, handing out each remaining record once."""
    index = CreationOrder()
    for seq in range(1, 5001):
        index.add(seq * 2, f"r{seq:05d}")
    seen: list[int] = []
    for seq, _ in index.walk(descending=descending):
        seen.append(seq)
        if len(seen) == 100:
            for gone in range(2, 10001, 4):  # half of them: a squeeze
                index.remove(gone, f"r{gone // 2:05d}")
            index.add(1, "older")  # before every other: shifts every position
    kept = [seq for seq in range(2, 10001, 2) if seq % 4 != 2]
    if descending:
        assert seen[:100] == list(range(10000, 9800, -2))
        assert seen[100:] == [seq for seq in reversed(kept) if seq < seen[99]] + [1]
    else:
        assert seen[:100] == list(range(2, 202, 2))
        assert seen[100:] == [seq for seq in kept if seq > seen[99]]
    assert len(set(seen)) == len(seen)
