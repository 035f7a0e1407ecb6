"""The overlay: each fix on a small hand-written spec (before/after + count), then the real mirror revisions."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from kdk import mirror_revisions
from kdk.spec import FIXES, Fix, apply_overlay, load_spec

Spec = dict[str, Any]


def make_spec(schemas: dict[str, Any] | None = None, paths: dict[str, Any] | None = None, **components: Any) -> Spec:
    return {
        "openapi": "3.0.2",
        "info": {"title": "t", "version": "2026-07-15"},
        "paths": paths or {},
        "components": {"schemas": schemas or {}, **components},
    }


def revision(required: bool = True) -> dict[str, Any]:
    return {"name": "revision", "in": "header", "required": required, "schema": {"type": "string"}}


def op(*params: dict[str, Any], responses: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "operationId": "op",
        "parameters": list(params),
        "responses": responses or {"200": {"description": "ok"}},
    }


def run_fix(name: str, spec: Spec) -> tuple[Spec, int]:
    fix = next(f for f in FIXES if f.name == name)
    result = apply_overlay(spec, fixes=[fix])
    return result.spec, result.report[0].count


def test_every_fix_is_named_documented_and_unique() -> None:
    names = [f.name for f in FIXES]
    assert len(names) == len(set(names))
    assert all(f.reason.strip() and f.breaks.strip() for f in FIXES)


def test_every_fix_is_documented_in_the_catalogue() -> None:
    catalogue = (Path(__file__).parents[3] / "docs" / "overlay.md").read_text(encoding="utf-8")
    assert [f.name for f in FIXES if f"`{f.name}`" not in catalogue] == []


# One hand-written spec per fix holding the shape it repairs: its detector finds exactly the places its repair
# changes, and nothing once repaired. A new fix without a sample here fails the test below.
def _sample(name: str) -> Spec:
    schemas: dict[str, Any] = {
        "enum-type-from-values": {
            "C": {
                "type": "object",
                "properties": {
                    "is_member": {"enum": [True]},
                    "status": {"type": "integer", "enum": ["ON", "OFF"], "default": "ON"},
                    "level": {"enum": [1, 2.5, None]},
                },
            }
        },
        "array-items-required": {"F": {"type": "array", "nullable": True}, "G": {"type": "array"}},
        "oneof-default-matches-several-branches": {
            "A": {"default": "x", "oneOf": [{"type": "string"}, {"type": "string", "enum": ["x"]}]}
        },
        "oneof-overlapping-primitives": {"N": {"oneOf": [{"type": "integer"}, {"type": "number"}]}},
        "boolean-enum-nullable-or-redundant": {"B": {"type": "boolean", "enum": [False], "nullable": True}},
        "nullable-enum-admits-null": {"S": {"type": "string", "enum": ["on"], "nullable": True}},
        "oneof-overlapping-objects": {
            "O": {"type": "object", "properties": {"x": {"type": "boolean"}}},
            "H": {"oneOf": [{"$ref": "#/components/schemas/O"}, {"type": "object", "properties": {"y": {}}}]},
        },
        "template-delimiters-in-examples": {"T": {"type": "string", "example": "{{ x }}"}},
        "nullable-without-type": {"R": {"$ref": "#/components/schemas/R2", "nullable": True}, "R2": {"type": "object"}},
        "drop-invalid-examples": {"E": {"type": "string", "example": ["a"]}},
        "drop-invalid-defaults": {"D": {"type": "integer", "minimum": 1, "default": 0}},
    }.get(name, {})
    paths: dict[str, Any] = {
        "path-parameter-not-nullable": {
            "/a/{id}": {"get": op({"name": "id", "in": "path", "required": True, "nullable": True}, revision())}
        },
        "revision-header-required": {"/r": {"get": op(revision(required=False))}, "/m": {"post": op()}},
        "hoist-inline-error-responses": {"/e": {"get": op(revision(), responses={"4XX": copy.deepcopy(ERROR_BODY)})}},
    }.get(name, {})
    return make_spec(schemas, paths=paths)


@pytest.mark.parametrize("fix", FIXES, ids=lambda f: f.name)
def test_detector_finds_what_the_repair_changes(fix: Fix) -> None:
    spec = _sample(fix.name)
    before = copy.deepcopy(spec)
    detected = list(fix.detect(spec))
    assert spec == before, "a detector never mutates"
    assert detected, f"no sample for {fix.name}: add one to _sample()"
    assert all(p.pointer.startswith("#/") and p.message for p in detected)
    assert fix.repair(spec) == len(detected)
    assert list(fix.detect(spec)) == []
    assert fix.repair(spec) == 0  # idempotent


def test_input_is_not_mutated_unless_asked() -> None:
    spec = make_spec({"N": {"oneOf": [{"type": "integer"}, {"type": "number"}]}})
    before = copy.deepcopy(spec)
    apply_overlay(spec)
    assert spec == before
    apply_overlay(spec, copy_spec=False)
    assert "anyOf" in spec["components"]["schemas"]["N"]


def test_oneof_whose_default_matches_two_branches_becomes_anyof() -> None:
    font = {
        "default": "Arial",
        "example": "Arial",
        "oneOf": [{"type": "string"}, {"type": "string", "enum": ["Arial", "Georgia"]}],
    }
    clean = {"default": "a", "oneOf": [{"type": "string", "enum": ["a"]}, {"type": "string", "enum": ["b"]}]}
    spec, count = run_fix("oneof-default-matches-several-branches", make_spec({"Font": font, "Clean": clean}))
    assert count == 1
    assert list(spec["components"]["schemas"]["Font"]) == ["default", "example", "anyOf"]
    assert "oneOf" in spec["components"]["schemas"]["Clean"]


def test_oneof_default_check_follows_refs() -> None:
    schemas = {
        "Any": {"type": "string"},
        "Some": {"type": "string", "enum": ["x"]},
        "P": {"default": "x", "oneOf": [{"$ref": "#/components/schemas/Any"}, {"$ref": "#/components/schemas/Some"}]},
    }
    spec, count = run_fix("oneof-default-matches-several-branches", make_spec(schemas))
    assert count == 1
    assert "anyOf" in spec["components"]["schemas"]["P"]


@pytest.mark.parametrize(
    ("branches", "converted"),
    [
        ([{"type": "integer"}, {"type": "number"}], True),
        ([{"type": "integer"}, {"type": "number"}, {"type": "string"}, {"type": "boolean"}], True),
        ([{"type": "array", "items": {"type": "string"}}, {"type": "array", "items": {"type": "integer"}}], True),
        ([{"type": "string", "format": "date"}, {"type": "string", "enum": ["today"]}], True),
        ([{"type": "string"}, {"type": "number"}], False),
        ([{"type": "integer"}, {"type": "string", "enum": ["auto"]}], False),
        ([{"type": "string", "enum": ["a"]}, {"type": "string", "enum": ["b"]}], False),
        ([{"$ref": "#/components/schemas/X"}, {"type": "number"}], False),
        ([{"type": "object"}, {"type": "object"}], False),
    ],
)
def test_overlapping_primitive_oneof_becomes_anyof(branches: list[Any], converted: bool) -> None:
    schemas = {"X": {"type": "integer"}, "Holder": {"properties": {"v": {"nullable": True, "oneOf": branches}}}}
    spec, count = run_fix("oneof-overlapping-primitives", make_spec(schemas))
    value = spec["components"]["schemas"]["Holder"]["properties"]["v"]
    assert count == int(converted)
    assert ("anyOf" in value) is converted
    assert ("oneOf" in value) is not converted
    assert value["nullable"] is True


def test_nullable_path_parameters_lose_nullable() -> None:
    path_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "nullable": True}}
    query_param = {"name": "q", "in": "query", "schema": {"type": "string", "nullable": True}}
    shared = {"name": "sid", "in": "path", "required": True, "nullable": True, "schema": {"type": "string"}}
    paths = {
        "/a/{id}": {"get": op(path_param, query_param, revision())},
        "/b/{id}": {"parameters": [path_param], "get": op(revision())},  # same object twice: counted once
        "/c/{sid}": {"get": op({"$ref": "#/components/parameters/Sid"}, revision())},
    }
    spec, count = run_fix("path-parameter-not-nullable", make_spec(paths=paths, parameters={"Sid": shared}))
    assert count == 2  # the inline one (shared by two paths, so one object) and the component
    assert "nullable" not in spec["paths"]["/a/{id}"]["get"]["parameters"][0]["schema"]
    assert spec["paths"]["/a/{id}"]["get"]["parameters"][1]["schema"]["nullable"] is True
    assert "nullable" not in spec["components"]["parameters"]["Sid"]


def test_boolean_enum_dropped_only_where_nullable_or_redundant() -> None:
    schemas = {
        "Obj": {
            "type": "object",
            "properties": {
                "nullable_false": {"type": "boolean", "enum": [False], "nullable": True, "default": False},
                "both": {"type": "boolean", "enum": [False, True]},
                "const_false": {"type": "boolean", "enum": [False]},
                "const_true": {"type": "boolean", "enum": [True], "default": True},
            },
        }
    }
    spec, count = run_fix("boolean-enum-nullable-or-redundant", make_spec(schemas))
    props = spec["components"]["schemas"]["Obj"]["properties"]
    assert count == 2
    assert props["nullable_false"] == {"type": "boolean", "nullable": True, "default": False}
    assert props["both"] == {"type": "boolean"}
    assert props["const_false"]["enum"] == [False]
    assert props["const_true"]["enum"] == [True]


def test_nullable_enum_lists_null_among_its_values() -> None:
    from kdk.spec._values import SchemaValueChecker

    schemas = {
        "Obj": {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["on", "off"], "nullable": True},
                "level": {"type": "integer", "enum": [0, 1], "nullable": True},
                "listed": {"type": "string", "enum": ["on", None], "nullable": True},
                "plain": {"type": "string", "enum": ["on", "off"]},
            },
        }
    }
    raw = make_spec(schemas)
    spec, count = run_fix("nullable-enum-admits-null", raw)
    props = spec["components"]["schemas"]["Obj"]["properties"]
    assert count == 2
    assert props["status"]["enum"] == ["on", "off", None]
    assert props["level"]["enum"] == [0, 1, None]
    assert props["listed"]["enum"] == ["on", None]
    assert props["plain"]["enum"] == ["on", "off"]
    probe = {"status": None, "level": None}
    assert not SchemaValueChecker(raw).is_valid(raw["components"]["schemas"]["Obj"], probe)
    assert SchemaValueChecker(spec).is_valid(spec["components"]["schemas"]["Obj"], probe)
    assert not SchemaValueChecker(spec).is_valid(spec["components"]["schemas"]["Obj"], {"plain": None})


def test_revision_header_made_required_or_added() -> None:
    paths = {
        "/ok": {"get": op(revision())},
        "/optional": {"get": op(revision(required=False))},
        "/missing": {"get": op()},
    }
    spec, count = run_fix("revision-header-required", make_spec(paths=paths))
    assert count == 2
    assert spec["paths"]["/optional"]["get"]["parameters"][0]["required"] is True
    assert spec["paths"]["/missing"]["get"]["parameters"] == [revision()]


def test_revision_header_added_from_info_version_when_no_operation_has_one() -> None:
    spec, count = run_fix("revision-header-required", make_spec(paths={"/x": {"get": op()}}))
    assert count == 1
    (param,) = spec["paths"]["/x"]["get"]["parameters"]
    assert param["required"] is True
    assert param["schema"] == {"type": "string", "default": "2026-07-15"}


ERROR_BODY = {
    "description": "Client Error",
    "content": {
        "application/vnd.api+json": {
            "schema": {
                "type": "object",
                "properties": {"errors": {"type": "array", "items": {"type": "object"}}},
                "required": ["errors"],
            }
        }
    },
}


def test_inline_error_responses_hoisted_to_shared_components() -> None:
    server = {**copy.deepcopy(ERROR_BODY), "description": "Server Error"}
    paths = {
        f"/p{i}": {"get": op(revision(), responses={"200": {"description": "ok"}, "4XX": ERROR_BODY, "5XX": server})}
        for i in range(3)
    }
    spec, count = run_fix("hoist-inline-error-responses", make_spec(paths=paths))
    assert count == 6
    assert spec["components"]["responses"] == {"ClientError": ERROR_BODY, "ServerError": server}
    for i in range(3):
        responses = spec["paths"][f"/p{i}"]["get"]["responses"]
        assert responses["4XX"] == {"$ref": "#/components/responses/ClientError"}
        assert responses["5XX"] == {"$ref": "#/components/responses/ServerError"}
        assert responses["200"] == {"description": "ok"}


def test_inline_error_response_reuses_existing_identical_component() -> None:
    paths = {"/p": {"get": op(revision(), responses={"400": copy.deepcopy(ERROR_BODY)})}}
    spec, count = run_fix("hoist-inline-error-responses", make_spec(paths=paths, responses={"Bad": ERROR_BODY}))
    assert count == 1
    assert spec["paths"]["/p"]["get"]["responses"]["400"] == {"$ref": "#/components/responses/Bad"}
    assert list(spec["components"]["responses"]) == ["Bad"]


def test_template_delimiters_neutralised_in_examples_only() -> None:
    schemas = {
        "Img": {
            "type": "object",
            "description": "uses {{ product.url }}",
            "properties": {
                "url": {"type": "string", "example": "{{ event.items.0.url }}"},
                "tag": {"type": "string", "example": "{% if x %}y{% endif %} {# c #}"},
                "plain": {"type": "string", "example": "{not a tag}"},
                "example": {"type": "string", "description": "a property called example: {{ kept }}"},
            },
            "example": {"url": "{{a}}", "list": ["{{b}}", "ok"]},
        }
    }
    media = {"application/json": {"schema": {"type": "string"}, "examples": {"one": {"value": "{{ x }}"}}}}
    paths = {"/p": {"post": {**op(revision()), "requestBody": {"content": media}}}}
    spec, count = run_fix("template-delimiters-in-examples", make_spec(schemas, paths=paths))
    img = spec["components"]["schemas"]["Img"]
    assert count == 5  # strings changed: url, tag, two inside the object example, the media-type example
    assert img["properties"]["url"]["example"] == "{ { event.items.0.url } }"
    assert img["properties"]["tag"]["example"] == "{ % if x % }y{ % endif % } { # c # }"
    assert img["properties"]["plain"]["example"] == "{not a tag}"
    assert img["properties"]["example"]["description"].endswith("{{ kept }}")
    assert img["description"] == "uses {{ product.url }}"
    assert img["example"] == {"url": "{ {a} }", "list": ["{ {b} }", "ok"]}
    assert spec["paths"]["/p"]["post"]["requestBody"]["content"]["application/json"]["examples"]["one"]["value"] == (
        "{ { x } }"
    )


def test_nullable_without_type_gets_an_explicit_null_alternative() -> None:
    null = {"enum": [None]}
    schemas = {
        "A": {"type": "object"},
        "B": {"type": "string", "nullable": True},
        "Holder": {
            "type": "object",
            "properties": {
                "ref": {"description": "d", "$ref": "#/components/schemas/A", "nullable": True},
                "any": {"anyOf": [{"type": "integer"}, {"type": "string"}], "nullable": True},
                "one": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "string"}], "nullable": True},
                "one_nullable_branch": {
                    "oneOf": [{"$ref": "#/components/schemas/B"}, {"type": "integer"}],
                    "nullable": True,
                },
                "all": {"allOf": [{"$ref": "#/components/schemas/A"}], "nullable": True, "description": "d"},
                "typed": {"type": "string", "nullable": True},
                "bare": {"nullable": True},
            },
        },
    }
    spec, count = run_fix("nullable-without-type", make_spec(schemas))
    props = spec["components"]["schemas"]["Holder"]["properties"]
    assert count == 4
    assert props["ref"] == {"description": "d", "anyOf": [{"$ref": "#/components/schemas/A"}, null]}
    assert props["any"] == {"anyOf": [{"type": "integer"}, {"type": "string"}, null]}
    assert props["one"] == {"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "string"}, null]}
    assert props["one_nullable_branch"]["nullable"] is True  # null already matches B: left alone
    assert props["all"] == {"anyOf": [{"allOf": [{"$ref": "#/components/schemas/A"}]}, null], "description": "d"}
    assert props["typed"] == {"type": "string", "nullable": True}
    assert props["bare"] == {"nullable": True}


def test_nullable_fix_lets_strict_validators_accept_null() -> None:
    from kdk.spec._values import SchemaValueChecker

    schemas = {
        "A": {"type": "object"},
        "P": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A", "nullable": True}}},
    }
    raw = make_spec(schemas)
    patched = apply_overlay(raw).spec
    probe = {"a": None}
    assert not SchemaValueChecker(raw).is_valid(raw["components"]["schemas"]["P"], probe)
    assert SchemaValueChecker(patched).is_valid(patched["components"]["schemas"]["P"], probe)
    assert SchemaValueChecker(patched).is_valid(patched["components"]["schemas"]["P"], {"a": {}})


def test_invalid_examples_dropped_valid_kept() -> None:
    schemas = {
        "Ids": {"type": "array", "items": {"type": "string", "example": ["tool_1"]}, "example": ["tool_1"]},
        "Num": {"oneOf": [{"type": "integer"}, {"type": "number"}], "example": 3},
        "Ok": {"type": "string", "nullable": True, "example": None},
    }
    spec, count = run_fix("drop-invalid-examples", make_spec(schemas))
    assert count == 2
    assert "example" not in spec["components"]["schemas"]["Ids"]["items"]
    assert spec["components"]["schemas"]["Ids"]["example"] == ["tool_1"]
    assert "example" in spec["components"]["schemas"]["Ok"]
    # run alone, an integer example under oneOf [integer, number] is invalid; in the full overlay the
    # oneOf fix runs first and the example survives
    assert "example" not in spec["components"]["schemas"]["Num"]
    assert apply_overlay(make_spec(schemas)).spec["components"]["schemas"]["Num"]["example"] == 3


def test_enum_type_comes_from_its_values() -> None:
    props = {
        "const_true": {"enum": [True]},  # segment/consent conditions: the generator dropped the model
        "const_false_or_null": {"enum": [False, None]},
        "word": {"enum": ["today"], "description": "d"},
        "numbers": {"enum": [0, 2.5]},
        "wrong_type": {"type": "integer", "enum": ["AUTHORIZED", "DENIED"], "default": "AUTHORIZED"},
        "ints_as_number": {"type": "number", "enum": [1, 2]},  # every integer is a number: fine
        "only_null": {"enum": [None]},  # the overlay's own null alternative
        "mixed": {"enum": ["a", 1]},  # no single type to infer: left alone
        "ref": {"$ref": "#/components/schemas/Other", "enum": ["x"]},
        "listed_types": {"type": ["string", "null"], "enum": ["a", None]},
    }
    spec, count = run_fix("enum-type-from-values", make_spec({"C": {"type": "object", "properties": props}}))
    fixed = spec["components"]["schemas"]["C"]["properties"]
    assert count == 5
    assert fixed["const_true"] == {"enum": [True], "type": "boolean"}
    assert fixed["const_false_or_null"] == {"enum": [False, None], "type": "boolean", "nullable": True}
    assert fixed["word"]["type"] == "string"
    assert fixed["numbers"]["type"] == "number"
    assert fixed["wrong_type"]["type"] == "string"
    for name in ("ints_as_number", "only_null", "mixed", "ref", "listed_types"):
        assert fixed[name] == props[name]


def test_enum_type_fix_makes_the_default_valid() -> None:
    """2023-07-15's push token `enablement_status`: `type: integer`, string values, a string default."""
    schemas = {"P": {"type": "integer", "enum": ["AUTHORIZED", "DENIED"], "default": "AUTHORIZED"}}
    patched = apply_overlay(make_spec(schemas)).spec
    assert patched["components"]["schemas"]["P"] == {
        "type": "string",
        "enum": ["AUTHORIZED", "DENIED"],
        "default": "AUTHORIZED",
    }


