"""The lock file: round trip, atomic writes, readable errors, and the committed lock stays machine-independent."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from kdk.spec._fetch import CANONICAL_SOURCE, spec_url
from kdk.spec._lock import Lock, LockError, read_lock, spec_cache_path, write_lock

from .conftest import Project

LOCK = Lock(
    ref="2026-07-15",
    channel="stable",
    source=CANONICAL_SOURCE,
    url=f"{CANONICAL_SOURCE}/2026-07-15/openapi/stable.json",
    sha256="ab" * 32,
    size=123,
    info_version="2026-07-15",
    operations=3,
)

REPO_LOCK = Path(__file__).resolve().parents[3] / "openapi" / "klaviyo.lock.json"


def test_round_trip_through_the_default_path(project: Project) -> None:
    write_lock(LOCK)
    assert project.lock.is_file()
    assert read_lock() == LOCK


def test_lock_file_is_sorted_readable_json(project: Project) -> None:
    write_lock(LOCK)
    text = project.lock.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert list(json.loads(text)) == sorted(json.loads(text))
    # A committed file, not a private temp file.
    assert stat.S_IMODE(project.lock.stat().st_mode) == 0o644


def test_write_leaves_no_temp_files(project: Project) -> None:
    write_lock(LOCK)
    write_lock(LOCK)
    assert [p.name for p in (project.root / "openapi").iterdir() if p.is_file()] == ["klaviyo.lock.json"]


def test_missing_lock_says_what_to_do(project: Project) -> None:
    with pytest.raises(LockError, match="kdk spec fetch"):
        read_lock()


@pytest.mark.parametrize("text", ["{not json", '{"ref": "main"}', "[]"])
def test_unreadable_lock_is_a_lock_error(project: Project, text: str) -> None:
    project.lock.write_text(text, encoding="utf-8")
    with pytest.raises(LockError, match="unreadable"):
        read_lock()


def test_cache_is_keyed_by_sha256(project: Project) -> None:
    assert spec_cache_path("ab" * 32) == project.cache("ab" * 32)


def test_committed_lock_is_machine_independent() -> None:
    lock = read_lock(REPO_LOCK)
    assert lock.source.startswith("https://"), lock.source
    assert lock.url == spec_url(lock.source, lock.ref, lock.channel)
    assert len(lock.sha256) == 64 and int(lock.sha256, 16) >= 0
    assert lock.size > 0 and lock.operations > 0
