"""`kdk proxy` and `kdk mock --replay/--inject-drift` as real processes on free ports (127.0.0.1 only)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from .conftest import API_KEY, AUTH

_KDK = "import sys; from kdk.cli import main; sys.argv = ['kdk', *sys.argv[1:]]; main()"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def _kdk(*args: str, ready_path: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _KDK, *args, "--port", str(port)], env=os.environ.copy(), stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=5)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((process.stderr.read() if process.stderr else b"").decode()) from None
                time.sleep(0.1)
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_help_lists_the_options() -> None:
    from kdk.cli import _register, app

    _register()
    result = CliRunner().invoke(app, ["proxy", "--help"])
    assert result.exit_code == 0
    for option in ("--upstream", "--port", "--log", "--report", "--record", "--throttle", "--fail-on-drift"):
        assert option in result.output
    mock_help = CliRunner().invoke(app, ["mock", "--help"]).output
    assert "--replay" in mock_help and "--replay-match" in mock_help and "--inject-drift" not in mock_help


def test_proxy_against_a_drifting_mock_fails_and_records(tmp_path: Path) -> None:
    report, log, cassettes = tmp_path / "report.md", tmp_path / "drift.jsonl", tmp_path / "cassettes"
    # The example mode: its one generated list is there to be corrupted (a new stateful account has none).
    with _kdk("mock", "--stateless", "--inject-drift", "null,number,enum", ready_path="/openapi.json") as (
        _,
        mock_port,
    ):
        proxy_args = [
            "proxy",
            "--upstream",
            f"http://127.0.0.1:{mock_port}",
            "--log",
            str(log),
            "--report",
            str(report),
        ]
        with _kdk(*proxy_args, "--record", str(cassettes), "--fail-on-drift", ready_path="/__proxy__/report") as (
            proxy,
            port,
        ):
            answer = httpx.get(f"http://127.0.0.1:{port}/api/lists/", headers=AUTH, timeout=60)
            direct = httpx.get(f"http://127.0.0.1:{mock_port}/api/lists/", headers=AUTH)
            assert answer.status_code == 200 and answer.content == direct.content  # passed through unchanged
            summary = httpx.get(f"http://127.0.0.1:{port}/__proxy__/report", params={"format": "json"}).json()
            assert {g["example"]["pointer"] for g in summary["groups"]} == {
                "/data/0/links/self",
                "/data/0/type",
                "/links/self",
            }
            proxy.send_signal(signal.SIGINT)
            assert proxy.wait(timeout=20) == 1  # --fail-on-drift
    assert "## `get_lists`" in report.read_text()
    assert API_KEY not in log.read_text() and json.loads(log.read_text().splitlines()[0])["operation"] == "get_lists"

    with _kdk("mock", "--replay", str(cassettes), ready_path="/openapi.json") as (_, replay_port):
        replayed = httpx.get(f"http://127.0.0.1:{replay_port}/api/lists/", headers=AUTH)
        assert replayed.headers["x-kdk-replayed"] == "1" and replayed.content == answer.content


def test_mock_refuses_a_bad_replay_directory(tmp_path: Path) -> None:
    from kdk.cli import _register, app

    _register()
    result = CliRunner().invoke(app, ["mock", "--replay", str(tmp_path)])
    assert result.exit_code == 2 and "not a recording" in result.output
    result = CliRunner().invoke(app, ["mock", "--inject-drift", "chaos"])
    assert result.exit_code == 2 and "--inject-drift" in result.output


@pytest.mark.parametrize("upstream", ["http://127.0.0.1:9"])
def test_upstream_down_is_a_502_envelope(upstream: str, tmp_path: Path) -> None:
    with _kdk("proxy", "--upstream", upstream, "--log", str(tmp_path / "l.jsonl"), ready_path="/__proxy__/report") as (
        _,
        port,
    ):
        answer = httpx.get(f"http://127.0.0.1:{port}/api/lists/", headers=AUTH, timeout=60)
    assert answer.status_code == 502 and answer.json()["errors"][0]["code"] == "bad_gateway"
