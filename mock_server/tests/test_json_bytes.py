"""An answer's JSON: orjson where it can, the stdlib where orjson refuses; always valid JSON that reads back equal."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from mock_server._core import json_bytes


@pytest.mark.parametrize(
    "value",
    [
        {"data": {"type": "profile", "id": "01J", "attributes": {"email": "a@example.com", "n": 1.5, "ok": True}}},
        {"text": "Grüße, 東京 ✓"},  # non-ASCII: UTF-8 on the wire, as the stateless answers send it
        {"big": 2**70, "small": -(2**70)},  # past 64 bits: orjson refuses, the stdlib writes it
        {1: "non-string key"},  # orjson refuses; the stdlib writes the key as text
        {"surrogate": "\ud800"},  # a lone surrogate: orjson refuses, the stdlib escapes it
        [],
        None,
    ],
)
def test_reads_back_as_the_stdlib_reads_it(value: Any) -> None:
    encoded = json_bytes(value)
    assert json.loads(encoded) == json.loads(json.dumps(value))


def test_non_ascii_is_utf8_not_escaped() -> None:
    assert json_bytes({"t": "é"}) == '{"t":"é"}'.encode()


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_a_non_finite_float_is_null_so_the_answer_stays_json(number: float) -> None:
    assert json.loads(json_bytes({"sum": number})) == {"sum": None}


def test_a_non_finite_float_is_null_where_orjson_refuses_the_rest_too() -> None:
    assert json.loads(json_bytes({1: [math.inf, {"n": math.nan}], "big": 2**70})) == {
        "1": [None, {"n": None}],
        "big": 2**70,
    }
