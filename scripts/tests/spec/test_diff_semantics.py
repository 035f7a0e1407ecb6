"""What is *not* a change (reference moves, allOf reshuffles, reordering), recursion, and rendering."""

from __future__ import annotations

import json

from kdk.spec.diff import DiffReport, Severity, diff_specs, render

from ._diff_helpers import Spec, base_spec, clone


def _rename_component(spec: Spec, old: str, new: str) -> Spec:
    text = json.dumps(spec).replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    moved: Spec = json.loads(text)
    moved["components"]["schemas"][new] = moved["components"]["schemas"].pop(old)
    return moved


def test_a_spec_diffed_with_itself_has_no_changes() -> None:
    report = diff_specs(base_spec(), base_spec())
    assert report.changes == []
    assert report.old_operations == report.new_operations == 4


def test_moving_a_schema_to_another_component_name_is_no_change() -> None:
    new = _rename_component(base_spec(), "ListAttributes", "ListAttributesV2")
    new = _rename_component(new, "Step", "FlowStep")
    assert diff_specs(base_spec(), new).changes == []


def test_inlining_a_reference_is_no_change() -> None:
    new = base_spec()
    schemas = new["components"]["schemas"]
    schemas["GetListResponse"]["properties"]["data"] = clone(schemas["ListResourceObject"])
    new["paths"]["/api/lists"]["get"]["parameters"][0] = clone(new["components"]["parameters"]["Revision"])
    assert diff_specs(base_spec(), new).changes == []


def test_moving_properties_between_allof_members_is_no_change() -> None:
    new = base_spec()
    attributes = new["components"]["schemas"]["ListCreateQuery"]["properties"]["data"]["properties"]["attributes"]
    folder = attributes["allOf"].pop(1)["properties"]["folder"]
    attributes["properties"] = {"folder": folder}
    assert diff_specs(base_spec(), new).changes == []


def test_reordering_oneof_alternatives_is_no_change() -> None:
    new = base_spec()
    new["components"]["schemas"]["GetListsResponse"]["properties"]["included"]["items"]["oneOf"].reverse()
    assert diff_specs(base_spec(), new).changes == []


def test_recursive_schema_terminates_and_reports_once_per_place() -> None:
    new = base_spec()
    new["components"]["schemas"]["Step"]["properties"]["name"]["type"] = "integer"
    report = diff_specs(base_spec(), new)
    assert {(c.rule, c.operation_id) for c in report.changes} == {
        ("request-property-type-changed", "create_flow"),
        ("response-property-type-changed", "create_flow"),
    }
    request = next(c for c in report.changes if c.rule == "request-property-type-changed")
    assert request.new_pointer is not None and request.new_pointer.endswith("/schema/properties/name")
    assert "from string to integer" in request.message


def test_renamed_path_parameter_is_the_same_endpoint() -> None:
    new = base_spec()
    paths = new["paths"]
    item = paths.pop("/api/lists/{id}")
    item["delete"]["parameters"][0]["name"] = "list_id"
    paths["/api/lists/{list_id}"] = item
    rules = {c.rule for c in diff_specs(base_spec(), new).changes}
    assert "api-removed-without-deprecation" not in rules and "endpoint-added" not in rules
    assert rules == {"request-parameter-removed", "new-required-request-parameter"}


def test_paths_differing_only_in_parameter_names_stay_apart() -> None:
    old = base_spec()
    old["paths"]["/api/lists/{list_id}"] = {
        "get": {"operationId": "get_list", "responses": {"200": {"description": "ok"}}}
    }
    assert diff_specs(old, clone(old)).changes == []
    new = clone(old)
    new["paths"].pop("/api/lists/{list_id}")
    assert [(c.rule, c.operation_id) for c in diff_specs(old, new).changes] == [
        ("api-removed-without-deprecation", "get_list")
    ]


