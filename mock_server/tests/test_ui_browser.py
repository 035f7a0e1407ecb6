"""Swagger UI at /ui really renders the operations, in headless Chromium (Debian's `chromium` package)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def live_server(mock_app: Any) -> Iterator[str]:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(mock_app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.browser
@pytest.mark.slow
def test_swagger_ui_renders_operations(live_server: str) -> None:
    chromium = _chromium()
    if chromium is None:
        reason = "chromium is not installed (Debian package `chromium`)"
        if os.environ.get("CI"):  # .ci/run installs it: a CI run without it must not pass quietly
            pytest.fail(f"{reason}; CI must install it")
        pytest.skip(reason)
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, "--virtual-time-budget=30000", "--dump-dom", f"{live_server}/ui"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    dom = result.stdout
    assert "swagger-ui" in dom, result.stderr[-2000:]
    assert "opblock" in dom, "no operation blocks rendered"
    assert dom.count('class="opblock ') >= 300, dom.count('class="opblock ')
    assert "/api/profiles" in dom
    assert "Klaviyo API" in dom
