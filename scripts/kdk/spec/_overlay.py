"""The overlay: Klaviyo's raw spec -> the spec our generator, mock, validator and tests accept.

One list of named fixes, each with the reason it exists and a count of what it touched. Fixes match
by *shape*, never by schema name, so they keep working on revisions nobody has looked at yet.
Every consumer calls `apply_overlay`; nobody patches the spec on their own.

Adding a fix: write one `_fix_<what>(spec) -> int` function (mutate in place, return how many places
changed, be idempotent), then add a `Fix(...)` entry to `FIXES` saying *why*. Order matters only where
noted (value-level fixes run after the schema-shape fixes they depend on). Loop over schemas with
`iter_schema_nodes(spec)` (no pointers, fast): the overlay runs at every mock start and generation, keep it < 1 s
on the 3 MB spec (`scripts/bench_spec_validate.py` measures it).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ._values import SchemaValueChecker
from ._walk import HTTP_METHODS, deref, iter_operations, iter_schema_nodes, join_pointer, operation_parameters

__all__ = ["FIXES", "Fix", "FixReport", "OverlayResult", "apply_overlay"]

Spec = dict[str, Any]


@dataclass(frozen=True)
class Fix:
    name: str
    reason: str
    apply: Callable[[Spec], int]  # mutates the spec in place, returns how many places it changed


@dataclass(frozen=True)
class FixReport:
    name: str
    reason: str
    count: int


@dataclass
class OverlayResult:
    spec: Spec
    report: list[FixReport] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.count for r in self.report)


# --- small helpers -------------------------------------------------------------------------------

_PRIMITIVE_TYPES = frozenset({"string", "number", "integer", "boolean"})


def _rename_key(node: dict[str, Any], old: str, new: str) -> None:
    """Rename a key in place, keeping its position (stable, readable output; same dict identity)."""
    items = [(new if k == old else k, v) for k, v in node.items()]
    node.clear()
    node.update(items)


def _parameter_objects(spec: Spec) -> Iterator[dict[str, Any]]:
    """Every inline Parameter Object (components, path items, operations), each once."""
    seen: set[int] = set()
    candidates: list[Any] = list(((spec.get("components") or {}).get("parameters") or {}).values())
    for path_item in (spec.get("paths") or {}).values():
        if not isinstance(path_item, dict):
            continue
        candidates.extend(path_item.get("parameters") or [])
        for method in HTTP_METHODS:
            if isinstance(path_item.get(method), dict):
                candidates.extend(path_item[method].get("parameters") or [])
    for param in candidates:
        if isinstance(param, dict) and "$ref" not in param and id(param) not in seen:
            seen.add(id(param))
            yield param


def _types_may_overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Could one value match both primitive/array branches? False only when provably disjoint."""
    ta, tb = a.get("type"), b.get("type")
    numeric = {"integer", "number"}
    if ta != tb and not (ta in numeric and tb in numeric):
        return False
    if isinstance(a.get("enum"), list) and isinstance(b.get("enum"), list):
        return any(x == y and type(x) is type(y) for x in a["enum"] for y in b["enum"])
    return True  # same type, at most one enum: pattern/format/length may not be asserted by every validator


# --- the fixes -----------------------------------------------------------------------------------


def _fix_oneof_default_matches_several(spec: Spec) -> int:
    checker: SchemaValueChecker | None = None
    count = 0
    for schema in iter_schema_nodes(spec):
        branches = schema.get("oneOf")
        if not isinstance(branches, list) or len(branches) < 2:
            continue
        values = [schema[k] for k in ("default", "example") if k in schema]
        if not values:
            continue
        checker = checker or SchemaValueChecker(spec)
        if any(sum(checker.is_valid(branch, value) for branch in branches) > 1 for value in values):
            _rename_key(schema, "oneOf", "anyOf")
            count += 1
    return count


