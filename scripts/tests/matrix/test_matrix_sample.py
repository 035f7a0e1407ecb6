"""CI's end-to-end sample of the matrix: the oldest stable revision in the mirror, one 2024 revision, the pinned
revision and the newest beta, each through fetch -> validate -> generate -> mock start -> contract (default
profile). Every row must be green. mypy --strict runs on the pinned client in generate/test_full_client.py.

The full matrix (every revision, stable and beta) is `kdk spec matrix`, documented in docs/matrix.md; it takes
too long for CI."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kdk import mirror_revisions
from kdk.matrix import MatrixOptions, Revision, ci_sample, order_key, render, run_matrix
from kdk.spec import read_lock

pytestmark = [pytest.mark.mirror, pytest.mark.slow]


def sample(mirror: Path) -> list[Revision]:
    lock = read_lock()
    return ci_sample(
        [Revision(ref, channel) for ref, channel in mirror_revisions(mirror)], Revision(lock.ref, lock.channel)
    )


def test_sample_covers_oldest_2024_pinned_and_beta(mirror: Path) -> None:
    chosen = sample(mirror)
    lock = read_lock()
    assert chosen[0] == min((r for r in chosen if r.channel == "stable"), key=order_key)
    assert any(r.ref.startswith("2024-") for r in chosen)
    assert Revision(lock.ref, lock.channel) in chosen
    assert any(r.channel == "beta" for r in chosen)


def test_sample_is_green_end_to_end(mirror: Path) -> None:
    started = time.perf_counter()
    rows = run_matrix(sample(mirror), MatrixOptions(source=str(mirror)), jobs=2)
    table = render(rows, "text")
    print(f"\n{table}(wall time {time.perf_counter() - started:.0f} s)")  # shown with -rP; the table is the CI log
    assert all(row.ok for row in rows), table
    for row in rows:
        assert row.generate is not None and row.contract is not None
        assert row.generate.operations == row.operations
        assert row.contract.operations == row.operations
