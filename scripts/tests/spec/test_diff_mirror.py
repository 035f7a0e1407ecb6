"""The diff on Klaviyo's real revisions from the mirror (2026-01-15 -> 2026-04-15 -> 2026-07-15, and beta)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kdk.spec.diff import DiffReport, Severity, SpecSide, diff_specs, load_side

from ._diff_helpers import resolve_resolved_pointer

pytestmark = pytest.mark.mirror

REFS = ("2026-01-15", "2026-04-15", "2026-07-15")


@pytest.fixture(scope="module")
def sides(mirror: Path) -> dict[str, SpecSide]:
    return {ref: load_side(str(mirror / ref / "openapi" / "stable.json")) for ref in REFS}


def _diff(sides: dict[str, SpecSide], old: str, new: str) -> DiffReport:
    return diff_specs(sides[old].spec, sides[new].spec, old_label=old, new_label=new)


def test_a_revision_diffed_with_itself_is_empty(sides: dict[str, SpecSide], mirror: Path) -> None:
    ref = "2026-07-15"
    again = load_side(str(mirror / ref / "openapi" / "stable.json"))  # separate objects: no identity shortcut
    assert diff_specs(sides[ref].spec, again.spec).changes == []


def test_beta_main_is_the_2026_07_15_pre(mirror: Path) -> None:
    pre = load_side(str(mirror / "2026-07-15.pre" / "openapi" / "beta.json"))
    main = load_side(str(mirror / "main" / "openapi" / "beta.json"))
    report = diff_specs(pre.spec, main.spec)
    assert report.changes == [] and report.old_operations == 148


def test_april_to_july(sides: dict[str, SpecSide]) -> None:
    report = _diff(sides, "2026-04-15", "2026-07-15")
    assert (report.old_operations, report.new_operations) == (309, 345)
    added = {c.operation_id for c in report.changes if c.rule == "endpoint-added"}
    assert len(added) == 36
    assert {"get_object_record", "create_object_schema", "bulk_delete_object_records"} <= added
    # `include=conversation` became `include=conversations` on the profile endpoints.
    removed = {(c.operation_id, c.message) for c in report.changes if c.rule == "request-parameter-enum-value-removed"}
    assert ("get_profiles", "removed the enum value conversation from the query request parameter include") in removed
    assert not any(c.rule == "api-removed-without-deprecation" for c in report.changes)


def test_january_to_april(sides: dict[str, SpecSide]) -> None:
    report = _diff(sides, "2026-01-15", "2026-04-15")
    added = {c.operation_id for c in report.changes if c.rule == "endpoint-added"}
    assert added == {
        "create_conversation_message",
        "delete_flow_action",
        "get_conversation_for_profile",
        "get_conversation_id_for_profile",
        "get_client_geofences",
    }
    # delete/update tag group answer 204 instead of 200 since 2026-04-15.
    status = {(c.operation_id, c.rule) for c in report.changes if c.rule.startswith("response-success-status")}
    assert ("delete_tag_group", "response-success-status-removed") in status
    assert ("delete_tag_group", "response-success-status-added") in status
    lowered = {c.operation_id for c in report.changes if c.rule == "api-ratelimit-decreased"}
    assert "get_bulk_create_catalog_items_jobs" in lowered
    assert report.meets(Severity.BREAKING)


def test_backwards_mirrors_forwards(sides: dict[str, SpecSide]) -> None:
    forward = _diff(sides, "2026-04-15", "2026-07-15")
    backward = _diff(sides, "2026-07-15", "2026-04-15")
    added = Counter(c.rule for c in forward.changes)["endpoint-added"]
    assert Counter(c.rule for c in backward.changes)["api-removed-without-deprecation"] == added
    assert len(forward.changes) == len(backward.changes)


def test_pointers_resolve_on_real_specs(sides: dict[str, SpecSide]) -> None:
    report = _diff(sides, "2026-01-15", "2026-04-15")
    old, new = sides["2026-01-15"].spec, sides["2026-04-15"].spec
    for change in report.changes[::7]:  # a sample across every rule keeps this quick
        if change.old_pointer:
            resolve_resolved_pointer(old, change.old_pointer)
        if change.new_pointer:
            resolve_resolved_pointer(new, change.new_pointer)
