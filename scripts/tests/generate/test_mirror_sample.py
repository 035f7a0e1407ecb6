"""`kdk generate` on CI's sample of the mirror (`kdk.matrix.ci_sample`, chosen from its listing, not from dates
written here): the oldest stable revision, the newest stable of 2024, the pinned revision and the newest beta.
Each: every operation of *that* spec, no dropped schema, no generator warning. The newest beta (the smallest)
is generated twice: byte-identical trees. The whole mirror is the opt-in
`test_every_mirror_revision_generates_completely`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kdk import mirror_revisions
from kdk.generate import generate_project
from kdk.matrix import Revision, ci_sample
from kdk.spec import LockError, apply_overlay, iter_operations, load_spec, read_lock


def sample() -> dict[str, tuple[str, str]]:
    """`ref-channel` -> (ref, channel): CI's sample (kdk.matrix.ci_sample); empty without a mirror."""
    try:
        lock = read_lock()
        pinned: Revision | None = Revision(lock.ref, lock.channel)
    except LockError:  # no lock: the rest of the sample still runs
        pinned = None
    held = [Revision(ref, channel) for ref, channel in mirror_revisions()]
    return {f"{r.ref}-{r.channel}": (r.ref, r.channel) for r in ci_sample(held, pinned)}


SAMPLE = sample()
NEWEST_BETA = max((key for key, (_, channel) in SAMPLE.items() if channel == "beta"), default="")


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.mark.mirror
def test_the_sample_holds_a_beta(mirror: Path) -> None:
    assert NEWEST_BETA  # the determinism check below runs on it


@pytest.mark.mirror
@pytest.mark.slow
@pytest.mark.parametrize("role", sorted(SAMPLE))
def test_mirror_sample_generates_completely(mirror: Path, tmp_path: Path, role: str) -> None:
    ref, channel = SAMPLE[role]
    patched = apply_overlay(load_spec(mirror / ref / "openapi" / f"{channel}.json")).spec
    operations = sum(1 for _ in iter_operations(patched))
    result = generate_project(patched, tmp_path / "client", run_ruff=False)
    assert operations > 0
    assert result.operations_expected == operations
    assert result.missing_operations == []
    assert result.dropped_schemas == []
    assert result.warnings == []
    assert result.models > 0
    if role == NEWEST_BETA:
        again = generate_project(patched, tmp_path / "again", run_ruff=False)
        assert _tree_digest(again.project_dir) == _tree_digest(result.project_dir)