def _fix_oneof_overlapping_primitives(spec: Spec) -> int:
    count = 0
    for schema in iter_schema_nodes(spec):
        branches = schema.get("oneOf")
        if not isinstance(branches, list) or len(branches) < 2:
            continue
        inline = all(
            isinstance(b, dict) and "$ref" not in b and b.get("type") in _PRIMITIVE_TYPES | {"array"} for b in branches
        )
        if not inline:
            continue
        if any(_types_may_overlap(a, b) for i, a in enumerate(branches) for b in branches[i + 1 :]):
            _rename_key(schema, "oneOf", "anyOf")
            count += 1
    return count


def _fix_path_parameter_nullable(spec: Spec) -> int:
    count = 0
    for param in _parameter_objects(spec):
        if param.get("in") != "path":
            continue
        holders = [param, param.get("schema")]
        touched = False
        for holder in holders:
            if isinstance(holder, dict) and holder.get("nullable") is True:
                del holder["nullable"]
                touched = True
        count += touched
    return count


def _fix_boolean_enum(spec: Spec) -> int:
    count = 0
    for schema in iter_schema_nodes(spec):
        enum = schema.get("enum")
        if schema.get("type") != "boolean" or not isinstance(enum, list):
            continue
        redundant = {v for v in enum if isinstance(v, bool)} == {True, False}
        if schema.get("nullable") is True or redundant:
            del schema["enum"]
            count += 1
    return count


def _fix_nullable_enum_admits_null(spec: Spec) -> int:
    count = 0
    for schema in iter_schema_nodes(spec):
        enum = schema.get("enum")
        if schema.get("nullable") is True and isinstance(enum, list) and None not in enum:
            enum.append(None)
            count += 1
    return count


def _revision_header_template(spec: Spec) -> dict[str, Any]:
    """The revision header the other operations use (most common shape), else one built from info.version."""
    shapes: dict[str, int] = {}
    for op in iter_operations(spec):
        for param in operation_parameters(spec, op):
            if param.get("in") == "header" and param.get("name") == "revision" and param.get("required") is True:
                key = json.dumps(param, sort_keys=True)
                shapes[key] = shapes.get(key, 0) + 1
    if shapes:
        return dict(json.loads(max(shapes, key=lambda k: (shapes[k], k))))
    version = str((spec.get("info") or {}).get("version", ""))
    schema: dict[str, Any] = {"type": "string"}
    if version:
        schema["default"] = version
    return {
        "name": "revision",
        "in": "header",
        "description": "API endpoint revision (format: YYYY-MM-DD[.suffix])",
        "required": True,
        "schema": schema,
    }


def _fix_revision_header_required(spec: Spec) -> int:
    count = 0
    template: dict[str, Any] | None = None
    for op in iter_operations(spec):
        revision = next(
            (p for p in operation_parameters(spec, op) if p.get("in") == "header" and p.get("name") == "revision"),
            None,
        )
        if revision is None:
            template = template or _revision_header_template(spec)
            op.node.setdefault("parameters", []).append(copy.deepcopy(template))
            count += 1
        elif revision.get("required") is not True:
            revision["required"] = True
            count += 1
    return count


def _is_error_document_response(response: dict[str, Any]) -> bool:
    """A JSON:API error document body: an object whose required `errors` member is an array."""
    for media in (response.get("content") or {}).values():
        schema = media.get("schema") if isinstance(media, dict) else None
        if not isinstance(schema, dict):
            continue
        errors = (schema.get("properties") or {}).get("errors")
        if isinstance(errors, dict) and errors.get("type") == "array" and "errors" in (schema.get("required") or []):
            return True
    return False


