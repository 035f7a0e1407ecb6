"""The hostile HTTP cases, one table each: used by test_hostile_http.py and scripts/bench_reliability.py."""

from __future__ import annotations

__all__ = ["FILTER_ABUSE", "HOSTILE_BODIES", "MALFORMED_HTTP", "ODD_BYTES", "PAGE_SIZES"]

# name -> raw bytes sent as a whole request
MALFORMED_HTTP: dict[str, bytes] = {
    "binary": b"\x00\x01\x02garbage\r\n\r\n",
    "bad-version": b"GET / HTTP/9.9\r\n\r\n",
    "no-colon": b"GET /api/profiles HTTP/1.1\r\nHost x\r\n\r\n",
    "two-lengths": b"GET /api/profiles HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
    "bad-chunk": b"POST /api/profiles HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
}

# name -> (request target as latin-1 text, extra header lines)
ODD_BYTES: dict[str, tuple[str, bytes]] = {
    "nul-path": ("/api/profiles/%00abc", b""),
    "bytes-path": ("/api/profiles/\xff\xfe", b""),
    "nul-query": ("/api/profiles?filter=equals(email,'%00')", b""),
    "bytes-query": ("/api/profiles?filter=equals(email,'\xff')", b""),
    "bytes-cursor": ("/api/profiles?page%5Bcursor%5D=%ff%fe%00", b""),
    "bytes-header": ("/api/profiles", b"X-Odd: \xff\xfe\x80\r\n"),
    "nul-header": ("/api/profiles", b"revision: 2026-07-15\x00\r\n"),
}

# name -> a POST /api/profiles body
HOSTILE_BODIES: dict[str, bytes] = {
    "100k-deep": b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "huge-array": b'{"data":{"type":"profile","attributes":{"email":"a@example.com","properties":{"x":['
    + b",".join([b"1"] * 200_000)
    + b"]}}}}",
    "duplicate-keys": b'{"data":{"type":"profile","type":"list","attributes":{"email":"dup@example.com","email":7}}}',
}

PAGE_SIZES = ("0", "-1", "101", "99999999999999999999999", "1e9", "abc")

# name -> a `filter` for GET /api/profiles (each under the header cap: a longer URL is a 431)
FILTER_ABUSE: dict[str, str] = {
    "deep-and": "and(" * 1500 + "equals(email,'a')" + ")" * 1500,
    "deep-not": "not(" * 1500 + "equals(email,'a')" + ")" * 1500,
    "long-string": "equals(email,'" + "a" * 20_000 + "')",
    "long-list": "any(email,[" + ",".join(["'a'"] * 1500) + "])",
    "pattern-chars": "contains(email,'" + "%" * 5000 + "')",
    "wide-or": "or(" + ",".join(["equals(email,'a')"] * 600) + ")",
}
