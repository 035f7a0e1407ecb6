"""The overlay: Klaviyo's raw spec -> the spec our generator, mock, validator and tests accept.

One list of named fixes. Each is declared once: its name, the reason it exists, the consumer that breaks without
it, a *detector* (every place the shape occurs, located by JSON pointer) and a *repair* (mutates in place, returns
how many places it changed: exactly the places the detector reports, and is idempotent). Fixes match by *shape*,
never by schema name, so they keep working on revisions nobody has looked at yet. Every consumer calls
`apply_overlay`; `kdk spec validate` reports a raw spec's overlay findings by calling the detectors, so the two
cannot drift apart. docs/overlay.md is the catalogue.

Adding a fix: a schema-level fix is a `_SchemaRule` (a `check(ctx, schema) -> message | None` and a
`repair(ctx, schema)` for one node); anything else writes `detect(spec)` and `repair(spec)` over the same
helper, so both see the same places. Then add a `Fix(...)` to `FIXES`. Order matters only where noted.
Repairs loop over `iter_schema_nodes(spec)` (no pointers, fast); detectors over `iter_schemas` (pointers). The
overlay runs at every mock start and generation: keep it < 1 s on the 3 MB spec
(`scripts/bench_spec_validate.py` measures it).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ._severity import Severity
from ._values import SchemaValueChecker
from ._walk import (
    deref,
    iter_operations,
    iter_parameter_objects,
    iter_schema_nodes,
    iter_schemas,
    join_pointer,
    located_parameters,
    operation_parameters,
)

__all__ = ["FIXES", "Fix", "FixReport", "OverlayResult", "Problem", "apply_overlay"]

Spec = dict[str, Any]


class Problem(NamedTuple):
    """One place a fix's detector flags: where, what is wrong there, and (rarely) a milder severity than the
    fix's own when this occurrence of the shape breaks nothing."""

    pointer: str
    message: str
    severity: Severity | None = None


@dataclass(frozen=True)
class Fix:
    name: str
    reason: str
    detect: Callable[[Spec], Iterator[Problem]]  # every place the shape occurs; never mutates
    repair: Callable[[Spec], int]  # mutates the spec in place, returns how many places it changed
    breaks: str  # the consumer(s) that break when the shape is left as it is
    severity: Severity = Severity.error  # what `kdk spec validate --raw` calls each detected place


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


def _types_may_overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Could one value match both primitive/array branches? False only when provably disjoint."""
    ta, tb = a.get("type"), b.get("type")
    numeric = {"integer", "number"}
    if ta != tb and not (ta in numeric and tb in numeric):
        return False
    if isinstance(a.get("enum"), list) and isinstance(b.get("enum"), list):
        return any(x == y and type(x) is type(y) for x in a["enum"] for y in b["enum"])
    return True  # same type, at most one enum: pattern/format/length may not be asserted by every validator


class _Context:
    """What a schema rule may need besides the node: the spec, and one value checker built on first use."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._checker: SchemaValueChecker | None = None

    @property
    def checker(self) -> SchemaValueChecker:
        if self._checker is None:
            self._checker = SchemaValueChecker(self.spec)
        return self._checker


@dataclass(frozen=True)
class _SchemaRule:
    """A fix that looks at one schema node at a time. `check` says what is wrong with a node (None: nothing);
    `repair_node` fixes that node. Detector and repair both run `check`, so they agree on every place."""

    check: Callable[[_Context, dict[str, Any]], str | None]
    repair_node: Callable[[_Context, dict[str, Any]], None]
    keyword: str = ""  # appended to the schema's pointer in findings (the keyword at fault)
    severity_of: Callable[[dict[str, Any]], Severity | None] = lambda schema: None  # a milder one for this node

    def detect(self, spec: Spec) -> Iterator[Problem]:
        ctx = _Context(spec)
        for pointer, schema in iter_schemas(spec):
            if isinstance(schema, dict) and (message := self.check(ctx, schema)) is not None:
                where = join_pointer(pointer, self.keyword) if self.keyword else pointer
                yield Problem(where, message, self.severity_of(schema))

    def repair(self, spec: Spec) -> int:
        ctx = _Context(spec)
        count = 0
        for schema in iter_schema_nodes(spec):
            if self.check(ctx, schema) is not None:
                self.repair_node(ctx, schema)
                count += 1
        return count


