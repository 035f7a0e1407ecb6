"""`kdk spec fetch` from a local directory source: pinning, defaults, source precedence, `--check`, failures."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from kdk.spec._fetch import (
    CANONICAL_SOURCE,
    CacheMismatchError,
    FetchError,
    check_cache,
    fetch_and_pin,
    fetch_spec,
    resolve_source,
    spec_url,
)
from kdk.spec._lock import Lock, read_lock

from .conftest import Project, SpecTree

RunFetch = Callable[..., Result]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_one_line_failure(result: Result, code: int, *needles: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    message = result.stderr.strip()
    assert "\n" not in message, message
    assert message.startswith("error: "), message
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in message, message
    return message


# -- library ---------------------------------------------------------------------------------------------


def test_pins_a_directory_source_under_the_canonical_source(project: Project, spec_tree: SpecTree) -> None:
    result = fetch_and_pin("main", "beta", str(spec_tree.root))
    data = spec_tree.bytes("main", "beta")
    assert result.lock == Lock(
        ref="main",
        channel="beta",
        source=CANONICAL_SOURCE,
        url=f"{CANONICAL_SOURCE}/main/openapi/beta.json",
        sha256=sha(data),
        size=len(data),
        info_version="2026-10-15.pre",
        operations=5,
    )
    assert result.previous is None and result.changed
    assert read_lock() == result.lock
    assert project.cache(sha(data)).read_bytes() == data
    # No path of this machine in the committed lock.
    assert str(spec_tree.root) not in project.lock.read_text(encoding="utf-8")


def test_defaults_to_2026_07_15_stable_without_a_lock(project: Project, spec_tree: SpecTree) -> None:
    lock = fetch_and_pin(source=str(spec_tree.root)).lock
    assert (lock.ref, lock.channel, lock.info_version, lock.operations) == ("2026-07-15", "stable", "2026-07-15", 3)


def test_defaults_to_the_locks_ref_and_channel(project: Project, spec_tree: SpecTree) -> None:
    fetch_and_pin("main", "beta", str(spec_tree.root))
    lock = fetch_and_pin(source=str(spec_tree.root)).lock
    assert (lock.ref, lock.channel) == ("main", "beta")
    assert fetch_and_pin(channel="stable", source=str(spec_tree.root)).lock.ref == "main"


def test_unchanged_pin_does_not_rewrite_the_lock(project: Project, spec_tree: SpecTree) -> None:
    fetch_and_pin(source=str(spec_tree.root))
    os.utime(project.lock, (1, 1))
    again = fetch_and_pin(source=str(spec_tree.root))
    assert not again.changed
    assert project.lock.stat().st_mtime == 1


def test_repinning_keeps_the_previous_spec_in_the_cache(project: Project, spec_tree: SpecTree) -> None:
    first = fetch_and_pin("2026-04-15", "stable", str(spec_tree.root))
    second = fetch_and_pin("2026-07-15", "stable", str(spec_tree.root))
    assert second.previous == first.lock and second.changed
    assert project.cache(first.lock.sha256).is_file() and project.cache(second.lock.sha256).is_file()


def test_source_precedence(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = Lock("main", "stable", "https://example.test/mirror", "u", "0" * 64, 1, "v", 1)
    assert resolve_source(None, None) == CANONICAL_SOURCE
    assert resolve_source(None, lock) == "https://example.test/mirror"
    monkeypatch.setenv("KDK_SPEC_SOURCE", "/from/env")
    assert resolve_source(None, lock) == "/from/env"
    assert resolve_source("/explicit", lock) == "/explicit"


def test_env_source_is_used(project: Project, spec_tree: SpecTree, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KDK_SPEC_SOURCE", str(spec_tree.root))
    assert fetch_and_pin().fetched.url == str(spec_tree.path("2026-07-15", "stable"))


def test_relative_directory_source(project: Project, spec_tree: SpecTree, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(spec_tree.root.parent)
    assert fetch_and_pin(source="mirror").lock.operations == 3
    # Relative to the project root works too (CI sets ../shared/klaviyo-openapi).
    monkeypatch.chdir("/")
    assert fetch_and_pin("main", "stable", source="../mirror").lock.operations == 4


def test_spec_url_layout_and_unsafe_names(tmp_path: Path) -> None:
    assert spec_url("https://h.test/base/", "main", "beta") == "https://h.test/base/main/openapi/beta.json"
    assert spec_url(str(tmp_path), "2026-07-15", "stable") == str(tmp_path / "2026-07-15/openapi/stable.json")
    for bad in ("../x", "/etc", "a//b", "", "."):
        with pytest.raises(FetchError, match="invalid ref"):
            spec_url(str(tmp_path), bad, "stable")


def test_progress_is_reported(project: Project, spec_tree: SpecTree) -> None:
    seen: list[tuple[int, int | None]] = []
    fetched = fetch_spec(str(spec_tree.root), "2026-04-15", "stable", on_progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, fetched.size)
    assert seen[-1] == (fetched.size, fetched.size)
    assert len(seen) > 3  # several chunks


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"openapi": "3.0.2", "info": {', "is not a spec: invalid JSON"),
        (b"[1, 2]", "is not a spec: expected a JSON object"),
        (b'{"swagger": "2.0"}', "not an OpenAPI document"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_bad_content_fails_cleanly(project: Project, spec_tree: SpecTree, content: bytes, needle: str) -> None:
    fetch_and_pin(source=str(spec_tree.root))
    before = project.snapshot()
    bad = spec_tree.path("main", "stable")
    bad.write_bytes(content)
    with pytest.raises(FetchError, match=needle) as info:
        fetch_and_pin("main", "stable", str(spec_tree.root))
    assert "\n" not in str(info.value)
    assert project.snapshot() == before


# -- CLI ---------------------------------------------------------------------------------------------------


def test_cli_prints_a_summary(project: Project, spec_tree: SpecTree, run_fetch: RunFetch) -> None:
    result = run_fetch("--source", str(spec_tree.root), "--ref", "main", "--channel", "stable")
    assert result.exit_code == 0, result.output
    lock = read_lock()
    out = result.stdout
    for part in ("main/stable", "2026-10-15", "4 operations", lock.sha256[:12], "kB"):
        assert part in out, out
    again = run_fetch("--source", str(spec_tree.root))
    assert again.exit_code == 0 and again.stdout.startswith("unchanged: main/stable")


def test_cli_unknown_ref_leaves_everything(project: Project, spec_tree: SpecTree, run_fetch: RunFetch) -> None:
    assert run_fetch("--source", str(spec_tree.root)).exit_code == 0
    before = project.snapshot()
    result = run_fetch("--source", str(spec_tree.root), "--ref", "2031-01-01")
    message = assert_one_line_failure(result, 2, "no spec at", "'2031-01-01'", "2026-07-15, main")
    assert "refs in" in message
    assert project.snapshot() == before


def test_cli_missing_source_directory(project: Project, tmp_path: Path, run_fetch: RunFetch) -> None:
    result = run_fetch("--source", str(tmp_path / "nowhere"))
    assert_one_line_failure(result, 2, "does not exist")
    assert project.snapshot() == {}


def test_cli_unknown_channel_is_a_usage_error(project: Project, run_fetch: RunFetch) -> None:
    assert run_fetch("--channel", "nightly").exit_code == 2


def test_cli_expected_sha256_mismatch(project: Project, spec_tree: SpecTree, run_fetch: RunFetch) -> None:
    assert run_fetch("--source", str(spec_tree.root)).exit_code == 0
    before = project.snapshot()
    result = run_fetch("--source", str(spec_tree.root), "--ref", "main", "--sha256", "0" * 64)
    assert_one_line_failure(result, 2, "sha256 mismatch", "expected 000000000000")
    assert project.snapshot() == before
    good = sha(spec_tree.bytes("main", "stable"))
    assert run_fetch("--source", str(spec_tree.root), "--ref", "main", "--sha256", good).exit_code == 0


# -- --check -----------------------------------------------------------------------------------------------


def test_check_ok(project: Project, spec_tree: SpecTree, run_fetch: RunFetch) -> None:
    fetch_and_pin(source=str(spec_tree.root))
    before = project.snapshot()
    result = run_fetch("--check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("spec cache ok: 2026-07-15/stable")
    assert project.snapshot() == before


def test_check_restores_a_missing_cache_through_the_env_source(
    project: Project, spec_tree: SpecTree, run_fetch: RunFetch, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = fetch_and_pin(source=str(spec_tree.root)).lock
    project.cache(lock.sha256).unlink()
    # The lock says GitHub; the env source wins (no network needed).
    monkeypatch.setenv("KDK_SPEC_SOURCE", str(spec_tree.root))
    lock_bytes = project.lock.read_bytes()
    result = run_fetch("--check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("spec cache restored from")
    assert project.cache(lock.sha256).read_bytes() == spec_tree.bytes("2026-07-15", "stable")
    assert project.lock.read_bytes() == lock_bytes


def test_check_restore_refuses_other_bytes(project: Project, spec_tree: SpecTree, run_fetch: RunFetch) -> None:
    lock = fetch_and_pin(source=str(spec_tree.root)).lock
    project.cache(lock.sha256).unlink()
    spec_tree.path("2026-07-15", "stable").write_text(json.dumps({"openapi": "3.0.2", "info": {"version": "x"}}))
    before = project.snapshot()
    result = run_fetch("--check", "--source", str(spec_tree.root))
    assert_one_line_failure(result, 2, "sha256 mismatch", f"expected {lock.sha256[:12]}")
    assert project.snapshot() == before
    assert not project.cache(lock.sha256).exists()


@pytest.mark.parametrize("damage", ["append", "same_size"])
def test_check_detects_a_damaged_cache(project: Project, spec_tree: SpecTree, run_fetch: RunFetch, damage: str) -> None:
    lock = fetch_and_pin(source=str(spec_tree.root)).lock
    cached = project.cache(lock.sha256)
    data = cached.read_bytes()
    cached.write_bytes(data + b" " if damage == "append" else data.replace(b"tiny", b"TINY"))
    before = project.snapshot()
    result = run_fetch("--check", "--source", str(spec_tree.root))
    assert_one_line_failure(result, 1, "does not match the lock", "kdk spec fetch --check")
    assert project.snapshot() == before  # --check never repairs behind your back
    with pytest.raises(CacheMismatchError):
        check_cache()


def test_check_without_a_lock(project: Project, run_fetch: RunFetch) -> None:
    assert_one_line_failure(run_fetch("--check"), 2, "no lock file")


def test_check_takes_ref_and_channel_from_the_lock(project: Project, run_fetch: RunFetch) -> None:
    assert_one_line_failure(run_fetch("--check", "--ref", "main"), 2, "the lock's ref")


def test_check_hashes_once_and_does_not_parse(
    project: Project, spec_tree: SpecTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kdk.spec import _fetch

    fetch_and_pin(source=str(spec_tree.root))
    calls: list[str] = []
    real = _fetch._sha256_of
    monkeypatch.setattr(_fetch, "_sha256_of", lambda p: calls.append("hash") or real(p))
    monkeypatch.setattr(_fetch, "parse_spec_text", lambda *a, **k: pytest.fail("--check parsed the spec"))
    assert check_cache().restored is None
    assert calls == ["hash"]


def test_cli_progress_bar_only_on_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from kdk.commands._options import download_bar

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with download_bar("fetching spec") as update:
        assert update is None
    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    with download_bar("fetching spec") as update:
        assert update is not None
        update(0, 1000)
        update(1000, 1000)


def test_real_process_fails_with_one_line(project: Project, tmp_path: Path) -> None:
    kdk = Path(sys.executable).with_name("kdk")
    if not kdk.exists():
        kdk = Path(shutil.which("kdk") or "kdk")
    proc = subprocess.run(
        [str(kdk), "spec", "fetch", "--source", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: "), proc.stderr


# -- the real mirror ---------------------------------------------------------------------------------------

REPO_LOCK = Path(__file__).resolve().parents[3] / "openapi" / "klaviyo.lock.json"


@pytest.mark.mirror
def test_mirror_reproduces_the_committed_lock(project: Project, mirror: Path) -> None:
    committed = read_lock(REPO_LOCK)
    pinned = fetch_and_pin(committed.ref, committed.channel, str(mirror))
    assert pinned.lock == committed  # byte-identical to what the committed lock pins, same recorded source


@pytest.mark.mirror
def test_mirror_check_restores_the_committed_pin(
    project: Project, mirror: Path, run_fetch: RunFetch, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(REPO_LOCK, project.lock)
    monkeypatch.setenv("KDK_SPEC_SOURCE", str(mirror))
    first = run_fetch("--check")
    assert first.exit_code == 0 and "restored" in first.stdout, first.output
    second = run_fetch("--check")
    assert second.exit_code == 0 and "ok" in second.stdout, second.output


@pytest.mark.mirror
@pytest.mark.parametrize(
    ("ref", "channel"),
    [
        ("main", "stable"),
        ("2026-04-15", "stable"),
        ("2026-01-15", "stable"),
        ("main", "beta"),
        ("2026-07-15.pre", "beta"),
    ],
)
def test_mirror_revisions_fetch(project: Project, mirror: Path, ref: str, channel: str) -> None:
    lock = fetch_and_pin(ref, channel, str(mirror)).lock
    assert lock.operations > 50
    assert lock.info_version.startswith("20")
    assert lock.source == CANONICAL_SOURCE
