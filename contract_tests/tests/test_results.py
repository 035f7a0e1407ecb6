from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from contract_tests._results import CheckFailure, ContractResult


def _result() -> ContractResult:
    result = ContractResult(target="mock", profile="default", checks=["not_a_server_error", "ignored_auth"])
    result.operations = ["get_a", "get_b"]
    result.count("get_a", "not_a_server_error", failed=False)
    result.count("get_a", "ignored_auth", failed=True)
    result.count("get_b", "not_a_server_error", failed=False)
    failure = CheckFailure(
        operation="get_a",
        check="ignored_auth",
        phase="fuzzing",
        title="API accepts requests without authentication",
        message="Expected 401, got 200",
        curl="curl -X GET http://127.0.0.1:4010/api/a",
    )
    result.add_failure(failure)
    result.add_failure(failure)  # the same failure from another case is reported once
    return result


def test_summary_lists_checks_and_failures_with_curl() -> None:
    text = _result().summary()
    assert "2/2 operations tested" in text
    assert "ignored_auth" in text and "failures (1):" in text
    assert "curl -X GET http://127.0.0.1:4010/api/a" in text


def test_ok_only_without_failures_and_errors() -> None:
    result = _result()
    assert not result.ok
    clean = ContractResult(target="mock", profile="default", checks=[])
    assert clean.ok
    clean.errors.append("boom")
    assert not clean.ok


def test_junit_has_a_testcase_per_operation_and_check(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    _result().write_junit(path)
    suite = ET.parse(path).getroot()
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failed] == [("get_a", "ignored_auth")]
    assert "curl -X GET" in (failed[0].find("failure").text or "")  # type: ignore[union-attr]
