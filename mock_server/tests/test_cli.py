"""`kdk mock`: help text, and a real server process answering (fast-start path, then the full app)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from mock_server import CompiledSpec

from .conftest import AUTH


def test_help() -> None:
    from kdk.cli import _register, app

    _register()
    result = CliRunner().invoke(app, ["mock", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--spec", "--workers", "--max-body-bytes"):
        assert option in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    # /ui waits for the background Connexion build: seconds on a loaded 2-core box (a timeout, not a budget).
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


@pytest.fixture
def served(compiled: CompiledSpec) -> Iterator[int]:
    port = _free_port()
    code = "import sys; from kdk.cli import main; sys.argv = ['kdk', *sys.argv[1:]]; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "mock", "--port", str(port)], env=os.environ.copy(), stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(port, "/openapi.json", {})
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((process.stderr.read() if process.stderr else b"").decode()) from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_served_process_answers_api_and_ui(served: int) -> None:
    status, body = _get(served, "/api/profiles/", AUTH)
    assert status == 200
    assert json.loads(body)["data"] == []  # the default mock is stateful: a new account has no profiles
    assert _get(served, "/api/profiles", {})[0] == 401
    status, page = _get(served, "/ui", {})
    assert status == 200
    assert b"swagger-ui" in page


def test_in_memory_state_refuses_several_workers() -> None:
    from kdk.cli import _register, app

    _register()
    result = CliRunner().invoke(app, ["mock", "--workers", "2", "--state", "memory"])
    assert result.exit_code == 2
    assert "--workers 2" in result.output


def test_fast_start_path_imports_nothing_heavy(compiled: CompiledSpec) -> None:
    """The start-up budget (<= 1 s to the first answer) depends on not importing these before answering."""
    code = (
        "import sys; from kdk.cli import _register; _register()\n"
        "from mock_server._serve import ServeOptions, _FastStartApp\n"
        "app = _FastStartApp(ServeOptions()); app._build_started = True  # keep the Connexion build from starting\n"
        "names = ('connexion', 'kdk.spec', 'mock_server.state', 'jsonschema', 'rich')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "", f"imported on the start path: {result.stdout.strip()}"
