"""bench_mock's lean client reads each answer whole, however the server's bytes are split, and sends what
http.client would send for a create (so both clients' figures measure the same request)."""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_mock import LeanClient, create_request


def _serve(listener: socket.socket, answers: list[list[bytes]], seen: list[bytes]) -> None:
    conn, _ = listener.accept()
    with conn:
        for chunks in answers:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            )
            while len(body) < length:
                body += conn.recv(65536)
            seen.append(head + b"\r\n\r\n" + body)
            for chunk in chunks:
                conn.sendall(chunk)


def test_answers_split_anywhere_are_read_whole_one_after_another() -> None:
    first = b'{"data":{"type":"profile","id":"P1"}}'
    second = b'{"errors":[{"status":"409"}]}'
    answer_one = (
        b"HTTP/1.1 201 Created\r\nContent-Type: application/vnd.api+json\r\ncontent-length: %d\r\n\r\n" % len(first)
        + first
    )
    answer_two = b"HTTP/1.1 409 Conflict\r\nCONTENT-LENGTH: %d\r\n\r\n" % len(second) + second
    answers = [
        [answer_one[:10], answer_one[10:60], answer_one[60:]],  # split inside the head and the body
        [answer_two],
    ]
    seen: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        server = threading.Thread(target=_serve, args=(listener, answers, seen), daemon=True)
        server.start()
        client = LeanClient(port, timeout=10)
        try:
            assert client.round_trip(create_request(port, "a@example.com")) == (201, first)
            assert client.round_trip(create_request(port, "b@example.com", key="pk_other")) == (409, second)
        finally:
            client.close()
        server.join(10)
    head, _, body = seen[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/profiles HTTP/1.1\r\n")
    assert json.loads(body) == {"data": {"type": "profile", "attributes": {"email": "a@example.com"}}}
    assert b"\r\nAuthorization: Klaviyo-API-Key pk_other\r\n" in seen[1]
    assert b"\r\ncontent-type: application/vnd.api+json" in head
