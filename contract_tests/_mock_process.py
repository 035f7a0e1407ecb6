"""A `kdk mock` running in a child process on a free port: what the pytest fixtures and `kdk contract` use.

A child process (not a thread) so the mock's event loop, imports and state never mix with the test's, and
so a test can only reach it the way an integrator's code does: over HTTP.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MockProcess", "MockStartError", "free_port", "running_mock"]

ADMIN = "/__mock__"
DEFAULT_API_KEY = "pk_kdk_contract_0000000000000000"
ADMIN_TOKEN_ENV = "KDK_MOCK_ADMIN_TOKEN"  # the mock's admin token (mock_server._admin_access), sent as below
ADMIN_TOKEN_HEADER = "KDK-Admin-Token"


class MockStartError(RuntimeError):
    pass


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MockProcess:
    """A running mock: its URL, the API key tests use, and the admin endpoints (reset, journal).

    Admin calls act on `api_key`'s account; `admin_token` (the one this process started the mock with, else
    $KDK_MOCK_ADMIN_TOKEN for a mock started elsewhere) is sent by `request(..., admin=True)` for the others."""

    base_url: str
    api_key: str = DEFAULT_API_KEY
    revision: str = ""
    admin_token: str | None = field(default_factory=lambda: os.environ.get(ADMIN_TOKEN_ENV) or None, repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log: Any = field(default=None, repr=False)  # the child's stdout+stderr (a temp file: a pipe could fill up)

    def output(self) -> str:
        if self.log is None:
            return ""
        self.log.seek(0)
        return str(self.log.read().decode(errors="replace"))

    @property
    def auth_headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Klaviyo-API-Key {self.api_key}"}
        if self.revision:
            headers["revision"] = self.revision
        return headers

    def request(self, method: str, path: str, *, admin: bool = False, **kwargs: Any) -> Any:
        """An httpx request to the mock with this key's auth and the served revision (override via headers=);
        `admin=True` adds the admin token (another account's, or every account's, admin data)."""
        import httpx

        headers = {**self.auth_headers, "Accept": "application/vnd.api+json"}
        if admin and self.admin_token:
            headers[ADMIN_TOKEN_HEADER] = self.admin_token
        headers.update(kwargs.pop("headers", None) or {})
        return httpx.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def reset(self) -> None:
        """Forget this account's resources and journal (stateful mock); a stateless mock has nothing to reset."""
        response = self.request("POST", f"{ADMIN}/reset")
        if response.status_code >= 400 and response.status_code != 404:
            raise MockStartError(f"mock reset failed: {response.status_code} {response.text[:200]}")

    def journal(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The requests this account made, oldest first (as recorded by the stateful mock)."""
        params = {"limit": str(limit)} if limit else None
        response = self.request("GET", f"{ADMIN}/journal", params=params)
        response.raise_for_status()
        body = response.json()
        return list(body.get("requests", [])) if isinstance(body, dict) else []

    def clear_journal(self) -> None:
        self.request("DELETE", f"{ADMIN}/journal")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _wait_until_answering(mock: MockProcess, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    last: str = ""
    while time.monotonic() < deadline:
        if mock.process is not None and mock.process.poll() is not None:
            raise MockStartError(f"kdk mock exited with {mock.process.returncode}:\n{mock.output()[-2000:]}")
        try:
            # Any answer (even an error envelope) means the server is up.
            httpx.get(mock.base_url + "/openapi.json", timeout=2)
            return
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.05)
    mock.stop()
    raise MockStartError(f"kdk mock did not answer within {timeout:.0f}s ({last})")


@contextlib.contextmanager
def running_mock(
    *,
    state: str | None = "memory",
    extra_args: Sequence[str] = (),
    api_key: str = DEFAULT_API_KEY,
    start_timeout: float = 60.0,
) -> Iterator[MockProcess]:
    """Start `kdk mock` (stateful in memory by default) on a free port; stop it on exit."""
    port = free_port()
    admin_token = secrets.token_hex(16)
    args = [sys.executable, "-c", "from kdk.cli import main; main()", "mock", "--port", str(port)]
    args += ["--state", state] if state else ["--stateless"]
    args += list(extra_args)
    with tempfile.TemporaryFile() as log:
        env = {**os.environ, ADMIN_TOKEN_ENV: admin_token}  # in the environment: argv is visible to every user
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent)
        mock = MockProcess(
            base_url=f"http://127.0.0.1:{port}", api_key=api_key, admin_token=admin_token, process=process, log=log
        )
        try:
            _wait_until_answering(mock, start_timeout)
            mock.revision = _served_revision(mock)
            yield mock
        finally:
            mock.stop()


def _die_with_parent() -> None:
    """Linux: the mock gets SIGTERM when the test process dies (a killed pytest leaves no server behind)."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _served_revision(mock: MockProcess) -> str:
    import httpx

    try:
        info = httpx.get(mock.base_url + "/openapi.json", timeout=10).json().get("info", {})
        return str(info.get("version", ""))
    except (httpx.HTTPError, ValueError):
        return ""
