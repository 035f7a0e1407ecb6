"""`kdk spec diff` and the changelog on every consecutive pair of mirror revisions (stable and beta): no pair may
make the diff crash, and every format renders. A revision added to the mirror is covered without editing a list."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from kdk._paths import mirror_revisions
from kdk.spec.diff import FORMATS, SpecSide, consecutive_pairs, diff_specs, load_side, render

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

PAIRS = consecutive_pairs(mirror_revisions())


@lru_cache(maxsize=2)  # consecutive pairs share a side: the next test reuses it
def _side(path: str) -> SpecSide:
    return load_side(path)


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{o[0]}..{n[0]}-{n[1]}" for o, n in PAIRS])
def test_consecutive_revisions_diff_in_every_format(mirror: Path, old: tuple[str, str], new: tuple[str, str]) -> None:
    before = _side(str(mirror / old[0] / "openapi" / f"{old[1]}.json"))
    after = _side(str(mirror / new[0] / "openapi" / f"{new[1]}.json"))
    report = diff_specs(before.spec, after.spec, old_label=f"{old[0]} ({old[1]})", new_label=f"{new[0]} ({new[1]})")
    assert (report.old_operations, report.new_operations) == (len(_operations(before)), len(_operations(after)))
    # Operations are matched by method and path (as oasdiff does): the diff sees exactly the new ones.
    added = {(c.method.upper(), c.path) for c in report.changes if c.rule == "endpoint-added"}
    assert added == set(_operations(after)) - set(_operations(before))
    for fmt in FORMATS:
        assert render(report, fmt)
    assert json.loads(render(report, "json"))["summary"] == {s.value: n for s, n in report.counts().items()}
    changelog = render(report, "changelog")
    assert f"## {new[0]} ({new[1]})" in changelog
    assert ("### Breaking" in changelog) or not report.changes
    for method, path in added:
        assert f"`{_operations(after)[method, path]}` (`{method} {path}`)" in changelog


def _operations(side: SpecSide) -> dict[tuple[str, str], str]:
    from kdk.spec import iter_operations

    return {(op.method.upper(), op.path): op.operation_id for op in iter_operations(side.spec)}


def test_the_mirror_has_pairs_in_both_channels(mirror: Path) -> None:
    channels = {new[1] for _, new in PAIRS}
    assert channels == {ch for _, ch in mirror_revisions(mirror)}
