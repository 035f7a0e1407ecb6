"""HTTP/1.1 connection limits uvicorn's httptools protocol lacks: what keeps one mock serving many clients.

uvicorn bounds nothing before the app sees a request: a client may take forever to send its headers
(slowloris), send megabytes of them, or trickle a body; each such connection holds a file descriptor, and
~1,000 of them lock every other client out. This protocol adds, per connection:

- a header deadline (`header_timeout`): the request line and headers must arrive within it, counted from the
  connection (or the end of the previous response); otherwise 408 and close;
- a header size cap (`max_header_bytes`): past it, 431 and close, without buffering the rest;
- a body idle timeout (`body_timeout`): a body that stops arriving (while the app waits for it) is cut off;
- a connection cap (`max_connections`): past it, the connection that has waited longest for its headers is
  closed to make room, so idle half-open connections cannot starve clients that talk.

Errors are Klaviyo-style JSON:API envelopes. The limits come from `kdk mock` options through the environment
(`configure`), so `--workers N` processes read the same ones.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, cast

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ._errors import error_object
from ._limits import HttpLimits

__all__ = ["HttpLimits", "LimitedHttpToolsProtocol", "configure", "raise_open_files_limit"]

_ENV = "KDK_MOCK_HTTP_LIMITS"
_PROTOCOL_PATH = "mock_server._http:LimitedHttpToolsProtocol"


def configure(limits: HttpLimits) -> str:
    """Make `limits` the ones every (worker) process applies; returns uvicorn's `http=` import path."""
    os.environ[_ENV] = json.dumps(asdict(limits))
    LimitedHttpToolsProtocol.limits = limits
    return _PROTOCOL_PATH


def _limits_from_environment() -> HttpLimits:
    try:
        return HttpLimits(**json.loads(os.environ.get(_ENV) or "{}"))
    except (TypeError, ValueError):
        return HttpLimits()