def test_format_change_is_a_type_change() -> None:
    new = base_spec()
    new["components"]["schemas"]["ListAttributes"]["properties"]["created"]["format"] = "date"
    messages = [c.message for c in diff_specs(base_spec(), new).changes if c.rule == "response-property-type-changed"]
    assert messages and all("string/date-time to string/date" in m for m in messages)


def test_read_only_properties_are_not_request_changes() -> None:
    new = base_spec()
    new["components"]["schemas"]["ListAttributes"]["properties"].pop("member_count")
    changes = diff_specs(base_spec(), new).changes
    assert {c.rule for c in changes} == {"response-optional-property-removed"}


def test_revision_header_default_is_not_a_change() -> None:
    new = base_spec()
    new["components"]["parameters"]["Revision"]["schema"]["default"] = "2026-04-15"
    assert diff_specs(base_spec(), new).changes == []


def test_rate_limit_units_are_compared_per_second() -> None:
    old, new = base_spec(), base_spec()
    new["paths"]["/api/lists"]["get"]["x-klaviyo-ratelimit"] = {"burst": "600/m", "steady": "9000/h"}
    assert diff_specs(old, new).changes == []  # 600/m == 10/s, 9000/h == 150/m
    new["paths"]["/api/lists"]["get"]["x-klaviyo-ratelimit"]["daily"] = "1000/d"
    (change,) = diff_specs(old, new).changes
    assert change.rule == "api-ratelimit-decreased"


def test_rate_limit_tiers_are_named() -> None:
    old, new = base_spec(), base_spec()
    new["paths"]["/api/lists"]["get"]["x-klaviyo-ratelimit"] = {"burst": "3/s", "steady": "60/m"}
    (change,) = diff_specs(old, new).changes
    assert (
        change.message == "rate limit lowered from tier M (burst 10/s, steady 150/m) to tier S (burst 3/s, steady 60/m)"
    )


def _report() -> DiffReport:
    new = base_spec()
    new["paths"].pop("/api/lists/{id}")
    new["paths"]["/api/lists"]["get"]["parameters"].pop()
    new["components"]["schemas"]["GetListsResponse"]["properties"]["meta"] = {"type": "object"}
    return diff_specs(base_spec(), new, old_label="A", new_label="B")


def test_report_counts_and_fail_on() -> None:
    report = _report()
    assert report.counts() == {Severity.BREAKING: 1, Severity.WARNING: 1, Severity.INFO: 1}
    assert report.meets(Severity.BREAKING) and report.meets(Severity.WARNING) and report.meets(Severity.INFO)
    report.changes = report.of(Severity.INFO)
    assert not report.meets(Severity.WARNING)


def test_render_json_text_markdown() -> None:
    report = _report()
    document = json.loads(render(report, "json"))
    assert document["summary"] == {"breaking": 1, "warning": 1, "info": 1}
    assert {c["rule"] for c in document["changes"]} == {
        "api-removed-without-deprecation",
        "request-parameter-removed",
        "response-optional-property-added",
    }
    removed = next(c for c in document["changes"] if c["rule"] == "api-removed-without-deprecation")
    assert removed == {
        "rule": "api-removed-without-deprecation",
        "severity": "breaking",
        "operation_id": "delete_list",
        "method": "DELETE",
        "path": "/api/lists/{id}",
        "message": "api removed without deprecation",
        "old_pointer": "#/paths/~1api~1lists~1{id}/delete",
        "new_pointer": None,
    }
    text = render(report, "text")
    assert text.startswith("A -> B: 3 changes (1 breaking, 1 warning, 1 info)")
    assert "BREAKING api-removed-without-deprecation  DELETE /api/lists/{id} (delete_list)" in text
    markdown = render(report, "markdown")
    assert markdown.startswith("# API changes: A → B")
    assert "### `DELETE /api/lists/{id}` — `delete_list`" in markdown
    assert markdown.index("## ❌ Breaking") < markdown.index("## ⚠️ Warning") < markdown.index("## ℹ️ Info")  # noqa: RUF001
    empty = diff_specs(base_spec(), base_spec())
    assert "No changes." in render(empty, "markdown")
