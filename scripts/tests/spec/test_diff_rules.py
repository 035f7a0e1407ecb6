"""Every diff rule, each triggered by a small hand-written change to `data/diff/base.json`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from kdk.spec.diff import RULES, Change, Severity, diff_specs

from ._diff_helpers import Spec, base_spec, resolve_resolved_pointer

Mutation = Callable[[Spec], None]


def _noop(spec: Spec) -> None:
    return None


def op(spec: Spec, path: str, method: str) -> dict[str, Any]:
    node: dict[str, Any] = spec["paths"][path][method]
    return node


def schema(spec: Spec, name: str) -> dict[str, Any]:
    node: dict[str, Any] = spec["components"]["schemas"][name]
    return node


def param(spec: Spec, name: str, path: str = "/api/lists", method: str = "get") -> dict[str, Any]:
    for p in op(spec, path, method)["parameters"]:
        if p.get("name") == name:
            found: dict[str, Any] = p
            return found
    raise KeyError(name)


def folder(spec: Spec) -> dict[str, Any]:
    """A request-only property: ListCreateQuery.data.attributes.allOf[1].folder."""
    member = schema(spec, "ListCreateQuery")["properties"]["data"]["properties"]["attributes"]["allOf"][1]
    node: dict[str, Any] = member["properties"]["folder"]
    return node


def create_member(spec: Spec) -> dict[str, Any]:
    node: dict[str, Any] = schema(spec, "ListCreateQuery")["properties"]["data"]["properties"]["attributes"]["allOf"][1]
    return node


def lists_response(spec: Spec) -> dict[str, Any]:
    return schema(spec, "GetListsResponse")


def set_path(path: str, method: str, key: str, value: Any) -> Mutation:
    def mutate(spec: Spec) -> None:
        op(spec, path, method)[key] = value

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(spec: Spec) -> None:
        for m in mutations:
            m(spec)

    return mutate


@dataclass(frozen=True)
class Case:
    rule: str
    operation_id: str
    new: Mutation = _noop  # applied to the new side
    old: Mutation = _noop  # applied to the old side


_TAG_OP = {
    "operationId": "get_tags",
    "responses": {"200": {"description": "ok"}},
    "x-klaviyo-ratelimit": {"burst": "3/s", "steady": "60/m"},
    "x-klaviyo-scopes": ["tags:read"],
}
_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
_SEGMENT = {
    "type": "object",
    "properties": {"type": {"type": "string", "enum": ["segment"]}, "id": {"type": "string"}},
}

CASES = [
    # operations
    Case("endpoint-added", "get_tags", new=lambda s: s["paths"].__setitem__("/api/tags", {"get": _TAG_OP})),
    Case("api-removed-without-deprecation", "delete_list", new=lambda s: s["paths"].pop("/api/lists/{id}")),
    Case(
        "api-removed-with-deprecation",
        "delete_list",
        old=set_path("/api/lists/{id}", "delete", "deprecated", True),
        new=lambda s: s["paths"].pop("/api/lists/{id}"),
    ),
    Case("endpoint-deprecated", "delete_list", new=set_path("/api/lists/{id}", "delete", "deprecated", True)),
    Case("endpoint-reactivated", "delete_list", old=set_path("/api/lists/{id}", "delete", "deprecated", True)),
    Case(
        "api-operation-id-removed",
        "remove_list",
        new=set_path("/api/lists/{id}", "delete", "operationId", "remove_list"),
    ),
    Case("api-stability-decreased", "get_lists", new=set_path("/api/lists", "get", "x-klaviyo-pre-release", "BETA")),
    Case("api-stability-increased", "get_lists", old=set_path("/api/lists", "get", "x-klaviyo-pre-release", "BETA")),
    Case(
        "api-ratelimit-decreased",
        "get_lists",
        new=set_path("/api/lists", "get", "x-klaviyo-ratelimit", {"burst": "3/s", "steady": "60/m"}),
    ),
    Case(
        "api-ratelimit-increased",
        "get_lists",
        new=set_path("/api/lists", "get", "x-klaviyo-ratelimit", {"burst": "75/s", "steady": "700/m"}),
    ),
    Case(
        "api-ratelimit-changed",
        "get_lists",
        new=set_path("/api/lists", "get", "x-klaviyo-ratelimit", {"burst": "75/s", "steady": "60/m"}),
    ),
    Case(
        "api-scope-added",
        "get_lists",
        new=set_path("/api/lists", "get", "x-klaviyo-scopes", ["lists:read", "tags:read"]),
    ),
    Case(
        "api-scope-removed",
        "get_lists",
        old=set_path("/api/lists", "get", "x-klaviyo-scopes", ["lists:read", "tags:read"]),
    ),
    # parameters
    Case(
        "new-required-request-parameter",
        "get_lists",
        new=lambda s: op(s, "/api/lists", "get")["parameters"].append(
            {"name": "filter", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
    ),
    Case(
        "new-optional-request-parameter",
        "get_lists",
        new=lambda s: op(s, "/api/lists", "get")["parameters"].append(
            {"name": "filter", "in": "query", "schema": {"type": "string"}}
        ),
    ),
    Case("request-parameter-removed", "get_lists", new=lambda s: op(s, "/api/lists", "get")["parameters"].pop()),
    Case(
        "request-parameter-became-required", "get_lists", new=lambda s: param(s, "sort").__setitem__("required", True)
    ),
    Case(
        "request-parameter-became-optional", "get_lists", old=lambda s: param(s, "sort").__setitem__("required", True)
    ),
    Case(
        "request-parameter-type-changed",
        "get_lists",
        new=lambda s: param(s, "page[size]")["schema"].__setitem__("type", "string"),
    ),
    Case(
        "request-parameter-enum-value-removed",
        "get_lists",
        new=lambda s: param(s, "fields[list]")["schema"]["items"]["enum"].remove("updated"),
    ),
    Case(
        "request-parameter-enum-value-added",
        "get_lists",
        new=lambda s: param(s, "fields[list]")["schema"]["items"]["enum"].append("opt_in_process"),
    ),
    Case(
        "request-parameter-became-enum",
        "get_lists",
        new=lambda s: param(s, "sort")["schema"].__setitem__("enum", ["name", "-name"]),
    ),
    # request bodies
    Case(
        "request-body-added-required",
        "delete_list",
        new=set_path("/api/lists/{id}", "delete", "requestBody", {**_BODY, "required": True}),
    ),
    Case("request-body-added-optional", "delete_list", new=set_path("/api/lists/{id}", "delete", "requestBody", _BODY)),
    Case("request-body-removed", "create_list", new=lambda s: op(s, "/api/lists", "post").pop("requestBody")),
    Case(
        "request-body-became-required",
        "create_list",
        old=lambda s: op(s, "/api/lists", "post")["requestBody"].__setitem__("required", False),
    ),
    Case(
        "request-body-became-optional",
        "create_list",
        new=lambda s: op(s, "/api/lists", "post")["requestBody"].__setitem__("required", False),
    ),
    Case(
        "request-body-media-type-removed",
        "create_list",
        old=lambda s: op(s, "/api/lists", "post")["requestBody"]["content"].update(_BODY["content"]),
    ),
    Case(
        "request-body-media-type-added",
        "create_list",
        new=lambda s: op(s, "/api/lists", "post")["requestBody"]["content"].update(_BODY["content"]),
    ),
    Case(
        "new-required-request-property",
        "create_list",
        new=lambda s: create_member(s).update(
            {"properties": {**create_member(s)["properties"], "color": {"type": "string"}}, "required": ["color"]}
        ),
    ),
    Case(
        "new-optional-request-property",
        "create_list",
        new=lambda s: create_member(s)["properties"].__setitem__("color", {"type": "string"}),
    ),
    Case("request-property-removed", "create_list", new=lambda s: create_member(s)["properties"].pop("folder")),
    Case(
        "request-property-became-required",
        "create_list",
        new=lambda s: create_member(s).__setitem__("required", ["folder"]),
    ),
    Case(
        "request-property-became-optional",
        "create_list",
        old=lambda s: create_member(s).__setitem__("required", ["folder"]),
    ),
    Case("request-property-type-changed", "create_list", new=lambda s: folder(s).__setitem__("type", "integer")),
    Case(
        "request-property-enum-value-removed",
        "create_list",
        old=lambda s: folder(s).__setitem__("enum", ["a", "b"]),
        new=lambda s: folder(s).__setitem__("enum", ["a"]),
    ),
    Case(
        "request-property-enum-value-added",
        "create_list",
        old=lambda s: folder(s).__setitem__("enum", ["a"]),
        new=lambda s: folder(s).__setitem__("enum", ["a", "b"]),
    ),
    Case("request-property-became-enum", "create_list", new=lambda s: folder(s).__setitem__("enum", ["a"])),
    Case("request-property-became-not-nullable", "create_list", new=lambda s: folder(s).pop("nullable")),
    Case("request-property-became-nullable", "create_list", old=lambda s: folder(s).pop("nullable")),
    Case(
        "request-property-one-of-removed",
        "create_list",
        old=lambda s: create_member(s)["properties"].__setitem__(
            "folder", {"oneOf": [{"type": "string"}, {"type": "integer"}]}
        ),
        new=lambda s: create_member(s)["properties"].__setitem__("folder", {"oneOf": [{"type": "string"}]}),
    ),
    Case(
        "request-property-one-of-added",
        "create_list",
        old=lambda s: create_member(s)["properties"].__setitem__("folder", {"oneOf": [{"type": "string"}]}),
        new=lambda s: create_member(s)["properties"].__setitem__(
            "folder", {"oneOf": [{"type": "string"}, {"type": "integer"}]}
        ),
    ),
    # responses
    Case(
        "response-success-status-removed", "get_lists", new=lambda s: op(s, "/api/lists", "get")["responses"].pop("200")
    ),
    Case(
        "response-success-status-added",
        "get_lists",
        new=lambda s: op(s, "/api/lists", "get")["responses"].__setitem__("202", {"description": "Accepted"}),
    ),
    Case(
        "response-non-success-status-removed",
        "get_lists",
        new=lambda s: op(s, "/api/lists", "get")["responses"].pop("4XX"),
    ),
    Case(
        "response-non-success-status-added",
        "get_lists",
        new=lambda s: op(s, "/api/lists", "get")["responses"].__setitem__("5XX", {"description": "Server error"}),
    ),
    Case(
        "response-media-type-removed",
        "get_lists",
        old=lambda s: op(s, "/api/lists", "get")["responses"]["200"]["content"].update(_BODY["content"]),
    ),
    Case(
        "response-media-type-added",
        "get_lists",
        new=lambda s: op(s, "/api/lists", "get")["responses"]["200"]["content"].update(_BODY["content"]),
    ),
    Case("response-required-property-removed", "get_lists", new=lambda s: lists_response(s)["properties"].pop("data")),
    Case(
        "response-optional-property-removed", "get_lists", new=lambda s: lists_response(s)["properties"].pop("included")
    ),
    Case(
        "response-required-property-added",
        "get_lists",
        new=lambda s: lists_response(s).update(
            {
                "properties": {**lists_response(s)["properties"], "links": {"type": "object"}},
                "required": ["data", "links"],
            }
        ),
    ),
    Case(
        "response-optional-property-added",
        "get_lists",
        new=lambda s: lists_response(s)["properties"].__setitem__("links", {"type": "object"}),
    ),
    Case("response-property-became-optional", "get_lists", new=lambda s: lists_response(s).__setitem__("required", [])),
    Case(
        "response-property-became-required",
        "get_lists",
        new=lambda s: lists_response(s).__setitem__("required", ["data", "included"]),
    ),
    Case(
        "response-property-became-nullable",
        "get_lists",
        new=lambda s: lists_response(s)["properties"]["included"].__setitem__("nullable", True),
    ),
    Case(
        "response-property-became-not-nullable",
        "get_lists",
        old=lambda s: lists_response(s)["properties"]["included"].__setitem__("nullable", True),
    ),
    Case(
        "response-property-type-changed",
        "get_lists",
        new=lambda s: schema(s, "TagResourceObject")["properties"]["id"].__setitem__("type", "integer"),
    ),
    Case(
        "response-property-enum-value-added",
        "get_lists",
        new=lambda s: schema(s, "ListAttributes")["properties"]["opt_in_process"]["enum"].append("none"),
    ),
    Case(
        "response-property-enum-value-removed",
        "get_lists",
        new=lambda s: schema(s, "ListAttributes")["properties"]["opt_in_process"]["enum"].remove("single_opt_in"),
    ),
    Case(
        "response-property-one-of-added",
        "get_lists",
        new=lambda s: lists_response(s)["properties"]["included"]["items"]["oneOf"].append(_SEGMENT),
    ),
    Case(
        "response-property-one-of-removed",
        "get_lists",
        new=lambda s: lists_response(s)["properties"]["included"]["items"]["oneOf"].pop(),
    ),
]


def run_case(case: Case) -> tuple[Spec, Spec, list[Change]]:
    old, new = base_spec(), base_spec()
    case.old(old)
    case.new(new)
    return old, new, diff_specs(old, new).changes


def test_every_rule_has_a_case() -> None:
    assert sorted(c.rule for c in CASES) == sorted(RULES)


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule(case: Case) -> None:
    old, new, changes = run_case(case)
    hits = [c for c in changes if c.rule == case.rule]
    assert hits, f"{case.rule} not reported; got {[(c.rule, c.message) for c in changes]}"
    hit = next((c for c in hits if c.operation_id == case.operation_id), None)
    assert hit is not None, [c.operation_id for c in hits]
    assert hit.severity is RULES[case.rule].severity
    assert "<" not in hit.message, hit.message  # every template argument was supplied
    # Pointers are real: each leads somewhere in its (resolved) spec; at least one side is set.
    assert hit.old_pointer or hit.new_pointer
    if hit.old_pointer:
        resolve_resolved_pointer(old, hit.old_pointer)
    if hit.new_pointer:
        resolve_resolved_pointer(new, hit.new_pointer)
    # Nothing reported that the rule table does not know.
    assert {c.rule for c in changes} <= RULES.keys()


def test_rule_pointers_name_the_property() -> None:
    *_, changes = run_case(next(c for c in CASES if c.rule == "new-required-request-property"))
    (hit,) = [c for c in changes if c.rule == "new-required-request-property"]
    assert hit.old_pointer is None
    assert hit.new_pointer == (
        "#/paths/~1api~1lists/post/requestBody/content/application~1vnd.api+json/schema"
        "/properties/data/properties/attributes/allOf/1/properties/color"
    )
    assert "data.attributes.color" in hit.message


def test_severities_are_what_oasdiff_says_for_the_core_rules() -> None:
    expected = {
        "api-removed-without-deprecation": Severity.BREAKING,
        "request-parameter-removed": Severity.WARNING,
        "new-required-request-parameter": Severity.BREAKING,
        "new-optional-request-parameter": Severity.INFO,
        "request-property-removed": Severity.WARNING,
        "response-required-property-removed": Severity.BREAKING,
        "response-optional-property-removed": Severity.WARNING,
        "response-success-status-removed": Severity.BREAKING,
        "response-media-type-removed": Severity.BREAKING,
        "request-property-became-not-nullable": Severity.BREAKING,
        "response-property-became-nullable": Severity.BREAKING,
    }
    assert {k: RULES[k].severity for k in expected} == expected