def raise_open_files_limit() -> int:
    """Raise this process' soft open-files limit to the hard one (many clients need many descriptors)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return soft


class _HeadersTooLargeError(Exception):
    pass


def _error_bytes(status: int, reason: str, detail: str) -> bytes:
    code = reason.lower().replace(" ", "_")
    body = json.dumps({"errors": [error_object(status, detail, code=code, title=f"{reason}.")]}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/vnd.api+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


# uvicorn's callbacks that run for every request (every header), called as plain functions: `super()` builds a
# proxy object per call.
_Uvicorn = HttpToolsProtocol


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above (see the module docstring)."""

    limits: HttpLimits = _limits_from_environment()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_connections = self.limits.resolved_max_connections()
        self._awaiting_headers = True
        self._waiting_since = time.monotonic()
        self._header_bytes = 0
        self._max_header_bytes = self.limits.max_header_bytes
        self._header_timer = _Deadline(self.loop, self._header_deadline)
        self._body_timer = _Deadline(self.loop, self._body_deadline)

    # -- connection lifecycle
    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._await_headers()
        if len(self.connections) > self._max_connections:
            self._evict_one()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._awaiting_headers:
            self._header_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadersTooLargeError):
                self._refuse(431, "Request Header Fields Too Large", self._too_large_detail())
            else:
                self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserError:
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._awaiting_headers and self._header_bytes > self.limits.max_header_bytes:
            self._refuse(431, "Request Header Fields Too Large", self._too_large_detail())

    # -- parser callbacks
    def on_message_begin(self) -> None:
        _Uvicorn.on_message_begin(self)
        self._header_bytes = 0

    # (the count inline, not in a helper: these run for every header of every request)
    def on_url(self, url: bytes) -> None:
        self._header_bytes += len(url)
        if self._header_bytes > self._max_header_bytes:
            raise _HeadersTooLargeError
        _Uvicorn.on_url(self, url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self._max_header_bytes:
            raise _HeadersTooLargeError
        _Uvicorn.on_header(self, name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._header_timer.clear()
        _Uvicorn.on_headers_complete(self)
        if self.cycle is not None:
            self.cycle.transport = cast(Any, _HeadWithBody(self.transport, self.cycle))
        self._arm_body_timer()

    def on_body(self, body: bytes) -> None:
        _Uvicorn.on_body(self, body)
        self._arm_body_timer()

    def on_message_complete(self) -> None:
        self._body_timer.clear()
        _Uvicorn.on_message_complete(self)

    def on_response_complete(self) -> None:
        transport = self.cycle.transport if self.cycle is not None else None
        if isinstance(transport, _HeadWithBody):
            transport.flush()  # a response without a body (HEAD, 204): its head alone
        _Uvicorn.on_response_complete(self)
        if not self.transport.is_closing():
            self._await_headers()

    # -- the limits
    def _too_large_detail(self) -> str:
        return f"The request line and headers are larger than {self.limits.max_header_bytes} bytes."

    def _await_headers(self) -> None:
        self._awaiting_headers = True
        self._waiting_since = time.monotonic()
        self._header_bytes = 0
        self._header_timer.set(self.limits.header_timeout)

    def _header_deadline(self) -> None:
        if self.transport.is_closing() or not self._awaiting_headers:
            return
        if self._header_bytes:
            detail = f"The request headers did not arrive within {self.limits.header_timeout:g} seconds."
            self._refuse(408, "Request Timeout", detail)
        else:
            self.transport.close()  # an idle connection: nothing to answer

    def _arm_body_timer(self) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not cycle.response_complete:
            self._body_timer.set(self.limits.body_timeout)
        else:
            self._body_timer.clear()

    def _body_deadline(self) -> None:
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None or not cycle.more_body or cycle.response_complete:
            return
        if self.flow.read_paused:  # the app is not reading: the client is not the slow one
            self._arm_body_timer()
            return
        self.transport.close()  # the app's receive() sees the disconnect

    def _evict_one(self) -> None:
        """Close the connection that has waited longest for its headers (this one if no other waits)."""
        waiting = [
            c
            for c in self.connections
            if isinstance(c, LimitedHttpToolsProtocol) and c._awaiting_headers and not c.transport.is_closing()
        ]
        if waiting:
            min(waiting, key=lambda c: c._waiting_since).transport.close()

    def _refuse(self, status: int, reason: str, detail: str) -> None:
        self._cancel_timers()
        if not self.transport.is_closing():
            self.transport.write(_error_bytes(status, reason, detail))
            self.transport.close()

    def _cancel_timers(self) -> None:
        self._header_timer.cancel()
        self._body_timer.cancel()


class _Deadline:
    """A deadline moved far more often than it passes (every request, every body chunk): moving it only notes
    the time; the loop's timer is scheduled anew only when it would ring too late, and a timer that rings
    before a deadline moved later waits on for it. `callback` runs once the noted time has passed."""

    __slots__ = ("_at", "_callback", "_handle", "_handle_at", "_loop")

    def __init__(self, loop: Any, callback: Callable[[], None]) -> None:
        self._loop = loop
        self._callback = callback
        self._at: float | None = None  # the deadline (None: none)
        self._handle: Any = None  # the loop's timer, ringing at `_handle_at`
        self._handle_at = 0.0

    def set(self, delay: float) -> None:
        at = self._at = self._loop.time() + delay
        if self._handle is None or self._handle_at > at:
            if self._handle is not None:
                self._handle.cancel()
            self._handle, self._handle_at = self._loop.call_at(at, self._ring), at

    def clear(self) -> None:
        self._at = None  # (a timer still set rings for nothing)

    def cancel(self) -> None:
        """No deadline, and no timer left in the loop (the connection is gone)."""
        self._at = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _ring(self) -> None:
        self._handle = None
        at = self._at
        if at is None:
            return
        if at > self._handle_at:  # moved later meanwhile
            self._handle, self._handle_at = self._loop.call_at(at, self._ring), at
            return
        self._at = None
        self._callback()


class _HeadWithBody:
    """The transport as one response cycle writes to it: the status line and headers are held until the first
    body write and leave with it (`writelines`: one system call, one TCP segment for a small answer, one wakeup
    of a client waiting for it, where uvicorn writes the head and the body apart). Whatever else passes through:
    a `100 Continue` goes before the response starts, a response that never writes a body has its head
    written when it completes or its connection closes."""

    __slots__ = ("_cycle", "_head", "_head_seen", "_transport")

    def __init__(self, transport: Any, cycle: Any) -> None:
        self._transport = transport
        self._cycle = cycle
        self._head: bytes | None = None
        self._head_seen = False

    def write(self, data: bytes) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.writelines([head, data])
        elif not self._head_seen and self._cycle.response_started:
            self._head_seen = True  # the response's first write is its status line and headers
            self._head = data
        else:
            self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:  # (asked on every response: not through `__getattr__`)
        return bool(self._transport.is_closing())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
