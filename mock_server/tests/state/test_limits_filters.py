"""Filters are bounded before they cost anything: length, nesting and terms (`state/_filters.py`). A filter past
a bound is a 400 naming the bound; the longest shapes a client sends (100 ids in `any`) still pass."""

from __future__ import annotations

import httpx
import pytest

from mock_server.state._filters import (
    MAX_FILTER_DEPTH,
    MAX_FILTER_LENGTH,
    MAX_FILTER_TERMS,
    FilterError,
    parse_filter,
)
from mock_server.tests._hostile import FILTER_ABUSE

from .conftest import API_KEY


def test_a_filter_longer_than_the_bound_is_refused_before_parsing() -> None:
    with pytest.raises(FilterError, match=f"longer than {MAX_FILTER_LENGTH:,} characters"):
        parse_filter("equals(email,'" + "a" * MAX_FILTER_LENGTH + "')")


def test_the_longest_usual_filters_pass() -> None:
    ids = ",".join(f"'01J{n:023d}'" for n in range(MAX_FILTER_TERMS - 1))
    assert len(f"any(id,[{ids}])") < MAX_FILTER_LENGTH
    assert parse_filter(f"any(id,[{ids}])").op == "any"
    nested = "and(" * (MAX_FILTER_DEPTH - 1) + "equals(email,'a')" + ")" * (MAX_FILTER_DEPTH - 1)
    assert parse_filter(nested).op == "and"


@pytest.mark.parametrize("expression", list(FILTER_ABUSE.values()), ids=list(FILTER_ABUSE))
async def test_abusive_filters_are_a_400_naming_the_bound(client: httpx.AsyncClient, expression: str) -> None:
    answer = await client.get("/api/profiles", params={"filter": expression}, headers=API_KEY)
    assert answer.status_code == 400, answer.text[:300]
    (error,) = answer.json()["errors"]
    assert error["source"] == {"parameter": "filter"}
    assert any(word in error["detail"] for word in ("longer than", "nested more than", "more than", "not a valid"))
