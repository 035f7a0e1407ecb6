"""A running `kdk mock` under hostile HTTP: each case gets a 4xx (or a closed connection), never a 5xx, and a
normal request right after it is still answered. Timings and memory are measured by
scripts/bench_reliability.py, not asserted here.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ._hostile import FILTER_ABUSE, HOSTILE_BODIES, MALFORMED_HTTP, ODD_BYTES, PAGE_SIZES
from ._served import Served, raw_exchange, read_answer, served_mock

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KEY = "pk_hostile_http_000000000000000"


@pytest.fixture(scope="module")
def mock() -> Iterator[Served]:
    args = ["--header-timeout", "1", "--body-timeout", "1", "--max-connections", "300"]
    args += ["--max-body-bytes", str(1024 * 1024)]
    with served_mock(args, KEY) as running:
        yield running


def _head(mock: Served, target: str = "/api/profiles") -> bytes:
    return (
        f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Klaviyo-API-Key {KEY}\r\n"
        f"revision: {mock.revision}\r\nAccept: application/vnd.api+json\r\n"
    ).encode()


def _still_answers(mock: Served) -> None:
    response = mock.request("GET", "/api/profiles")
    assert response.status_code == 200, response.text[:300]


def _server_ends(sock: socket.socket) -> bool:
    """Whether the server answers or closes the connection (rather than the client timing out first)."""
    try:
        while chunk := sock.recv(65536):
            if chunk.startswith(b"HTTP/1.1 "):
                return 400 <= int(chunk[9:12]) < 500
        return True
    except TimeoutError:
        return False


def _error_status(body: bytes) -> Any:
    return json.loads(body)["errors"][0]["status"]


def test_half_open_connections_do_not_lock_out_other_clients(mock: Served) -> None:
    sockets = []
    try:
        for _ in range(400):  # more than --max-connections
            sock = socket.create_connection(mock.address, timeout=10)
            sock.sendall(b"GET /api/profiles HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            sockets.append(sock)
        _still_answers(mock)
        time.sleep(1.5)  # past --header-timeout: the slow ones are answered 408 or closed
        status, body = read_answer(sockets[-1])
        assert status in (0, 408)
        if status:
            assert _error_status(body) == 408
    finally:
        for sock in sockets:
            sock.close()
    _still_answers(mock)


def test_idle_connection_is_closed_after_the_header_timeout(mock: Served) -> None:
    with socket.create_connection(mock.address, timeout=10) as sock:
        assert _server_ends(sock)
    _still_answers(mock)


def test_a_stalled_body_is_cut_off(mock: Served) -> None:
    head = (
        f"POST /api/profiles HTTP/1.1\r\nHost: x\r\nAuthorization: Klaviyo-API-Key {KEY}\r\n"
        f"revision: {mock.revision}\r\nContent-Type: application/vnd.api+json\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    with socket.create_connection(mock.address, timeout=20) as sock:
        sock.sendall(head + b'{"data":')  # and then nothing: past --body-timeout the server gives up
        assert _server_ends(sock)
    _still_answers(mock)


def test_64_kb_of_headers_is_431(mock: Served) -> None:
    status, body = raw_exchange(mock, _head(mock) + b"X-Big: " + b"a" * 65536 + b"\r\n\r\n")
    assert status == 431 and _error_status(body) == 431
    _still_answers(mock)


def test_many_headers_in_small_pieces_are_431(mock: Served) -> None:
    status, _ = raw_exchange(mock, _head(mock) + b"".join(b"X-H%d: v\r\n" % i for i in range(8000)) + b"\r\n")
    assert status == 431
    _still_answers(mock)


@pytest.mark.parametrize("size", [10 * 1024 * 1024, 100 * 1024 * 1024])
def test_oversized_declared_body_is_413_before_reading_it(mock: Served, size: int) -> None:
    head = (
        f"POST /api/profiles HTTP/1.1\r\nHost: x\r\nAuthorization: Klaviyo-API-Key {KEY}\r\n"
        f"revision: {mock.revision}\r\nContent-Type: application/vnd.api+json\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    with socket.create_connection(mock.address, timeout=20) as sock:
        sock.sendall(head + b"{" * 65536)  # a first piece only: the answer must not wait for the rest
        status, body = read_answer(sock)
    assert status == 413 and _error_status(body) == 413
    _still_answers(mock)


def test_oversized_chunked_body_is_413(mock: Served) -> None:
    head = (
        f"POST /api/profiles HTTP/1.1\r\nHost: x\r\nAuthorization: Klaviyo-API-Key {KEY}\r\n"
        f"revision: {mock.revision}\r\nContent-Type: application/vnd.api+json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n" % 65536 + b"a" * 65536 + b"\r\n"
    with socket.create_connection(mock.address, timeout=20) as sock:
        sock.sendall(head)
        with contextlib.suppress(OSError):
            for _ in range(40):  # 2.5 MB, past the 1 MB cap of this mock
                sock.sendall(chunk)
        status, _ = read_answer(sock)
    assert status in (0, 413)
    _still_answers(mock)


@pytest.mark.parametrize("raw", list(MALFORMED_HTTP.values()), ids=list(MALFORMED_HTTP))
def test_malformed_http_is_a_4xx(mock: Served, raw: bytes) -> None:
    status, _ = raw_exchange(mock, raw)
    assert status == 0 or 400 <= status < 500
    _still_answers(mock)


@pytest.mark.parametrize(("target", "extra"), list(ODD_BYTES.values()), ids=list(ODD_BYTES))
def test_nul_and_non_utf8_bytes_are_a_4xx(mock: Served, target: str, extra: bytes) -> None:
    raw = _head(mock, "__TARGET__").replace(b"__TARGET__", target.encode("latin-1")) + extra + b"\r\n"
    status, _ = raw_exchange(mock, raw)
    assert status == 0 or status < 500
    _still_answers(mock)


def _post(mock: Served, body: bytes) -> Any:
    headers = {"Content-Type": "application/vnd.api+json"}
    return mock.request("POST", "/api/profiles", content=body, headers=headers)


@pytest.mark.parametrize("body", list(HOSTILE_BODIES.values()), ids=list(HOSTILE_BODIES))
def test_hostile_json_bodies_are_a_4xx_or_accepted(mock: Served, body: bytes) -> None:
    response = _post(mock, body)
    assert response.status_code < 500, response.text[:300]
    _still_answers(mock)


@pytest.mark.parametrize("size", PAGE_SIZES)
def test_absurd_page_size_is_400(mock: Served, size: str) -> None:
    response = mock.request("GET", "/api/profiles", params={"page[size]": size})
    assert response.status_code == 400, response.text[:300]


@pytest.mark.parametrize("expression", list(FILTER_ABUSE.values()), ids=list(FILTER_ABUSE))
def test_filter_abuse_is_answered(mock: Served, expression: str) -> None:
    response = mock.request("GET", "/api/profiles", params={"filter": expression})
    assert response.status_code in (200, 400), response.text[:300]
    _still_answers(mock)
