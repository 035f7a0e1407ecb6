"""The positive_data_acceptance exclusion for client-chosen ids with control characters covers only that case
(the mock side is tested in mock_server/tests/state/test_admin_hostile_ids.py)."""

from __future__ import annotations

from types import SimpleNamespace

from contract_tests.exclusions import is_excluded_failure


def test_the_contract_exclusion_covers_only_this_case() -> None:
    refused = type("RejectedPositiveData", (), {"status_code": 400})()
    with_nul = SimpleNamespace(body={"data": {"type": "coupon", "attributes": {"external_id": "a\x00"}}})
    clean = SimpleNamespace(body={"data": {"type": "coupon", "attributes": {"external_id": "a"}}})
    assert is_excluded_failure(refused, with_nul, "")
    assert not is_excluded_failure(refused, clean, "")
    other_status = type("RejectedPositiveData", (), {"status_code": 422})()
    assert not is_excluded_failure(other_status, with_nul, "")
