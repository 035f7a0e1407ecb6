"""The positive_data_acceptance exclusions that read the mock's 400 (its error pointer) cover only their case:
a member the request leaves unfilled, a nested resource id with a control character, a series timeframe longer
than its interval allows. A refusal pointing anywhere else stays a failure."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from contract_tests.exclusions import is_excluded_failure

REFUSED = type("RejectedPositiveData", (), {"status_code": 400})()


def _answer(pointer: str, detail: str = "Invalid input.") -> Any:
    body = {"errors": [{"status": 400, "detail": detail, "source": {"pointer": pointer}}]}
    return SimpleNamespace(json=lambda: body)


def _case(attributes: dict[str, Any]) -> Any:
    return SimpleNamespace(body={"data": {"type": "profile-subscription-bulk-create-job", "attributes": attributes}})


def test_a_refusal_naming_an_unfilled_member_is_excluded() -> None:
    pointer = "/data/attributes/profiles"
    for unfilled in ({}, {"profiles": {"data": []}}, {"profiles": {"data": [{"attributes": {}}]}}):
        assert is_excluded_failure(REFUSED, _case(unfilled), "", response=_answer(pointer)), unfilled
    filled = _case({"profiles": {"data": [{"attributes": {"email": "a@b.co"}}]}})
    assert not is_excluded_failure(REFUSED, filled, "", response=_answer(pointer))
    assert not is_excluded_failure(REFUSED, _case({}), "", response=_answer("/data/attributes/list/data/id"))
    assert not is_excluded_failure(REFUSED, _case({}), "", response=None)


def test_a_control_character_in_a_nested_resource_object_is_excluded() -> None:
    item = {"type": "catalog-variant", "attributes": {"external_id": "x\x07"}}
    nested = SimpleNamespace(body={"data": {"type": "job", "attributes": {"variants": {"data": [item]}}}})
    assert is_excluded_failure(REFUSED, nested, "")
    item["attributes"]["external_id"] = "x"
    assert not is_excluded_failure(REFUSED, nested, "")


def test_only_the_interval_limit_of_a_series_timeframe_is_excluded() -> None:
    series = SimpleNamespace(body={"data": {"attributes": {"interval": "monthly", "timeframe": {"key": "last_year"}}}})
    too_long = _answer("/data/attributes/timeframe", "With `monthly` the timeframe cannot be longer than 364 days.")
    assert is_excluded_failure(REFUSED, series, "", response=too_long)
    other = _answer("/data/attributes/timeframe", "The timeframe's end is before its start.")
    assert not is_excluded_failure(REFUSED, series, "", response=other)


def test_only_a_url_member_that_is_not_a_url_is_excluded() -> None:
    def image(url: str) -> Any:
        return SimpleNamespace(body={"data": {"type": "image", "attributes": {"import_from_url": url}}})

    answer = _answer("/data/attributes/import_from_url")
    assert is_excluded_failure(REFUSED, image("not a url"), "", response=answer)
    assert not is_excluded_failure(REFUSED, image("https://example.com/a.png"), "", response=answer)
    assert not is_excluded_failure(REFUSED, image("data:image/png;base64,AAAA"), "", response=answer)


def test_a_domain_rule_refusal_is_excluded_and_a_schema_refusal_is_not() -> None:
    case = _case({"profiles": {"data": [{"attributes": {"email": "a@b.co"}}]}})
    domain = SimpleNamespace(headers={"x-kdk-mock-rule": ["domain"]}, json=lambda: {"errors": []})
    schema = SimpleNamespace(headers={}, json=lambda: {"errors": []})
    assert is_excluded_failure(REFUSED, case, "", response=domain)
    assert not is_excluded_failure(REFUSED, case, "", response=schema)
