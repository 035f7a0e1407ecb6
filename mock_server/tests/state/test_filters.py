"""The filter grammar on its own: parsing every operator and value kind, evaluation, allow-lists."""

from __future__ import annotations

import datetime as dt

import pytest

from mock_server.state._filters import FilterError, Node, check_allowed, evaluate, parse_filter
from mock_server.state._index import FieldFilter

RESOURCE = {
    "id": "abc",
    "attributes": {
        "email": "sarah.mason@klaviyo-demo.com",
        "count": 5,
        "score": 2.5,
        "vip": True,
        "nickname": None,
        "tags": ["a", "b"],
        "created": "2024-03-01T12:00:00+00:00",
        "location": {"city": "Boston"},
    },
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("equals(email,'sarah.mason@klaviyo-demo.com')", True),
        ('equals(email,"nobody@example.com")', False),
        ("equals(count,5)", True),
        ("equals(score,2.5)", True),
        ("equals(vip,true)", True),
        ("equals(vip,false)", False),
        ("equals(nickname,null)", True),
        ("equals(location.city,'Boston')", True),
        ("any(id,['x','abc'])", True),
        ("any(id,['x','y'])", False),
        ("equals(id,['x','abc'])", True),
        ("contains(email,'mason')", True),
        ("contains(tags,'b')", True),
        ("contains-any(tags,['z','a'])", True),
        ("contains-all(tags,['a','b'])", True),
        ("contains-all(tags,['a','z'])", False),
        ("starts-with(email,'sarah')", True),
        ("ends-with(email,'.com')", True),
        ("greater-than(count,4)", True),
        ("greater-or-equal(count,5)", True),
        ("less-than(count,5)", False),
        ("less-or-equal(score,2.5)", True),
        ("greater-than(created,2024-01-01T00:00:00Z)", True),
        ("less-than(created,2024-01-01T00:00:00+00:00)", False),
        ("greater-than(created,2024-01-01T00:00:00 00:00)", True),  # '+' decoded as space
        ("greater-than(created,2024-02-28)", True),
        ("has(email)", True),
        ("has(nickname)", False),
        ("not(equals(count,5))", False),
        ("and(equals(count,5),equals(vip,true))", True),
        ("or(equals(count,1),equals(vip,true))", True),
        ("equals(count,5),equals(vip,false)", False),  # top-level comma is `and`
        ("or(and(equals(count,5),not(has(nickname))),equals(id,'zzz'))", True),
    ],
)
def test_parse_and_evaluate(expression: str, expected: bool) -> None:
    assert evaluate(parse_filter(expression), RESOURCE) is expected


def test_values_are_typed() -> None:
    node = parse_filter("any(x,[1, 2.5, true, null, 'a', 2024-01-01T00:00:00Z])")
    assert node.value == [1, 2.5, True, None, "a", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)]


@pytest.mark.parametrize(
    "bad", ["equals(email,", "equals(email 'x')", "nope(email,'x')", "equals(email,bare)", "", "equals(a,'x'))"]
)
def test_malformed(bad: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(bad)


def test_allow_list() -> None:
    allowed = {"email": FieldFilter(frozenset({"equals"}), frozenset({"any", "equals"}))}
    assert check_allowed(parse_filter("equals(email,'x')"), allowed) is None
    assert check_allowed(parse_filter("any(email,['x'])"), allowed) is None
    assert "needs a list" in (check_allowed(parse_filter("any(email,'x')"), allowed) or "")
    assert "operator" in (check_allowed(parse_filter("contains(email,'x')"), allowed) or "")
    assert "field" in (check_allowed(parse_filter("or(equals(email,'x'),equals(name,'y'))"), allowed) or "")
    assert isinstance(parse_filter("has(email)"), Node)
