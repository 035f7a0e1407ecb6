"""`kdk spec fetch` over HTTP against a local server that refuses, stalls, truncates, corrupts and recovers.

Every failure must leave the previous lock and cache byte-for-byte as they were and say what went wrong in
one line; transient failures must be retried (the project fixture makes the backoff near zero)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from kdk.spec._fetch import FetchError, RetryPolicy, check_cache, fetch_and_pin, fetch_spec
from kdk.spec._lock import read_lock

from ._fault_server import FaultServer, closed_port_url
from .conftest import Project, SpecTree

RunFetch = Callable[..., Result]
SPEC_PATH = "/main/openapi/stable.json"


@pytest.fixture
def pinned(project: Project, spec_tree: SpecTree) -> dict[str, bytes]:
    """A project already pinned to 2026-07-15/stable; returns its openapi/ snapshot."""
    fetch_and_pin(source=str(spec_tree.root))
    return project.snapshot()


def fail_line(result: Result, *needles: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    message = result.stderr.strip()
    assert "\n" not in message and message.startswith("error: "), message
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in message, message
    return message


def test_fetch_over_http_records_the_url_source(
    project: Project, spec_tree: SpecTree, fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    result = run_fetch("--source", fault_server.url, "--ref", "main")
    assert result.exit_code == 0, result.output
    lock = read_lock()
    assert lock.source == fault_server.url
    assert lock.url == fault_server.url + SPEC_PATH
    assert project.cache(lock.sha256).read_bytes() == spec_tree.bytes("main", "stable")
    assert fault_server.requests == [SPEC_PATH]


def test_gzip_encoded_body_is_not_mistaken_for_truncation(
    project: Project, spec_tree: SpecTree, fault_server: FaultServer
) -> None:
    fault_server.plan("gzip")
    fetched = fetch_and_pin("2026-04-15", "stable", fault_server.url).fetched
    assert fetched.size == len(spec_tree.bytes("2026-04-15", "stable"))
    assert fault_server.requests == ["/2026-04-15/openapi/stable.json"]


def test_connection_refused(project: Project, pinned: dict[str, bytes], run_fetch: RunFetch) -> None:
    url = closed_port_url()
    result = run_fetch("--source", url, "--ref", "main")
    fail_line(result, "cannot connect to 127.0.0.1", "connection refused", "after 3 attempts")
    assert project.snapshot() == pinned


def test_stall_before_headers_times_out(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    fault_server.default = "stall"
    result = run_fetch("--source", fault_server.url, "--ref", "main", "--attempts", "2", "--timeout", "0.2")
    fail_line(result, "timed out after 0.2 s", SPEC_PATH, "after 2 attempts")
    assert len(fault_server.requests) == 2
    assert project.snapshot() == pinned


def test_stall_mid_body_times_out(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    fault_server.default = "stall_body"
    result = run_fetch("--source", fault_server.url, "--ref", "main", "--attempts", "1", "--timeout", "0.2")
    message = fail_line(result, "timed out")
    assert "attempts" not in message  # only one was allowed
    assert project.snapshot() == pinned


def test_truncated_body(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    fault_server.default = "truncate"
    size = len((fault_server.root / SPEC_PATH.lstrip("/")).read_bytes())
    result = run_fetch("--source", fault_server.url, "--ref", "main")
    fail_line(result, "truncated body", f"got {size // 2} of {size} bytes", "after 3 attempts")
    assert len(fault_server.requests) == 3
    assert project.snapshot() == pinned


def test_not_json_is_not_retried(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    fault_server.default = "not_json"
    result = run_fetch("--source", fault_server.url, "--ref", "main")
    fail_line(result, "is not a spec: invalid JSON", "line 1, column 1")
    assert len(fault_server.requests) == 1
    assert project.snapshot() == pinned


def test_wrong_bytes_for_a_pinned_sha(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    lock = read_lock()
    project.cache(lock.sha256).unlink()
    before = project.snapshot()
    fault_server.default = "other_bytes"
    result = run_fetch("--check", "--source", fault_server.url)
    fail_line(result, "sha256 mismatch", f"expected {lock.sha256[:12]}")
    assert project.snapshot() == before
    # Same bytes served honestly: the check restores the cache.
    fault_server.default = "ok"
    assert run_fetch("--check", "--source", fault_server.url).exit_code == 0
    assert project.snapshot() == pinned


def test_404_for_an_unknown_ref_is_not_retried(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    result = run_fetch("--source", fault_server.url, "--ref", "2099-01-01")
    fail_line(result, "HTTP 404", "'2099-01-01'", "/2099-01-01/openapi/stable.json")
    assert fault_server.requests == ["/2099-01-01/openapi/stable.json"]
    assert project.snapshot() == pinned


def test_403_is_not_retried(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    fault_server.default = "403"
    fail_line(run_fetch("--source", fault_server.url, "--ref", "main"), "HTTP 403")
    assert len(fault_server.requests) == 1
    assert project.snapshot() == pinned


def test_persistent_5xx_gives_up(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    fault_server.default = "500"
    fail_line(run_fetch("--source", fault_server.url, "--ref", "main"), "HTTP 500", "after 3 attempts")
    assert len(fault_server.requests) == 3
    assert project.snapshot() == pinned


def test_transient_failures_then_success(
    project: Project, spec_tree: SpecTree, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    fault_server.plan("503", "truncate", "stall")
    result = run_fetch("--source", fault_server.url, "--ref", "main", "--attempts", "4", "--timeout", "0.5")
    assert result.exit_code == 0, result.output
    assert len(fault_server.requests) == 4
    data = spec_tree.bytes("main", "stable")
    assert read_lock().sha256 == hashlib.sha256(data).hexdigest()
    assert project.cache(read_lock().sha256).read_bytes() == data
    # The previous pin's spec is still cached beside the new one.
    assert all(project.snapshot()[name] == content for name, content in pinned.items() if name.startswith(".cache"))


def test_check_restores_through_retries(project: Project, pinned: dict[str, bytes], fault_server: FaultServer) -> None:
    lock = read_lock()
    project.cache(lock.sha256).unlink()
    fault_server.plan("500", "truncate")
    checked = check_cache(fault_server.url)
    assert checked.restored is not None
    assert project.snapshot() == pinned
    assert len(fault_server.requests) == 3


def test_backoff_grows_and_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = RetryPolicy(backoff=0.5, max_backoff=3.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    monkeypatch.setenv("KDK_FETCH_ATTEMPTS", "7")
    monkeypatch.setenv("KDK_FETCH_BACKOFF", "0")
    assert RetryPolicy.from_env().attempts == 7 and RetryPolicy.from_env().backoff == 0
    monkeypatch.setenv("KDK_FETCH_TIMEOUT", "soon")
    with pytest.raises(FetchError, match="KDK_FETCH"):
        RetryPolicy.from_env()


def test_retries_sleep_with_backoff(
    project: Project, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kdk.spec import _fetch

    sleeps: list[float] = []
    monkeypatch.setattr(_fetch.time, "sleep", sleeps.append)
    fault_server.plan("503", "503", "503")
    fetch_spec(fault_server.url, "main", "stable", policy=RetryPolicy(attempts=4, backoff=0.25))
    assert sleeps == [0.25, 0.5, 1.0]


def test_unsupported_url_scheme(project: Project, run_fetch: RunFetch) -> None:
    # Not http(s): taken as a directory, which does not exist.
    fail_line(run_fetch("--source", "ftp://example.test/openapi"), "does not exist")


# -- bounds: deadline, size cap, redirects, termination, leftovers ---------------------------------------------


def test_slow_drip_meets_the_overall_deadline(
    project: Project,
    pinned: dict[str, bytes],
    fault_server: FaultServer,
    run_fetch: RunFetch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every byte arrives within the read timeout, so only an overall deadline ends it.
    monkeypatch.setenv("KDK_FETCH_DEADLINE", "0.5")
    fault_server.default = "drip"
    started = time.monotonic()
    fail_line(run_fetch("--source", fault_server.url, "--ref", "main", "--timeout", "1"), "gave up", "0.5 s overall")
    assert time.monotonic() - started < 5
    assert project.snapshot() == pinned


def test_a_body_over_the_size_cap_is_refused(
    project: Project,
    pinned: dict[str, bytes],
    fault_server: FaultServer,
    run_fetch: RunFetch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KDK_FETCH_MAX_BYTES", "100000")  # 2026-04-15 is ~300 kB
    fail_line(run_fetch("--source", fault_server.url, "--ref", "2026-04-15"), "larger than 100000 bytes")
    assert len(fault_server.requests) == 1  # refused from Content-Length, not retried
    assert project.snapshot() == pinned


def test_a_decompression_bomb_stops_at_the_cap(
    project: Project,
    pinned: dict[str, bytes],
    fault_server: FaultServer,
    run_fetch: RunFetch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A few kB of gzip that decode to ~300 kB: Content-Length is small, the decoded bytes are counted.
    monkeypatch.setenv("KDK_FETCH_MAX_BYTES", "100000")
    fault_server.default = "gzip"
    fail_line(run_fetch("--source", fault_server.url, "--ref", "2026-04-15"), "larger than 100000 bytes")
    assert project.snapshot() == pinned


def test_a_local_file_over_the_cap_is_refused(
    project: Project,
    spec_tree: SpecTree,
    pinned: dict[str, bytes],
    run_fetch: RunFetch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KDK_FETCH_MAX_BYTES", "100000")
    fail_line(run_fetch("--source", str(spec_tree.root), "--ref", "2026-04-15"), "larger than 100000 bytes")
    assert project.snapshot() == pinned


def test_deeply_nested_json_is_one_clear_line(
    project: Project, spec_tree: SpecTree, pinned: dict[str, bytes], run_fetch: RunFetch
) -> None:
    deep = spec_tree.path("deep", "stable")
    deep.parent.mkdir(parents=True)
    deep.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    fail_line(run_fetch("--source", str(spec_tree.root), "--ref", "deep"), "is not a spec", "nested too deeply")
    assert project.snapshot() == pinned


def test_a_redirect_names_the_host_that_failed(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    target = closed_port_url()
    fault_server.redirect_to = target
    fault_server.default = "redirect"
    # The refusal came from the redirect's target, not from the server asked first.
    fail_line(run_fetch("--source", fault_server.url, "--ref", "main"), f"cannot connect to {target[7:]}:")
    assert project.snapshot() == pinned


def test_a_redirect_to_a_404_names_both_urls(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer, run_fetch: RunFetch
) -> None:
    fault_server.plan("redirect", "404")
    fault_server.redirect_to = fault_server.url + "/moved"
    message = fail_line(run_fetch("--source", fault_server.url, "--ref", "main"), "HTTP 404")
    assert f"{fault_server.url}/moved{SPEC_PATH}" in message and "redirected from" in message
    assert project.snapshot() == pinned


def test_sigterm_mid_fetch_leaves_no_temp_file(
    project: Project, pinned: dict[str, bytes], fault_server: FaultServer
) -> None:
    fault_server.default = "stall_body"
    env = {**os.environ, "KDK_PROJECT_ROOT": str(project.root), "KDK_FETCH_TIMEOUT": "30"}
    command = [sys.executable, "-c", "from kdk.cli import main; main()", "spec", "fetch"]
    child = subprocess.Popen(
        [*command, "--source", fault_server.url, "--ref", "main"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    specs = project.root / "openapi" / ".cache" / "specs"
    deadline = time.monotonic() + 30
    while not list(specs.glob(".fetch-*.part")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(specs.glob(".fetch-*.part")), "the fetch never started writing"
    time.sleep(0.2)  # the temp file holds the first half of the body by now
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert project.snapshot() == pinned


def test_stale_temp_files_of_killed_fetches_are_removed(project: Project, spec_tree: SpecTree) -> None:
    specs = project.root / "openapi" / ".cache" / "specs"
    specs.mkdir(parents=True)
    stale, fresh = specs / ".fetch-stale.part", specs / ".fetch-fresh.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    fetch_and_pin(source=str(spec_tree.root))
    assert not stale.exists()
    assert fresh.exists()  # may belong to a fetch running right now


@pytest.mark.mirror
def test_real_mirror_over_http(project: Project, mirror: Path) -> None:
    server = FaultServer(mirror)
    try:
        server.plan("truncate")
        committed = read_lock(Path(__file__).resolve().parents[3] / "openapi" / "klaviyo.lock.json")
        fetched = fetch_spec(server.url, committed.ref, committed.channel, expected_sha256=committed.sha256)
        assert (fetched.size, fetched.operations, fetched.info_version) == (
            committed.size,
            committed.operations,
            committed.info_version,
        )
    finally:
        server.close()
