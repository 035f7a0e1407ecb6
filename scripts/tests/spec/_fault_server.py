"""A local HTTP server for fetch tests: serves a mirror-like tree (`<ref>/openapi/<channel>.json`) on
127.0.0.1 and misbehaves on request, one planned fault per request, so tests can prove what the fetcher
does when the network refuses, stalls, truncates, corrupts or fails for a while and then recovers."""

from __future__ import annotations

import gzip
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["FAULTS", "FaultServer", "closed_port_url"]

# What a request can be answered with.
FAULTS = (
    "ok",  # the file, with Content-Length
    "gzip",  # the file gzip-encoded (Content-Length counts the compressed bytes, as GitHub serves it)
    "404",
    "403",
    "500",
    "503",
    "stall",  # accept, then say nothing until the client gives up
    "stall_body",  # headers and half the body, then nothing
    "truncate",  # headers with the full Content-Length, half the body, then close
    "not_json",  # a 200 whose body is not JSON (an HTML error page from a proxy)
    "other_bytes",  # a valid spec, but not the bytes anyone pinned
    "drip",  # headers, then one byte at a time, slowly (each byte in time for the read timeout)
    "redirect",  # 302 to `FaultServer.redirect_to` + the same path
)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        fault = owner.take_fault(self.path)
        target = (owner.root / self.path.lstrip("/")).resolve()
        if fault in ("404", "403", "500", "503"):
            self.send_error(int(fault))
            return
        if fault == "redirect":
            self.send_response(302)
            self.send_header("Location", owner.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if owner.root.resolve() not in target.parents or not target.is_file():
            self.send_error(404)
            return
        body = target.read_bytes()
        if fault == "stall":
            owner.release.wait(10)
            self.close_connection = True
            return
        if fault == "not_json":
            body = b"<html><body>rate limited</body></html>"
        elif fault == "other_bytes":
            body = body + b"\n"  # still a valid spec, different sha256
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        if fault == "gzip":
            body = gzip.compress(body)
            headers.update({"Content-Encoding": "gzip", "Content-Length": str(len(body))})
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if fault == "drip":
            for byte in body:
                if owner.release.wait(0.05):
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            self.close_connection = True
            return
        if fault in ("truncate", "stall_body"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if fault == "stall_body":
                owner.release.wait(10)
            self.close_connection = True
            return
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: FaultServer


class FaultServer:
    """Serves `root`; `plan(...)` queues faults for the next requests (then `ok`, or `default`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.default = "ok"
        self.redirect_to = ""  # base URL the `redirect` fault sends clients to
        self.requests: list[str] = []
        self.release = threading.Event()  # set on close, so stalled handlers end with the test
        self._plan: list[str] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def plan(self, *faults: str) -> None:
        assert all(f in FAULTS for f in faults), faults
        with self._lock:
            self._plan = list(faults)

    def take_fault(self, path: str) -> str:
        with self._lock:
            self.requests.append(path)
            return self._plan.pop(0) if self._plan else self.default

    def close(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
