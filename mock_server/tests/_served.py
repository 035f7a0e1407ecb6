"""A real `kdk mock` process for tests that need one over HTTP (hostile input, kill -9)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["Served", "free_port", "raw_exchange", "read_answer", "served_mock", "start_mock"]


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    base_url: str
    api_key: str
    process: subprocess.Popen[bytes]
    revision: str = ""
    log: Any = field(default=None, repr=False)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.base_url.removeprefix("http://").split(":")
        return host, int(port)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {
            "Authorization": f"Klaviyo-API-Key {self.api_key}",
            "revision": self.revision,
            "Accept": "application/vnd.api+json",
            **(kwargs.pop("headers", None) or {}),
        }
        kwargs.setdefault("timeout", 30)
        return httpx.request(method, self.base_url + path, headers=headers, **kwargs)

    def output(self) -> str:
        if self.log is None:
            return ""
        self.log.seek(0)
        return str(self.log.read().decode(errors="replace"))

    def kill(self) -> None:
        """SIGKILL the whole process group (uvicorn's workers too): nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_mock(args: Sequence[str], api_key: str, *, timeout: float = 90) -> Served:
    """`kdk mock --port <free> ARGS` in its own process group, once it answers."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the test process exit; read on failure)
    command = [sys.executable, "-c", "from kdk.cli import main; main()", "mock", "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    served = Served(f"http://127.0.0.1:{port}", api_key, process, log=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kdk mock exited with {process.returncode}:\n{served.output()[-2000:]}")
        try:
            info = httpx.get(served.base_url + "/openapi.json", timeout=5).json().get("info", {})
            served.revision = str(info.get("version", ""))
            return served
        except (httpx.HTTPError, ValueError):
            time.sleep(0.1)
    served.stop()
    raise RuntimeError(f"kdk mock did not answer within {timeout:.0f}s:\n{served.output()[-2000:]}")


@contextlib.contextmanager
def served_mock(args: Sequence[str], api_key: str) -> Iterator[Served]:
    served = start_mock(args, api_key)
    try:
        yield served
    finally:
        served.stop()


def raw_exchange(mock: Served, raw: bytes, timeout: float = 20) -> tuple[int, bytes]:
    """Send `raw` on a fresh connection; the status and body of the answer (0 when the server just closed)."""
    with socket.create_connection(mock.address, timeout=timeout) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(raw)
        return read_answer(sock)


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(v)
                for k, _, v in (line.partition(b":") for line in head.split(b"\r\n"))
                if k.lower() == b"content-length"
            ),
            0,
        )
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    if not data.startswith(b"HTTP/1.1 "):
        return 0, b""
    return int(data[9:12]), body
