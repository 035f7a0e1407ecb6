"""`kdk spec validate`: every problem in a spec, each located by a JSON pointer and named by a rule.

Three layers, all reported as `Finding`s:
- the OpenAPI 3.0 structure and schema defaults (openapi-spec-validator, all errors, not just the first),
- full `$ref` resolution with prance (recursive schemas such as `Step` are kept as references),
- Klaviyo's conventions and the shapes our tools trip on (the same shapes the overlay fixes), so the raw
  spec's findings explain what `kdk spec patch` changes and a patched spec must come out clean.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from ._overlay import _admits_null, _is_error_document_response, _neutralise_template, _types_may_overlap
from ._values import SchemaValueChecker, iter_value_problems
from ._walk import Operation, iter_operations, iter_schemas, join_pointer, resolve_pointer

__all__ = ["RULES", "Finding", "validate_spec"]

Spec = dict[str, Any]


@dataclass(frozen=True, order=True)
class Finding:
    pointer: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# --- OpenAPI structure: openapi-spec-validator ---------------------------------------------------


def _pointer_index(spec: Spec) -> dict[int, str]:
    """id(node) -> JSON pointer of every dict/list in the spec (built only when errors need locating)."""
    index: dict[int, str] = {}
    stack: list[tuple[str, Any]] = [("#", spec)]
    while stack:
        pointer, node = stack.pop()
        if isinstance(node, dict):
            index.setdefault(id(node), pointer)
            stack.extend((join_pointer(pointer, k), v) for k, v in node.items() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            index.setdefault(id(node), pointer)
            stack.extend((join_pointer(pointer, i), v) for i, v in enumerate(node) if isinstance(v, (dict, list)))
    return index


def _located_validator_class(base: type[Any]) -> type[Any]:
    """openapi-spec-validator's errors carry no location; this subclass tags each error with the node
    (schema, parameter, operation...) the innermost keyword validator was looking at."""
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    def locate(cls: type[Any], suffix: str = "") -> type[Any]:
        class Located(cls):  # type: ignore[misc]
            def __call__(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
                where = next((a for a in args if isinstance(a, SchemaPath)), None)
                for error in super().__call__(*args, **kwargs):
                    if not isinstance(error, OpenAPIValidationError):
                        # the outer wrapper re-creates foreign errors, which would drop our tag
                        error = OpenAPIValidationError.create_from(error)
                    if where is not None and not hasattr(error, "kdk_node"):
                        error.kdk_node = where.read_value()
                        error.kdk_suffix = suffix
                    yield error

        Located.__name__ = f"Located{cls.__name__}"
        return Located

    keywords = {
        name: locate(cls, "/default" if name == "default" else "") for name, cls in base.keyword_validators.items()
    }
    return type(f"Located{base.__name__}", (base,), {"keyword_validators": keywords})


def _openapi_findings(spec: Spec) -> Iterator[Finding]:
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    version = str(spec.get("openapi", ""))
    if version.startswith("3.0"):
        base: type[Any] = OpenAPIV30SpecValidator
    elif version.startswith("3.1"):
        base = OpenAPIV31SpecValidator
    else:
        yield Finding("#/openapi", "openapi-version", f"not an OpenAPI 3.0/3.1 document (openapi: {version!r})")
        return
    index: dict[int, str] | None = None
    for error in _located_validator_class(base)(spec).iter_errors():
        node = getattr(error, "kdk_node", None)
        if node is not None:
            index = index if index is not None else _pointer_index(spec)
            pointer = index.get(id(node), "#") + getattr(error, "kdk_suffix", "")
        else:  # a meta-schema error: jsonschema knows the path from the document root
            pointer = join_pointer("#", *error.absolute_path)
        yield Finding(pointer, "openapi-schema", _one_line(error.message))


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- $ref resolution ------------------------------------------------------------------------------


def _ref_findings(spec: Spec) -> Iterator[Finding]:
    """Every `$ref` is local and points at something (property *names* called `$ref` are not references)."""
    stack: list[tuple[str, Any, str]] = [("#", spec, "")]
    while stack:
        pointer, node, parent = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if parent != "properties" and isinstance(ref, str):
                where = join_pointer(pointer, "$ref")
                if not ref.startswith("#"):
                    yield Finding(where, "ref-unresolved", f"non-local reference {ref!r} (the spec must be one file)")
                else:
                    try:
                        resolve_pointer(spec, ref)
                    except KeyError:
                        yield Finding(where, "ref-unresolved", f"{ref!r} points nowhere")
            stack.extend((join_pointer(pointer, k), v, k) for k, v in node.items() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((join_pointer(pointer, i), v, "") for i, v in enumerate(node) if isinstance(v, (dict, list)))


def _prance_findings(spec: Spec) -> Iterator[Finding]:
    """Resolve every reference with prance. Recursive schemas (`Step` contains `Step`) keep their `$ref`
    after one expansion instead of raising, and only local references are followed (fast, offline)."""
    from prance.util.resolver import RESOLVE_INTERNAL, RefResolver, keep_ref_on_recursion

    resolver = RefResolver(
        spec,
        "file:///spec.json",
        resolve_types=RESOLVE_INTERNAL,
        recursion_limit=1,
        recursion_limit_handler=keep_ref_on_recursion,
    )
    try:
        resolver.resolve_references()
    except Exception as exc:  # prance raises assorted errors for broken references
        yield Finding("#", "resolve", _one_line(f"prance cannot resolve the spec: {type(exc).__name__}: {exc}"))


# --- Klaviyo conventions --------------------------------------------------------------------------

_JSON_API = "application/vnd.api+json"
_UPLOAD_MEDIA = ("multipart/form-data",)
_RATE_UNITS = {"burst": "s", "steady": "m", "daily": "d"}  # x-klaviyo-ratelimit: {"burst": "10/s", ...}
_RATE = {key: re.compile(rf"^\d+/{unit}$") for key, unit in _RATE_UNITS.items()}


def _located_parameters(spec: Spec, op: Operation) -> list[tuple[str, dict[str, Any]]]:
    """The operation's effective parameters (operation wins over path item on name+in), each with the
    pointer where it is written (a referenced parameter points at its component)."""
    merged: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    containers = ((op.path_item, join_pointer("#/paths", op.path)), (op.node, op.pointer))
    for container, base in containers:
        for i, param in enumerate(container.get("parameters") or []):
            pointer = join_pointer(base, "parameters", i)
            while isinstance(param, dict) and isinstance(param.get("$ref"), str):
                pointer = param["$ref"]
                try:
                    param = resolve_pointer(spec, pointer)
                except KeyError:
                    break  # reported by the ref-unresolved rule
            if isinstance(param, dict) and "$ref" not in param:
                merged[(str(param.get("name", "")), str(param.get("in", "")))] = (pointer, param)
    return list(merged.values())


def _revision_findings(spec: Spec) -> Iterator[Finding]:
    for op in iter_operations(spec):
        header = next(
            (
                (where, p)
                for where, p in _located_parameters(spec, op)
                if (p.get("name"), p.get("in")) == ("revision", "header")
            ),
            None,
        )
        if header is None:
            yield Finding(op.pointer, "revision-header", "no `revision` header parameter")
        elif header[1].get("required") is not True:
            yield Finding(header[0], "revision-header", "the `revision` header is not required")


def _operation_id_findings(spec: Spec) -> Iterator[Finding]:
    first: dict[str, str] = {}
    for op in iter_operations(spec):
        op_id = op.node.get("operationId")
        where = join_pointer(op.pointer, "operationId")
        if not isinstance(op_id, str) or not op_id:
            yield Finding(op.pointer, "operation-id", "no operationId")
        elif op_id in first:
            yield Finding(where, "operation-id", f"operationId {op_id!r} already used at {first[op_id]}")
        else:
            first[op_id] = op.pointer


def _media_type_findings(spec: Spec) -> Iterator[Finding]:
    def content_of(node: Any, pointer: str) -> tuple[str, dict[str, Any]]:
        # follow a response/requestBody `$ref` so the finding points where the content is written
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            pointer = node["$ref"]
            try:
                node = resolve_pointer(spec, pointer)
            except KeyError:
                return pointer, {}
        content = node.get("content") if isinstance(node, dict) else None
        return pointer, content if isinstance(content, dict) else {}

    seen: set[tuple[str, str]] = set()  # shared response/body components are reported once
    for op in iter_operations(spec):
        body = op.node.get("requestBody")
        if body is not None:
            pointer, content = content_of(body, join_pointer(op.pointer, "requestBody"))
            for media in content:
                if media != _JSON_API and media not in _UPLOAD_MEDIA and (pointer, media) not in seen:
                    seen.add((pointer, media))
                    yield Finding(
                        join_pointer(pointer, "content", media),
                        "media-type",
                        f"request body media type {media!r} (JSON:API bodies are {_JSON_API}; uploads multipart)",
                    )
        for status, response in (op.node.get("responses") or {}).items():
            pointer, content = content_of(response, join_pointer(op.pointer, "responses", status))
            for media in content:
                if media != _JSON_API and (pointer, media) not in seen:
                    seen.add((pointer, media))
                    yield Finding(
                        join_pointer(pointer, "content", media),
                        "media-type",
                        f"response media type {media!r} (JSON:API responses are {_JSON_API})",
                    )


def _ratelimit_findings(spec: Spec) -> Iterator[Finding]:
    for op in iter_operations(spec):
        where = join_pointer(op.pointer, "x-klaviyo-ratelimit")
        limits = op.node.get("x-klaviyo-ratelimit")
        if limits is None:
            yield Finding(op.pointer, "ratelimit", "no x-klaviyo-ratelimit")
            continue
        if not isinstance(limits, dict):
            yield Finding(where, "ratelimit", f"expected an object, got {limits!r}")
            continue
        for key in ("burst", "steady"):
            if key not in limits:
                yield Finding(where, "ratelimit", f"no {key!r} limit")
        for key, value in limits.items():
            pattern = _RATE.get(key)
            if pattern is None:
                yield Finding(join_pointer(where, key), "ratelimit", f"unknown limit {key!r} (burst, steady, daily)")
            elif not isinstance(value, str) or not pattern.match(value):
                yield Finding(join_pointer(where, key), "ratelimit", f"{key} {value!r} is not 'N/{_RATE_UNITS[key]}'")


# --- shapes our tools trip on (what the overlay fixes) --------------------------------------------


def _example_findings(spec: Spec) -> Iterator[Finding]:
    checker = SchemaValueChecker(spec)
    for problem in iter_value_problems(spec, keywords=("example",), checker=checker):
        yield Finding(join_pointer(problem.pointer, problem.keyword), "example", _one_line(problem.message))


def _oneof_findings(spec: Spec) -> Iterator[Finding]:
    for pointer, schema in iter_schemas(spec):
        branches = schema.get("oneOf")
        if not isinstance(branches, list) or len(branches) < 2:
            continue
        primitive = ("string", "number", "integer", "boolean", "array")
        if not all(isinstance(b, dict) and "$ref" not in b and b.get("type") in primitive for b in branches):
            continue
        if any(_types_may_overlap(a, b) for i, a in enumerate(branches) for b in branches[i + 1 :]):
            yield Finding(
                join_pointer(pointer, "oneOf"),
                "oneof-overlap",
                "oneOf branches can match the same value, so Draft 4 validators reject it (use anyOf)",
            )


def _path_parameter_findings(spec: Spec) -> Iterator[Finding]:
    seen: set[str] = set()
    for op in iter_operations(spec):
        for where, param in _located_parameters(spec, op):
            schema = param.get("schema")
            nullable = param.get("nullable") is True or (isinstance(schema, dict) and schema.get("nullable") is True)
            if param.get("in") == "path" and nullable and where not in seen:
                seen.add(where)
                yield Finding(
                    where,
                    "path-param-nullable",
                    f"path parameter {param.get('name')!r} is nullable (a path segment cannot be null)",
                )


def _boolean_enum_findings(spec: Spec) -> Iterator[Finding]:
    for pointer, schema in iter_schemas(spec):
        if schema.get("type") == "boolean" and "enum" in schema and schema.get("nullable") is True:
            yield Finding(
                join_pointer(pointer, "enum"),
                "boolean-enum",
                "nullable boolean enum: null is not in the enum, and openapi-python-client drops the model",
            )


def _nullable_findings(spec: Spec) -> Iterator[Finding]:
    for pointer, schema in iter_schemas(spec):
        if schema.get("nullable") is not True or "type" in schema:
            continue
        if "$ref" in schema:
            why = "next to $ref, where OpenAPI 3.0 ignores it"
        else:
            one_of = schema.get("oneOf")
            null_branch = isinstance(one_of, list) and any(_admits_null(spec, b) for b in one_of)
            if not ("anyOf" in schema or "allOf" in schema or (isinstance(one_of, list) and not null_branch)):
                continue
            why = "on a composition without `type`, where it has no effect"
        yield Finding(
            join_pointer(pointer, "nullable"),
            "nullable-ignored",
            f"`nullable: true` {why}: strict validators reject null here (add an explicit null alternative)",
        )


def _error_response_findings(spec: Spec) -> Iterator[Finding]:
    for op in iter_operations(spec):
        for status, response in (op.node.get("responses") or {}).items():
            if isinstance(response, dict) and "$ref" not in response and _is_error_document_response(response):
                yield Finding(
                    join_pointer(op.pointer, "responses", status),
                    "inline-error-response",
                    "inline JSON:API error response (share it via #/components/responses)",
                )


def _template_findings(spec: Spec) -> Iterator[Finding]:
    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)

    for pointer, schema in iter_schemas(spec):
        if "example" in schema and any(_neutralise_template(s) != s for s in strings(schema["example"])):
            yield Finding(
                join_pointer(pointer, "example"),
                "example-template",
                "example holds template delimiters ({{ }}, {% %}) that Jinja-based tooling would interpret",
            )


# rule group -> check; a check yields findings and never raises for a malformed spec
RULES: dict[str, Callable[[Spec], Iterator[Finding]]] = {
    "openapi-schema": _openapi_findings,
    "ref-unresolved": _ref_findings,
    "resolve": _prance_findings,
    "revision-header": _revision_findings,
    "operation-id": _operation_id_findings,
    "media-type": _media_type_findings,
    "ratelimit": _ratelimit_findings,
    "example": _example_findings,
    "oneof-overlap": _oneof_findings,
    "path-param-nullable": _path_parameter_findings,
    "boolean-enum": _boolean_enum_findings,
    "nullable-ignored": _nullable_findings,
    "inline-error-response": _error_response_findings,
    "example-template": _template_findings,
}


def validate_spec(spec: Spec, *, rules: list[str] | None = None) -> list[Finding]:
    """All findings for `spec` (sorted by pointer, then rule). `rules` limits which checks run."""
    findings: list[Finding] = []
    for name, check in RULES.items():
        if rules is not None and name not in rules:
            continue
        try:
            findings.extend(check(spec))
        except Exception as exc:  # a check crashing on a malformed spec is itself a finding, not a traceback
            findings.append(Finding("#", name, _one_line(f"check crashed: {type(exc).__name__}: {exc}")))
    return sorted(set(findings))