def test_array_without_items_gets_any_items() -> None:
    schemas = {"F": {"type": "array", "nullable": True}, "Ok": {"type": "array", "items": {"type": "string"}}}
    spec, count = run_fix("array-items-required", make_spec(schemas))
    assert count == 1
    assert spec["components"]["schemas"]["F"] == {"type": "array", "nullable": True, "items": {}}
    assert spec["components"]["schemas"]["Ok"] == schemas["Ok"]


def test_invalid_defaults_dropped_valid_kept() -> None:
    schemas = {
        "Low": {"type": "integer", "minimum": 1, "default": 0},
        "Ok": {"type": "integer", "minimum": 1, "default": 1},
        "Null": {"type": "string", "nullable": True, "default": None},
    }
    spec, count = run_fix("drop-invalid-defaults", make_spec(schemas))
    assert count == 1
    assert "default" not in spec["components"]["schemas"]["Low"]
    assert spec["components"]["schemas"]["Ok"]["default"] == 1
    assert spec["components"]["schemas"]["Null"]["default"] is None


def test_overlay_is_idempotent_and_deterministic_on_a_mixed_spec() -> None:
    schemas = {
        "A": {"default": "x", "oneOf": [{"type": "string"}, {"type": "string", "enum": ["x"]}]},
        "B": {"type": "boolean", "enum": [False], "nullable": True},
    }
    paths = {"/p/{id}": {"get": op({"name": "id", "in": "path", "required": True, "nullable": True})}}
    first = apply_overlay(make_spec(schemas, paths=paths))
    again = apply_overlay(make_spec(schemas, paths=paths))
    assert json.dumps(first.spec) == json.dumps(again.spec)
    assert first.total == 4  # oneOf default, boolean enum, path nullable, revision header added
    assert apply_overlay(first.spec).total == 0