def _fix_hoist_error_responses(spec: Spec) -> int:
    components = spec.setdefault("components", {})
    shared: dict[str, Any] = components.setdefault("responses", {})
    by_body = {json.dumps(body, sort_keys=True): name for name, body in shared.items() if isinstance(body, dict)}
    count = 0
    for op in iter_operations(spec):
        responses = op.node.get("responses") or {}
        for status, response in list(responses.items()):
            if not isinstance(response, dict) or "$ref" in response or not _is_error_document_response(response):
                continue
            key = json.dumps(response, sort_keys=True)
            name = by_body.get(key)
            if name is None:
                base = "ServerError" if str(status).startswith("5") else "ClientError"
                name, n = base, 2
                while name in shared:
                    name, n = f"{base}{n}", n + 1
                shared[name] = response
                by_body[key] = name
            responses[status] = {"$ref": join_pointer("#/components/responses", name)}
            count += 1
    if not shared:
        del components["responses"]
    return count


# Jinja/Django-style delimiters: `{{ x }}`, `{% tag %}`, `{# comment #}`.
_TEMPLATE_OPEN = re.compile(r"\{(?=[{%#])")
_TEMPLATE_CLOSE = re.compile(r"(?<=[}%#])\}")


def _neutralise_template(text: str) -> str:
    return _TEMPLATE_CLOSE.sub(" }", _TEMPLATE_OPEN.sub("{ ", text))


def _neutralise_value(value: Any) -> tuple[Any, int]:
    if isinstance(value, str):
        fixed = _neutralise_template(value)
        return fixed, int(fixed != value)
    if isinstance(value, list):
        pairs = [_neutralise_value(v) for v in value]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if isinstance(value, dict):
        count = 0
        out: dict[str, Any] = {}
        for k, v in value.items():
            out[k], n = _neutralise_value(v)
            count += n
        return out, count
    return value, 0