# --- the fixes: schema shapes ---------------------------------------------------------------------

# The JSON type of a literal, as OpenAPI names it (bool before int: True is an int in Python).
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (dict, "object"),
    (list, "array"),
)


def _json_type(value: Any) -> str | None:
    return next((name for cls, name in _JSON_TYPES if isinstance(value, cls)), None)


def _enum_values_type(enum: list[Any]) -> str | None:
    """The one JSON type every non-null value of an enum has (integers and numbers together: number), else None."""
    kinds = {_json_type(v) for v in enum if v is not None}
    if kinds == {"integer", "number"}:
        return "number"
    return kinds.pop() if len(kinds) == 1 and None not in kinds else None


def _check_enum_type(ctx: _Context, schema: dict[str, Any]) -> str | None:
    enum = schema.get("enum")
    if not isinstance(enum, list) or "$ref" in schema:
        return None
    values_type = _enum_values_type(enum)
    declared = schema.get("type")
    if not isinstance(declared, (str, type(None))):
        return None  # a list of types (OpenAPI 3.1) says what it means
    if values_type is None or declared == values_type or (declared == "number" and values_type == "integer"):
        return None
    if declared is None and values_type == "boolean":
        return "`enum` without `type` (its values are booleans): openapi-python-client drops the enclosing model"
    if declared is None:
        return f"`enum` without `type` (its values are all {values_type}s): each tool has to guess the type"
    return f"`type: {declared}` but every `enum` value is a {values_type}: no value can be valid"


def _repair_enum_type(ctx: _Context, schema: dict[str, Any]) -> None:
    enum = schema["enum"]
    schema["type"] = _enum_values_type(enum)
    if None in enum:
        schema["nullable"] = True


def _enum_type_severity(schema: dict[str, Any]) -> Severity | None:
    # A typeless enum of strings or numbers is read right by every tool we use; booleans and contradictions are not.
    if "type" not in schema and _enum_values_type(schema["enum"]) != "boolean":
        return Severity.warning
    return None


_ENUM_TYPE = _SchemaRule(_check_enum_type, _repair_enum_type, keyword="enum", severity_of=_enum_type_severity)


def _check_array_items(ctx: _Context, schema: dict[str, Any]) -> str | None:
    if schema.get("type") == "array" and "items" not in schema:
        return "`type: array` without `items` (OpenAPI 3.0 requires it): the generator drops a nullable one's model"
    return None


def _repair_array_items(ctx: _Context, schema: dict[str, Any]) -> None:
    schema["items"] = {}  # JSON Schema's meaning of a missing `items`: any value


_ARRAY_ITEMS = _SchemaRule(_check_array_items, _repair_array_items)


def _check_oneof_default(ctx: _Context, schema: dict[str, Any]) -> str | None:
    branches = schema.get("oneOf")
    if not isinstance(branches, list) or len(branches) < 2:
        return None
    for keyword in ("default", "example"):
        if keyword in schema and sum(ctx.checker.is_valid(b, schema[keyword]) for b in branches) > 1:
            return f"the schema's own `{keyword}` matches several `oneOf` branches, so `oneOf` rejects it"
    return None


def _to_any_of(ctx: _Context, schema: dict[str, Any]) -> None:
    _rename_key(schema, "oneOf", "anyOf")


_ONEOF_DEFAULT = _SchemaRule(_check_oneof_default, _to_any_of, keyword="oneOf")


def _check_oneof_primitives(ctx: _Context, schema: dict[str, Any]) -> str | None:
    branches = schema.get("oneOf")
    if not isinstance(branches, list) or len(branches) < 2:
        return None
    primitive = _PRIMITIVE_TYPES | {"array"}
    if not all(isinstance(b, dict) and "$ref" not in b and b.get("type") in primitive for b in branches):
        return None
    if any(_types_may_overlap(a, b) for i, a in enumerate(branches) for b in branches[i + 1 :]):
        return "oneOf branches can match the same value, so Draft 4 validators reject it (use anyOf)"
    return None


_ONEOF_PRIMITIVES = _SchemaRule(_check_oneof_primitives, _to_any_of, keyword="oneOf")


