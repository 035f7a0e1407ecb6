"""`kdk generate` on a CI-sized sample of the mirror, chosen from its listing (not from dates written here): the
oldest stable revision, the first stable of 2024, the pinned revision and the newest beta. Each: every operation
of *that* spec, no dropped schema, no generator warning. The newest beta (the smallest) is generated twice:
byte-identical trees. The whole mirror is the opt-in `test_every_mirror_revision_generates_completely`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kdk._paths import mirror_revisions
from kdk.generate import generate_project
from kdk.spec import apply_overlay, iter_operations, load_spec
from kdk.spec._lock import LockError, read_lock


def _dated(channel: str) -> list[str]:
    """The mirror's dated refs of one channel, oldest first (`main` is a copy of a dated one)."""
    return sorted(ref for ref, ch in mirror_revisions() if ch == channel and ref[:1].isdigit())


def sample() -> dict[str, tuple[str, str]]:
    """role -> (ref, channel); empty without a mirror."""
    stable, beta = _dated("stable"), _dated("beta")
    roles: dict[str, tuple[str, str]] = {}
    if stable:
        roles["oldest-stable"] = (stable[0], "stable")
        of_2024 = [ref for ref in stable if ref.startswith("2024-")]
        roles["a-2024-stable"] = (of_2024 or stable[len(stable) // 2 : len(stable) // 2 + 1])[0], "stable"
    try:
        lock = read_lock()
        if (lock.ref, lock.channel) in mirror_revisions():
            roles["pinned"] = (lock.ref, lock.channel)
    except LockError:  # no lock: the rest of the sample still runs
        pass
    if beta:
        roles["newest-beta"] = (beta[-1], "beta")
    return roles


SAMPLE = sample()


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.mark.mirror
def test_sample_covers_the_roles(mirror: Path) -> None:
    assert {"oldest-stable", "a-2024-stable", "newest-beta"} <= set(SAMPLE)
    assert SAMPLE["oldest-stable"][0] == min(_dated("stable"))


@pytest.mark.mirror
@pytest.mark.slow
@pytest.mark.parametrize("role", sorted(SAMPLE), ids=lambda r: f"{r}-{SAMPLE[r][0]}")
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
    if role == "newest-beta":
        again = generate_project(patched, tmp_path / "again", run_ruff=False)
        assert _tree_digest(again.project_dir) == _tree_digest(result.project_dir)