# --- the real revisions -------------------------------------------------------------------------

MIRROR_SPECS = mirror_revisions()  # every (ref, channel) in the mirror


_checked: set[str] = set()  # sha256 of revisions already checked (main is a copy of the newest dated one)


@pytest.mark.mirror
@pytest.mark.parametrize(("ref", "channel"), MIRROR_SPECS, ids=[f"{r}-{c}" for r, c in MIRROR_SPECS])
def test_every_fix_on_mirror_revision_detects_what_it_repairs(mirror: Path, ref: str, channel: str) -> None:
    """Fix by fix, in overlay order: the detector finds exactly the places the repair changes; once the whole
    overlay has run, no detector finds anything (`detect(apply(spec))` is empty) and a second run changes nothing."""
    path = mirror / ref / "openapi" / f"{channel}.json"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    if sha in _checked:
        return
    spec = load_spec(path)
    counts = {}
    for fix in FIXES:
        detected = len(list(fix.detect(spec)))
        counts[fix.name] = fix.repair(spec)
        assert counts[fix.name] == detected, fix.name
    assert sum(counts.values()) > 0
    assert {fix.name: list(fix.detect(spec))[:3] for fix in FIXES} == {fix.name: [] for fix in FIXES}
    assert apply_overlay(spec, copy_spec=False).total == 0
    _checked.add(sha)