def _check_boolean_enum(ctx: _Context, schema: dict[str, Any]) -> str | None:
    enum = schema.get("enum")
    if schema.get("type") != "boolean" or not isinstance(enum, list):
        return None
    if schema.get("nullable") is True:
        return "nullable boolean enum: null is not in the enum, and openapi-python-client drops the model"
    if {v for v in enum if isinstance(v, bool)} == {True, False}:
        return "boolean enum listing both values says nothing (and makes a needless enum class)"
    return None


def _repair_boolean_enum(ctx: _Context, schema: dict[str, Any]) -> None:
    del schema["enum"]


_BOOLEAN_ENUM = _SchemaRule(_check_boolean_enum, _repair_boolean_enum, keyword="enum")


def _check_nullable_enum(ctx: _Context, schema: dict[str, Any]) -> str | None:
    enum = schema.get("enum")
    if schema.get("nullable") is True and isinstance(enum, list) and None not in enum:
        return "nullable `enum` without null among its values: strict validators reject null (OpenAPI 3.0.3)"
    return None


def _repair_nullable_enum(ctx: _Context, schema: dict[str, Any]) -> None:
    schema["enum"].append(None)


_NULLABLE_ENUM = _SchemaRule(_check_nullable_enum, _repair_nullable_enum, keyword="enum")