def _fix_template_delimiters_in_examples(spec: Spec) -> int:
    count = 0
    # (node, parent key) pairs; under "properties" the keys are property names, not keywords.
    stack: list[tuple[Any, str]] = [(spec, "")]
    while stack:
        node, parent = stack.pop()
        if isinstance(node, list):
            stack.extend((v, "") for v in node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if parent != "properties" and key == "example":
                node[key], n = _neutralise_value(value)
                count += n
            elif parent != "properties" and key == "examples" and isinstance(value, dict):
                for example in value.values():
                    if isinstance(example, dict) and "value" in example:
                        example["value"], n = _neutralise_value(example["value"])
                        count += n
            elif isinstance(value, (dict, list)):
                stack.append((value, key))
    return count


def _fix_drop_invalid_examples(spec: Spec) -> int:
    checker = SchemaValueChecker(spec)
    count = 0
    for schema in iter_schema_nodes(spec):
        if "example" in schema and not checker.is_valid(schema, schema["example"]):
            del schema["example"]
            count += 1
    return count


def _object_branches_may_overlap(spec: Spec, a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Could one object match both branches? False only when a property both require has disjoint values."""
    from ._walk import deref

    props_a, props_b = a.get("properties") or {}, b.get("properties") or {}
    for name in set(a.get("required") or []) & set(b.get("required") or []):
        pa, pb = deref(spec, props_a.get(name) or {}), deref(spec, props_b.get(name) or {})
        if not (isinstance(pa, dict) and isinstance(pb, dict)):
            continue
        if pa.get("type") in _PRIMITIVE_TYPES and pb.get("type") in _PRIMITIVE_TYPES and not _types_may_overlap(pa, pb):
            return False
    return True


def _fix_oneof_overlapping_objects(spec: Spec) -> int:
    from ._walk import deref

    count = 0
    for schema in iter_schema_nodes(spec):
        branches = schema.get("oneOf")
        if not isinstance(branches, list) or len(branches) < 2:
            continue
        resolved = [deref(spec, b) for b in branches]
        if not all(isinstance(r, dict) for r in resolved):
            continue
        if any(k in r for r in resolved for k in ("oneOf", "anyOf", "allOf", "not")):
            continue
        objects = [r for r in resolved if r.get("type") == "object" or "properties" in r]
        if len(objects) < 2:
            continue
        if any(_object_branches_may_overlap(spec, a, b) for i, a in enumerate(objects) for b in objects[i + 1 :]):
            _rename_key(schema, "oneOf", "anyOf")
            count += 1
    return count


# The explicit null alternative: what OpenAPI 3.0 `nullable` means where there is no `type` for it to extend.
_NULL_BRANCH: dict[str, Any] = {"enum": [None]}


def _admits_null(spec: Spec, branch: Any) -> bool:
    try:
        target = deref(spec, branch)
    except KeyError:
        return False
    return isinstance(target, dict) and (target.get("nullable") is True or None in (target.get("enum") or []))


def _fix_nullable_without_type(spec: Spec) -> int:
    count = 0
    for schema in iter_schema_nodes(spec):
        if schema.get("nullable") is not True or "type" in schema:
            continue
        if isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            items = [(k, v) for k, v in schema.items() if k != "nullable"]
            schema.clear()
            for key, value in items:
                if key == "$ref":
                    schema["anyOf"] = [{"$ref": ref}, dict(_NULL_BRANCH)]
                else:
                    schema[key] = value
        elif isinstance(schema.get("anyOf"), list):
            schema["anyOf"].append(dict(_NULL_BRANCH))
            del schema["nullable"]
        elif isinstance(schema.get("oneOf"), list):
            if any(_admits_null(spec, b) for b in schema["oneOf"]):
                continue  # null already matches a branch; another would make it match two
            schema["oneOf"].append(dict(_NULL_BRANCH))
            del schema["nullable"]
        elif isinstance(schema.get("allOf"), list) and "anyOf" not in schema:
            items = [(k, v) for k, v in schema.items() if k != "nullable"]
            schema.clear()
            for key, value in items:
                if key == "allOf":
                    schema["anyOf"] = [{"allOf": value}, dict(_NULL_BRANCH)]
                else:
                    schema[key] = value
        else:
            continue  # no type and no composition: the schema already accepts null
        count += 1
    return count


FIXES: list[Fix] = [
    Fix(
        "oneof-default-matches-several-branches",
        "A `oneOf` whose own `default`/`example` matches more than one branch (e.g. a free `string` next to a "
        "string `enum` containing the default) is self-contradictory: openapi-spec-validator rejects the "
        "default and every Draft 4 validator rejects that value. The branches are alternatives, not "
        "exclusive, so `anyOf` says what is meant.",
        _fix_oneof_default_matches_several,
    ),
    Fix(
        "oneof-overlapping-primitives",
        "An inline `oneOf` of primitive/array branches that can match the same value ([integer, number]: "
        "every integer is a number; two arrays: [] matches both; a formatted string next to a string enum) "
        "rejects valid values under Draft 4 `oneOf`. -> `anyOf`, which Connexion's jsonschema validation, "
        "openapi-python-client (a Union either way) and schemathesis all handle. Provably disjoint branches "
        "(e.g. [string, number]) are left alone.",
        _fix_oneof_overlapping_primitives,
    ),
    Fix(
        "path-parameter-not-nullable",
        "A path parameter cannot be null (an empty segment is not null and the URL would not match), but "
        "`nullable: true` makes generators type it `str | None` and validators accept None. Drop `nullable`.",
        _fix_path_parameter_nullable,
    ),
    Fix(
        "boolean-enum-nullable-or-redundant",
        "A boolean `enum` on a `nullable` schema: OpenAPI 3.0 `nullable` does not add null to an enum, so "
        "strict validators reject null, and openapi-python-client cannot build a nullable boolean enum and "
        "drops the whole enclosing model; `enum: [false, true]` says nothing. Drop the enum there (keeping "
        "type boolean + nullable). Non-nullable single-value enums (`[false]`, `[true]`, a const) are kept: "
        "every tool accepts them and they carry meaning.",
        _fix_boolean_enum,
    ),
    Fix(
        "nullable-enum-admits-null",
        "A `nullable` schema with an `enum` that does not list null (e.g. a flow's `trigger_type`, a coupon "
        "code's `status`): OpenAPI 3.0.3 says `nullable` does not add null to an `enum`, so strict validators "
        "reject the nulls Klaviyo sends and serves. List null among the values, the spelling 3.0.3 asks for; "
        "the generator keeps the enum class and types the field `X | None`.",
        _fix_nullable_enum_admits_null,
    ),
    Fix(
        "oneof-overlapping-objects",
        "A `oneOf` of object branches with no required property telling them apart (e.g. campaign "
        "`send_options`: Email/SMS/Push options that are all `{use_smart_sending}`) matches a valid object "
        "under several branches, so Draft 4 `oneOf` rejects every such value: real request bodies fail "
        "validation and no response can be schema-valid. -> `anyOf`. Branches told apart by a required "
        "property with disjoint enums (JSON:API `type`) keep `oneOf`. Runs after the boolean-enum fix, "
        "which can make branches overlap.",
        _fix_oneof_overlapping_objects,
    ),
    Fix(
        "revision-header-required",
        "Every Klaviyo operation takes the required `revision` header (the API rejects requests without it), "
        "but some operations declare it optional or omit it. Make it required (adding the header the other "
        "operations use where it is missing) so generated clients always send it and the mock checks it.",
        _fix_revision_header_required,
    ),
    Fix(
        "hoist-inline-error-responses",
        "Per-operation inline JSON:API error responses (the ClientError/ServerError bodies) duplicate one "
        "shape per operation: generators emit one model per copy and the spec balloons. Identical copies are "
        "replaced by a `$ref` to a shared `#/components/responses/ClientError`/`ServerError` (created from "
        "the first copy when absent).",
        _fix_hoist_error_responses,
    ),
    Fix(
        "template-delimiters-in-examples",
        "Example strings holding Klaviyo template tags (`{{ event.url }}`, `{% if %}`) are read as template "
        "syntax by Jinja-based tooling (client/doc templates) that embeds examples. Break the delimiters "
        "(`{{` -> `{ {`, `}}` -> `} }`, likewise `{%`/`%}`/`{#`/`#}`): the text stays readable and inert.",
        _fix_template_delimiters_in_examples,
    ),
    Fix(
        "nullable-without-type",
        "`nullable: true` next to `$ref` (siblings of a reference are ignored in OpenAPI 3.0) or on a bare "
        "oneOf/anyOf/allOf (nullable only extends a `type` in the same schema) does not admit null, so strict "
        "validators (openapi-schema-validator, Connexion) reject the nulls Klaviyo sends, and "
        "openapi-python-client ignores it next to `$ref` (typing the field non-optional, so parsing null "
        "crashes). Spell it out: an explicit `{enum: [null]}` alternative (`$ref` -> `anyOf: [$ref, null]`; "
        "`allOf` -> `anyOf: [{allOf}, null]`; appended to `anyOf`/`oneOf`). Generated types become `X | None`.",
        _fix_nullable_without_type,
    ),
    Fix(
        "drop-invalid-examples",
        "An `example` that fails its own schema (after the fixes above; e.g. a list example on the string "
        "item of an array) would be sent or served as-is by schemathesis' example phase and the mock's "
        "sample responses. Examples are documentation only: drop the invalid ones.",
        _fix_drop_invalid_examples,
    ),
]


def apply_overlay(spec: Spec, *, fixes: list[Fix] | None = None, copy_spec: bool = True) -> OverlayResult:
    """Apply every fix in order; the input is left untouched unless `copy_spec=False`."""
    target = copy.deepcopy(spec) if copy_spec else spec
    report = [FixReport(f.name, f.reason, f.apply(target)) for f in (FIXES if fixes is None else fixes)]
    return OverlayResult(target, report)
