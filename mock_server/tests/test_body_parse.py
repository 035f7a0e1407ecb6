"""A request body is read as the stdlib reads it (same values, same types, same errors), whichever parser reads it."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import httpx
import pytest

from mock_server._body import parse_json
from mock_server._errors import MockError

from .conftest import AUTH, JSON_API, REVISION


def _same(left: Any, right: Any) -> bool:
    """Equal values of equal types all the way down (1 == 1.0 == True would hide a float read for an int)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right) and (not isinstance(left, float) or math.copysign(1, left) == math.copysign(1, right))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"data": {"type": "profile", "attributes": {"email": "a@example.com", "n": 1.5, "ok": true, "x": null}}}',
        b'{"big": 123456789012345678901234567890, "neg": -98765432109876543210}',  # past 64 bits: still integers
        b'{"max": 9223372036854775807, "min": -9223372036854775808, "u": 18446744073709551615}',
        b'{"huge": 1e400, "tiny": 1e-400, "neg_zero": -0.0, "zero": -0}',  # overflow reads as inf, as the stdlib's
        b'{"a": 1, "a": 2, "b": [{"a": 3}]}',  # a repeated member: the last value, at the first one's place
        b'{"text": "Gr\\u00fc\\u00dfe \\ud83d\\ude00 \\u2028", "raw": "\xe6\x9d\xb1\xe4\xba\xac"}',
        b" \r\n\t[1, 2.5e3, 0.1, 5e-324]\n",
        b'{"phone": "+123456789012345678901234"}',  # a long run of digits in a string (the stdlib reads it)
    ],
)
def test_values_and_types_are_the_stdlibs(raw: bytes) -> None:
    assert _same(parse_json(raw), json.loads(raw))


@pytest.mark.parametrize(
    "raw",
    [b'{"a": 1,}', b'{"a": NaN}', b"[Infinity]", b'"tab\there"', b"[1] [2]", b"", b"01", b'{"a": 1e}', b"[1,]"],
)
def test_errors_are_worded_by_the_stdlib(raw: bytes) -> None:
    with pytest.raises(MockError) as caught:
        parse_json(raw)
    detail = caught.value.response().body["errors"][0]["detail"]  # type: ignore[index]
    if b"NaN" in raw or b"Infinity" in raw:
        assert detail.endswith("is not a JSON value")
    else:
        with pytest.raises(json.JSONDecodeError) as stdlib:
            json.loads(raw)
        assert detail == f"JSON parse error - {stdlib.value}"


def test_random_documents_read_as_the_stdlib_reads_them() -> None:
    rng = random.Random(12)

    def value(depth: int) -> Any:
        kind = rng.randrange(8 if depth < 4 else 5)
        if kind == 0:
            return rng.randint(-(10 ** rng.randint(1, 25)), 10 ** rng.randint(1, 25))
        if kind == 1:
            return rng.choice([rng.random() * 10 ** rng.randint(-320, 308), -0.0, 0.1, 1e-7, 123.456])
        if kind == 2:
            return "".join(rng.choice('ab\u00e9\u6771\U0001f600"\\/\n\t0123456789') for _ in range(rng.randint(0, 12)))
        if kind == 3:
            return rng.choice([True, False, None])
        if kind == 4:
            return rng.randint(-(2**63), 2**64 - 1)
        if kind in (5, 6):
            return {f"k{rng.randint(0, 5)}": value(depth + 1) for _ in range(rng.randint(0, 4))}
        return [value(depth + 1) for _ in range(rng.randint(0, 4))]

    for _ in range(500):
        document = value(0)
        raw = json.dumps(document, ensure_ascii=rng.random() < 0.5).encode()
        assert _same(parse_json(raw), json.loads(raw)), raw


@pytest.mark.parametrize("depth", [200, 253, 254, 300])
def test_deep_documents_read_as_the_stdlib_reads_them(depth: int) -> None:
    """Deeper than orjson's writer goes (254), the stdlib reads the body: nothing orjson read deeper reaches the
    mock's recursive code (the stdlib's own limit, "nested too deeply", stays the one that refuses)."""
    raw = b'{"data": {"attributes": {"x": ' + b"[" * depth + b"1" + b"]" * depth + b"}}}"
    assert _same(parse_json(raw), json.loads(raw))


def test_nesting_past_the_stack_is_refused() -> None:
    with pytest.raises(MockError) as caught:
        parse_json(b"[" * 1020 + b"]" * 1020)
    assert caught.value.response().body["errors"][0]["detail"] == "JSON parse error - nested too deeply."  # type: ignore[index]


async def test_a_body_nested_to_the_parsers_limit_is_a_400(client: httpx.AsyncClient) -> None:
    """Wherever the stack runs out (parsing, or validating and wording the errors of a body nested nearly as deep
    as the parser reads), the answer is a 400 with a pointer, never a 500."""
    for depth in range(900, 1060, 5):
        body = b'{"data": ' + b"[" * depth + b"]" * depth + b"}"
        headers = {**AUTH, "revision": REVISION, "content-type": JSON_API}
        response = await client.post("/api/profiles", content=body, headers=headers)
        assert response.status_code == 400, (depth, response.text[:300])
        assert response.json()["errors"][0]["source"]["pointer"]