def _object_branches_may_overlap(spec: Spec, a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Could one object match both branches? False only when a property both require has disjoint values."""
    props_a, props_b = a.get("properties") or {}, b.get("properties") or {}
    for name in set(a.get("required") or []) & set(b.get("required") or []):
        pa, pb = deref(spec, props_a.get(name) or {}), deref(spec, props_b.get(name) or {})
        if not (isinstance(pa, dict) and isinstance(pb, dict)):
            continue
        if pa.get("type") in _PRIMITIVE_TYPES and pb.get("type") in _PRIMITIVE_TYPES and not _types_may_overlap(pa, pb):
            return False
    return True


def _check_oneof_objects(ctx: _Context, schema: dict[str, Any]) -> str | None:
    branches = schema.get("oneOf")
    if not isinstance(branches, list) or len(branches) < 2:
        return None
    try:
        resolved = [deref(ctx.spec, b) for b in branches]
    except KeyError:
        return None  # a broken reference: the ref-unresolved rule reports it
    if not all(isinstance(r, dict) for r in resolved):
        return None
    if any(k in r for r in resolved for k in ("oneOf", "anyOf", "allOf", "not")):
        return None
    objects = [r for r in resolved if r.get("type") == "object" or "properties" in r]
    if len(objects) < 2:
        return None
    if any(_object_branches_may_overlap(ctx.spec, a, b) for i, a in enumerate(objects) for b in objects[i + 1 :]):
        return "object branches that no required property tells apart: a valid object matches several, oneOf rejects it"
    return None


_ONEOF_OBJECTS = _SchemaRule(_check_oneof_objects, _to_any_of, keyword="oneOf")


# The explicit null alternative: what OpenAPI 3.0 `nullable` means where there is no `type` for it to extend.
_NULL_BRANCH: dict[str, Any] = {"enum": [None]}


def _admits_null(spec: Spec, branch: Any) -> bool:
    try:
        target = deref(spec, branch)
    except KeyError:
        return False
    return isinstance(target, dict) and (target.get("nullable") is True or None in (target.get("enum") or []))


def _check_nullable_without_type(ctx: _Context, schema: dict[str, Any]) -> str | None:
    if schema.get("nullable") is not True or "type" in schema:
        return None
    # The same order as the repair: $ref, anyOf, oneOf, allOf.
    composition = "on a composition without `type`, where it has no effect"
    if isinstance(schema.get("$ref"), str):
        where = "next to $ref, where OpenAPI 3.0 ignores it"
    elif isinstance(schema.get("anyOf"), list):
        where = composition
    elif isinstance(schema.get("oneOf"), list):
        if any(_admits_null(ctx.spec, b) for b in schema["oneOf"]):
            return None  # null already matches a branch; another would make it match two
        where = composition
    elif isinstance(schema.get("allOf"), list):
        where = composition
    else:
        return None  # no type and no composition: the schema already accepts null
    return f"`nullable: true` {where}: strict validators reject null here (add an explicit null alternative)"


def _replace_key(schema: dict[str, Any], old: str, new: str, value: Any) -> None:
    """Swap `old` for `new: value` in place, keeping the key's position, and drop `nullable`."""
    items = [(new, value) if k == old else (k, v) for k, v in schema.items() if k != "nullable"]
    schema.clear()
    schema.update(items)


def _repair_nullable_without_type(ctx: _Context, schema: dict[str, Any]) -> None:
    if isinstance(schema.get("$ref"), str):
        _replace_key(schema, "$ref", "anyOf", [{"$ref": schema["$ref"]}, dict(_NULL_BRANCH)])
    elif isinstance(schema.get("anyOf"), list):
        schema["anyOf"].append(dict(_NULL_BRANCH))
        del schema["nullable"]
    elif isinstance(schema.get("oneOf"), list):
        schema["oneOf"].append(dict(_NULL_BRANCH))
        del schema["nullable"]
    else:
        _replace_key(schema, "allOf", "anyOf", [{"allOf": schema["allOf"]}, dict(_NULL_BRANCH)])


_NULLABLE_WITHOUT_TYPE = _SchemaRule(_check_nullable_without_type, _repair_nullable_without_type, keyword="nullable")


def _invalid_value_rule(keyword: str) -> _SchemaRule:
    """`keyword` (`example`, `default`) that fails the schema it sits in: dropped."""

    def check(ctx: _Context, schema: dict[str, Any]) -> str | None:
        if keyword not in schema:
            return None
        error = ctx.checker.first_error(schema, schema[keyword])
        return None if error is None else " ".join(f"{keyword} fails its own schema: {error}".split())[:300]

    def repair(ctx: _Context, schema: dict[str, Any]) -> None:
        del schema[keyword]

    return _SchemaRule(check, repair, keyword=keyword)


_INVALID_EXAMPLES = _invalid_value_rule("example")
_INVALID_DEFAULTS = _invalid_value_rule("default")


# --- the fixes: parameters, operations, responses ---------------------------------------------------


def _nullable_path_parameters(spec: Spec) -> Iterator[tuple[str, dict[str, Any]]]:
    for pointer, param in iter_parameter_objects(spec):
        schema = param.get("schema")
        if param.get("in") == "path" and (
            param.get("nullable") is True or (isinstance(schema, dict) and schema.get("nullable") is True)
        ):
            yield pointer, param


def _detect_path_parameter_nullable(spec: Spec) -> Iterator[Problem]:
    for pointer, param in _nullable_path_parameters(spec):
        yield Problem(pointer, f"path parameter {param.get('name')!r} is nullable (a path segment cannot be null)")


def _repair_path_parameter_nullable(spec: Spec) -> int:
    found = list(_nullable_path_parameters(spec))
    for _, param in found:
        for holder in (param, param.get("schema")):
            if isinstance(holder, dict) and holder.get("nullable") is True:
                del holder["nullable"]
    return len(found)


def _revision_header_problems(spec: Spec) -> Iterator[tuple[str, str, Any, dict[str, Any] | None]]:
    """(pointer, message, operation, the header when it is there but optional): each optional header once."""
    seen: set[str] = set()
    for op in iter_operations(spec):
        header = next(
            (
                (where, p)
                for where, p in located_parameters(spec, op)
                if (p.get("name"), p.get("in")) == ("revision", "header")
            ),
            None,
        )
        if header is None:
            yield op.pointer, "no `revision` header parameter", op, None
        elif header[1].get("required") is not True and header[0] not in seen:
            seen.add(header[0])
            yield header[0], "the `revision` header is not required", op, header[1]


def _detect_revision_header(spec: Spec) -> Iterator[Problem]:
    for pointer, message, _, _ in _revision_header_problems(spec):
        yield Problem(pointer, message)


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


def _repair_revision_header(spec: Spec) -> int:
    found = list(_revision_header_problems(spec))
    template: dict[str, Any] | None = None
    for _, _, op, header in found:
        if header is None:
            template = template or _revision_header_template(spec)
            op.node.setdefault("parameters", []).append(copy.deepcopy(template))
        else:
            header["required"] = True
    return len(found)


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


def _inline_error_responses(spec: Spec) -> Iterator[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """(pointer, responses map, status, response) of every inline JSON:API error response."""
    for op in iter_operations(spec):
        responses = op.node.get("responses") or {}
        for status, response in list(responses.items()):
            if isinstance(response, dict) and "$ref" not in response and _is_error_document_response(response):
                yield join_pointer(op.pointer, "responses", status), responses, str(status), response


def _detect_inline_error_responses(spec: Spec) -> Iterator[Problem]:
    for pointer, _, _, _ in _inline_error_responses(spec):
        yield Problem(pointer, "inline JSON:API error response (share it via #/components/responses)")


def _repair_inline_error_responses(spec: Spec) -> int:
    found = list(_inline_error_responses(spec))
    if not found:
        return 0
    shared: dict[str, Any] = spec.setdefault("components", {}).setdefault("responses", {})
    by_body = {json.dumps(body, sort_keys=True): name for name, body in shared.items() if isinstance(body, dict)}
    for _, responses, status, response in found:
        key = json.dumps(response, sort_keys=True)
        name = by_body.get(key)
        if name is None:
            base = "ServerError" if status.startswith("5") else "ClientError"
            name, n = base, 2
            while name in shared:
                name, n = f"{base}{n}", n + 1
            shared[name] = response
            by_body[key] = name
        responses[status] = {"$ref": join_pointer("#/components/responses", name)}
    return len(found)


# --- the fixes: example text -------------------------------------------------------------------------

# Jinja/Django-style delimiters: `{{ x }}`, `{% tag %}`, `{# comment #}`.
_TEMPLATE_OPEN = re.compile(r"\{(?=[{%#])")
_TEMPLATE_CLOSE = re.compile(r"(?<=[}%#])\}")


def _neutralise_template(text: str) -> str:
    return _TEMPLATE_CLOSE.sub(" }", _TEMPLATE_OPEN.sub("{ ", text))


def _example_strings(spec: Spec, *, pointers: bool) -> Iterator[tuple[str, Any, Any]]:
    """(pointer, container, key) of every string inside an `example` or an Example Object's `value`.
    Pointers are built only when asked (the overlay's repair walks the whole 3 MB spec and needs none)."""

    def join(base: str, token: Any) -> str:
        return join_pointer(base, token) if pointers else ""

    def slot(container: Any, key: Any, pointer: str) -> Iterator[tuple[str, Any, Any]]:
        stack: list[tuple[Any, Any, str]] = [(container, key, pointer)]
        while stack:
            holder, k, at = stack.pop()
            value = holder[k]
            if isinstance(value, str):
                yield at, holder, k
            elif isinstance(value, dict):
                stack.extend((value, child, join(at, child)) for child in value)
            elif isinstance(value, list):
                stack.extend((value, i, join(at, i)) for i in range(len(value)))

    # (node, parent key, pointer); under "properties" the keys are property names, not keywords.
    stack: list[tuple[Any, str, str]] = [(spec, "", "#")]
    while stack:
        node, parent, pointer = stack.pop()
        if isinstance(node, list):
            stack.extend((v, "", join(pointer, i)) for i, v in enumerate(node) if isinstance(v, (dict, list)))
            continue
        for key, value in node.items():
            here = join(pointer, key)
            if parent != "properties" and key == "example":
                yield from slot(node, key, here)
            elif parent != "properties" and key == "examples" and isinstance(value, dict):
                for name, example in value.items():
                    if isinstance(example, dict) and "value" in example:
                        yield from slot(example, "value", join(join(here, name), "value"))
            elif isinstance(value, (dict, list)):
                stack.append((value, str(key), here))


def _detect_template_delimiters(spec: Spec) -> Iterator[Problem]:
    for pointer, container, key in _example_strings(spec, pointers=True):
        if _neutralise_template(container[key]) != container[key]:
            yield Problem(
                pointer, "example holds template delimiters ({{ }}, {% %}) that Jinja-based tooling interprets"
            )


def _repair_template_delimiters(spec: Spec) -> int:
    count = 0
    for _, container, key in list(_example_strings(spec, pointers=False)):
        fixed = _neutralise_template(container[key])
        if fixed != container[key]:
            container[key] = fixed
            count += 1
    return count


FIXES: list[Fix] = [
    Fix(
        "enum-type-from-values",
        "An `enum` whose values all have one JSON type but whose `type` is missing (segment/consent conditions: "
        "`is_member: {enum: [true]}`) or contradicts them (`type: integer` with string values and a string "
        "default): openapi-python-client cannot build a property without a type and drops the whole enclosing "
        "model; with the wrong type no value (nor the schema's own default) is valid. The values say what the type "
        "is: set it (plus `nullable` when null is among them). Runs first: the enum fixes below look at `type`.",
        _ENUM_TYPE.detect,
        _ENUM_TYPE.repair,
        "generator (drops the model), validator (default/values invalid), mock",
    ),
    Fix(
        "array-items-required",
        "`type: array` without `items` (OpenAPI 3.0 requires `items`; e.g. a nullable `filters` array): "
        "openapi-python-client cannot build the union for a nullable one and drops the enclosing model. "
        "`items: {}` is what a missing `items` means in JSON Schema: any value.",
        _ARRAY_ITEMS.detect,
        _ARRAY_ITEMS.repair,
        "generator (drops the model)",
    ),
    Fix(
        "oneof-default-matches-several-branches",
        "A `oneOf` whose own `default`/`example` matches more than one branch (e.g. a free `string` next to a "
        "string `enum` containing the default) is self-contradictory: openapi-spec-validator rejects the "
        "default and every Draft 4 validator rejects that value. The branches are alternatives, not "
        "exclusive, so `anyOf` says what is meant.",
        _ONEOF_DEFAULT.detect,
        _ONEOF_DEFAULT.repair,
        "validator (openapi-spec-validator rejects the default), mock",
    ),
    Fix(
        "oneof-overlapping-primitives",
        "An inline `oneOf` of primitive/array branches that can match the same value ([integer, number]: "
        "every integer is a number; two arrays: [] matches both; a formatted string next to a string enum) "
        "rejects valid values under Draft 4 `oneOf`. -> `anyOf`, which Connexion's jsonschema validation, "
        "openapi-python-client (a Union either way) and schemathesis all handle. Provably disjoint branches "
        "(e.g. [string, number]) are left alone.",
        _ONEOF_PRIMITIVES.detect,
        _ONEOF_PRIMITIVES.repair,
        "mock (rejects valid requests), contract tests",
    ),
    Fix(
        "path-parameter-not-nullable",
        "A path parameter cannot be null (an empty segment is not null and the URL would not match), but "
        "`nullable: true` makes generators type it `str | None` and validators accept None. Drop `nullable`.",
        _detect_path_parameter_nullable,
        _repair_path_parameter_nullable,
        "generator (skips the operation)",
    ),
    Fix(
        "boolean-enum-nullable-or-redundant",
        "A boolean `enum` on a `nullable` schema: OpenAPI 3.0 `nullable` does not add null to an enum, so "
        "strict validators reject null, and openapi-python-client cannot build a nullable boolean enum and "
        "drops the whole enclosing model; `enum: [false, true]` says nothing. Drop the enum there (keeping "
        "type boolean + nullable). Non-nullable single-value enums (`[false]`, `[true]`, a const) are kept: "
        "every tool accepts them and they carry meaning.",
        _BOOLEAN_ENUM.detect,
        _BOOLEAN_ENUM.repair,
        "generator (drops the model), mock (rejects null)",
    ),
    Fix(
        "nullable-enum-admits-null",
        "A `nullable` schema with an `enum` that does not list null (e.g. a flow's `trigger_type`, a coupon "
        "code's `status`): OpenAPI 3.0.3 says `nullable` does not add null to an `enum`, so strict validators "
        "reject the nulls Klaviyo sends and serves. List null among the values, the spelling 3.0.3 asks for; "
        "the generator keeps the enum class and types the field `X | None`.",
        _NULLABLE_ENUM.detect,
        _NULLABLE_ENUM.repair,
        "mock and client (reject the nulls Klaviyo sends)",
    ),
    Fix(
        "oneof-overlapping-objects",
        "A `oneOf` of object branches with no required property telling them apart (e.g. campaign "
        "`send_options`: Email/SMS/Push options that are all `{use_smart_sending}`) matches a valid object "
        "under several branches, so Draft 4 `oneOf` rejects every such value: real request bodies fail "
        "validation and no response can be schema-valid. -> `anyOf`. Branches told apart by a required "
        "property with disjoint enums (JSON:API `type`) keep `oneOf`. Runs after the boolean-enum fix, "
        "which can make branches overlap.",
        _ONEOF_OBJECTS.detect,
        _ONEOF_OBJECTS.repair,
        "mock (rejects valid bodies), contract tests",
    ),
    Fix(
        "revision-header-required",
        "Every Klaviyo operation takes the required `revision` header (the API rejects requests without it), "
        "but some operations declare it optional or omit it. Make it required (adding the header the other "
        "operations use where it is missing) so generated clients always send it and the mock checks it.",
        _detect_revision_header,
        _repair_revision_header,
        "client (may omit the header), mock (cannot pick the revision)",
    ),
    Fix(
        "hoist-inline-error-responses",
        "Per-operation inline JSON:API error responses (the ClientError/ServerError bodies) duplicate one "
        "shape per operation: generators emit one model per copy and the spec balloons. Identical copies are "
        "replaced by a `$ref` to a shared `#/components/responses/ClientError`/`ServerError` (created from "
        "the first copy when absent).",
        _detect_inline_error_responses,
        _repair_inline_error_responses,
        "generator (one error model per operation)",
        Severity.warning,
    ),
    Fix(
        "template-delimiters-in-examples",
        "Example strings holding Klaviyo template tags (`{{ event.url }}`, `{% if %}`) are read as template "
        "syntax by Jinja-based tooling (client/doc templates) that embeds examples. Break the delimiters "
        "(`{{` -> `{ {`, `}}` -> `} }`, likewise `{%`/`%}`/`{#`/`#}`): the text stays readable and inert.",
        _detect_template_delimiters,
        _repair_template_delimiters,
        "Jinja-based templates that embed examples",
        Severity.warning,
    ),
    Fix(
        "nullable-without-type",
        "`nullable: true` next to `$ref` (siblings of a reference are ignored in OpenAPI 3.0) or on a bare "
        "oneOf/anyOf/allOf (nullable only extends a `type` in the same schema) does not admit null, so strict "
        "validators (openapi-schema-validator, Connexion) reject the nulls Klaviyo sends, and "
        "openapi-python-client ignores it next to `$ref` (typing the field non-optional, so parsing null "
        "crashes). Spell it out: an explicit `{enum: [null]}` alternative (`$ref` -> `anyOf: [$ref, null]`; "
        "`allOf` -> `anyOf: [{allOf}, null]`; appended to `anyOf`/`oneOf`). Generated types become `X | None`.",
        _NULLABLE_WITHOUT_TYPE.detect,
        _NULLABLE_WITHOUT_TYPE.repair,
        "mock and client (reject or crash on the nulls Klaviyo sends)",
    ),
    Fix(
        "drop-invalid-examples",
        "An `example` that fails its own schema (after the fixes above; e.g. a list example on the string "
        "item of an array) would be sent or served as-is by schemathesis' example phase and the mock's "
        "sample responses. Examples are documentation only: drop the invalid ones.",
        _INVALID_EXAMPLES.detect,
        _INVALID_EXAMPLES.repair,
        "mock (serves invalid samples), contract tests (send invalid requests)",
    ),
    Fix(
        "drop-invalid-defaults",
        "A `default` that fails its own schema (after the fixes above, which repair the schema where its "
        "shape says how): openapi-spec-validator rejects the spec, generators emit a default of the wrong "
        "type (mypy fails) and the mock would fill it in. A default no valid value can equal means nothing: "
        "drop it. Runs last, so every repair that can make a default valid has run.",
        _INVALID_DEFAULTS.detect,
        _INVALID_DEFAULTS.repair,
        "validator (openapi-spec-validator), generator (mistyped default), mock",
    ),
]


def apply_overlay(spec: Spec, *, fixes: list[Fix] | None = None, copy_spec: bool = True) -> OverlayResult:
    """Apply every fix in order; the input is left untouched unless `copy_spec=False`."""
    target = copy.deepcopy(spec) if copy_spec else spec
    report = [FixReport(f.name, f.reason, f.repair(target)) for f in (FIXES if fixes is None else fixes)]
    return OverlayResult(target, report)
