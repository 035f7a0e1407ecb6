"""`_HeadWithBody`: a response's status line and headers leave with its body, in one write."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from mock_server._http import _HeadWithBody


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def writelines(self, parts: list[bytes]) -> None:
        self.writes.append(b"".join(parts))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def _pair() -> tuple[_Transport, Any, _HeadWithBody]:
    transport, cycle = _Transport(), SimpleNamespace(response_started=False)
    return transport, cycle, _HeadWithBody(transport, cycle)


def test_head_and_body_leave_in_one_write_and_continue_goes_first() -> None:
    transport, cycle, held = _pair()
    held.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response starts: written at once
    cycle.response_started = True
    held.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    held.write(b"{}")
    held.write(b"more")  # later writes (chunks) go straight through
    held.flush()
    assert transport.writes[1:] == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", b"more"]
    assert not held.is_closing()


def test_a_head_without_body_is_written_on_flush_or_close() -> None:
    transport, cycle, held = _pair()
    cycle.response_started = True
    held.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    held.flush()
    assert transport.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]
    transport, cycle, held = _pair()
    cycle.response_started = True
    held.write(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
    held.close()
    assert transport.writes == [b"HTTP/1.1 500 Internal Server Error\r\n\r\n"] and transport.closed
