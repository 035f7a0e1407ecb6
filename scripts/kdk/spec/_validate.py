"""`kdk spec validate`: every problem in a spec, each located by a JSON pointer, named by a rule, with a severity.

Four layers, all reported as `Finding`s:
- the OpenAPI 3.0 structure and schema defaults (openapi-spec-validator, all errors, not just the first),
- full `$ref` resolution with prance (recursive schemas such as `Step` are kept as references),
- Klaviyo's conventions (operationIds, media types, rate limits), judged by what breaks a consumer: a convention
  of the revision's era (`application/json` bodies, a daily `steady` limit) is info, not an error,
- the shapes our tools trip on: one rule per overlay fix, reported by that fix's own detector, so the raw spec's
  findings are exactly what `kdk spec patch` changes and a patched spec comes out clean.

Severity (`Severity`): `error` breaks a consumer (generator, mock, validator); `warning` is likely a mistake that
breaks none; `info` is worth knowing. `failing(findings, strict=...)` is what makes the pipeline fail.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ._overlay import FIXES, Fix
from ._severity import Severity
from ._walk import iter_operations, join_pointer, resolve_pointer

__all__ = ["RULES", "Finding", "Severity", "failing", "validate_spec"]

Spec = dict[str, Any]


@dataclass(frozen=True, order=True)
class Finding:
    pointer: str
    rule: str
    message: str
    severity: Severity = Severity.error

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "rule": self.rule, "severity": str(self.severity), "message": self.message}

    def fails(self, *, strict: bool = False) -> bool:
        """Does this finding fail the pipeline? Errors always; warnings under `--strict`; info never."""
        return self.severity is Severity.error or (strict and self.severity is Severity.warning)


def failing(findings: list[Finding], *, strict: bool = False) -> list[Finding]:
    return [f for f in findings if f.fails(strict=strict)]


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
                    else:
                        if _ref_cycles(spec, ref):
                            yield Finding(where, "ref-unresolved", f"{ref!r} is a cycle of references to references")
            stack.extend((join_pointer(pointer, k), v, k) for k, v in node.items() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((join_pointer(pointer, i), v, "") for i, v in enumerate(node) if isinstance(v, (dict, list)))


def _ref_cycles(spec: Spec, ref: str) -> bool:
    """Whether following `ref` through nodes that are themselves only a local `$ref` comes back round (a
    recursive schema whose `$ref` sits under `properties` or `items` is fine; `A: {$ref: B}, B: {$ref: A}` is
    no schema at all, and third-party resolvers recurse on it until Python gives up)."""
    seen: set[str] = set()
    while ref not in seen:
        seen.add(ref)
        try:
            target = resolve_pointer(spec, ref)
        except KeyError:
            return False
        nxt = target.get("$ref") if isinstance(target, dict) else None
        if not isinstance(nxt, str) or not nxt.startswith("#"):
            return False
        ref = nxt
    return True


def _offline(spec: Spec) -> Spec:
    """The spec with every non-local `$ref` (and every `$ref` cycle) taken out, for the third-party checks:
    openapi-spec-validator would read a `file://` reference from disk (and print it in its error), fetch an
    `http://` one, or recurse forever on a cycle. The `ref-unresolved` rule reports each of them; the spec
    itself is left untouched (a copy, only when needed)."""

    def external_refs(root: Any) -> Iterator[dict[str, Any]]:
        stack: list[tuple[Any, str]] = [(root, "")]
        while stack:
            node, parent = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if (
                    parent != "properties"
                    and isinstance(ref, str)
                    and (not ref.startswith("#") or _ref_cycles(spec, ref))
                ):
                    yield node
                stack.extend((v, k) for k, v in node.items() if isinstance(v, (dict, list)))
            elif isinstance(node, list):
                stack.extend((v, "") for v in node if isinstance(v, (dict, list)))

    if next(external_refs(spec), None) is None:
        return spec
    sealed = copy.deepcopy(spec)
    for node in list(external_refs(sealed)):
        del node["$ref"]
    return sealed


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
_PLAIN_JSON = "application/json"
_UPLOAD_MEDIA = ("multipart/form-data",)
_RATE_UNITS = {"burst": "s", "steady": "m", "daily": "d"}  # x-klaviyo-ratelimit: {"burst": "10/s", ...}
# What the mock's rate limiter reads: N per second/minute/hour/day.
_RATE = re.compile(r"^\s*(\d+)\s*/\s*([smhd])\w*\s*$")
_UNIT_NAMES = {"s": "second", "m": "minute", "h": "hour", "d": "day"}


def _operation_id_findings(spec: Spec) -> Iterator[Finding]:
    first: dict[str, str] = {}
    for op in iter_operations(spec):
        op_id = op.node.get("operationId")
        where = join_pointer(op.pointer, "operationId")
        if not isinstance(op_id, str) or not op_id:
            yield Finding(op.pointer, "operation-id", "no operationId (generated method names come from it)")
        elif op_id in first:
            yield Finding(where, "operation-id", f"operationId {op_id!r} already used at {first[op_id]}")
        else:
            first[op_id] = op.pointer


def _documented_media(spec: Spec) -> Iterator[tuple[str, str, str]]:
    """(pointer of the media type, media type, "request body"/"response") of every body, shared ones once."""

    def content_of(node: Any, pointer: str) -> tuple[str, dict[str, Any]]:
        # follow a response/requestBody `$ref` so the finding points where the content is written
        for _ in range(32):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            pointer = node["$ref"]
            try:
                node = resolve_pointer(spec, pointer)
            except KeyError:
                return pointer, {}
        content = node.get("content") if isinstance(node, dict) else None
        return pointer, content if isinstance(content, dict) else {}

    seen: set[tuple[str, str]] = set()
    for op in iter_operations(spec):
        places: list[tuple[Any, str, str]] = []
        if op.node.get("requestBody") is not None:
            places.append((op.node["requestBody"], join_pointer(op.pointer, "requestBody"), "request body"))
        for status, response in (op.node.get("responses") or {}).items():
            places.append((response, join_pointer(op.pointer, "responses", status), "response"))
        for node, base, kind in places:
            pointer, content = content_of(node, base)
            for media in content:
                if (pointer, media) not in seen:
                    seen.add((pointer, media))
                    yield join_pointer(pointer, "content", media), media, kind


def _media_type_findings(spec: Spec) -> Iterator[Finding]:
    """JSON:API bodies are `application/vnd.api+json`; Klaviyo's older revisions document them as `application/json`.
    A spec that does so throughout follows its era's convention (one info finding: clients send, and the mock
    serves, what each operation documents); one that mixes the two has a stray (a warning each); anything else
    but a multipart upload is a warning."""
    places = list(_documented_media(spec))
    plain = [pointer for pointer, media, _ in places if media == _PLAIN_JSON]
    mixed = any(media == _JSON_API for _, media, _ in places)
    for pointer, media, kind in places:
        if media == _JSON_API or (kind == "request body" and media in _UPLOAD_MEDIA):
            continue
        if media == _PLAIN_JSON and not mixed:
            continue
        what = f"{kind} media type {media!r}"
        why = "the rest of the spec uses" if media == _PLAIN_JSON else "JSON:API bodies are"
        yield Finding(pointer, "media-type", f"{what} ({why} {_JSON_API})", Severity.warning)
    if plain and not mixed:
        yield Finding(
            "#",
            "media-type",
            f"JSON:API bodies documented as {_PLAIN_JSON!r} ({len(plain)} places, e.g. {plain[0]}): the convention "
            f"of Klaviyo's older revisions (newer ones use {_JSON_API}); clients and the mock follow what each "
            "operation documents",
            Severity.info,
        )


def _ratelimit_findings(spec: Spec) -> Iterator[Finding]:
    """`x-klaviyo-ratelimit` as the mock's rate limiter reads it: what it cannot read is a warning (that limit
    is not enforced); a readable limit in an unusual unit (a daily `steady`, 2023) is info."""
    warning, info = Severity.warning, Severity.info
    for op in iter_operations(spec):
        where = join_pointer(op.pointer, "x-klaviyo-ratelimit")
        limits = op.node.get("x-klaviyo-ratelimit")
        if limits is None:
            yield Finding(op.pointer, "ratelimit", "no x-klaviyo-ratelimit (the mock enforces no limit)", warning)
            continue
        if not isinstance(limits, dict):
            yield Finding(where, "ratelimit", f"expected an object, got {limits!r}", warning)
            continue
        for key in ("burst", "steady"):
            if key not in limits:
                yield Finding(where, "ratelimit", f"no {key!r} limit", warning)
        for key, value in limits.items():
            here = join_pointer(where, key)
            usual = _RATE_UNITS.get(key)
            match = _RATE.match(value) if isinstance(value, str) else None
            if usual is None:
                yield Finding(here, "ratelimit", f"unknown limit {key!r} (burst, steady, daily)", warning)
            elif match is None:
                yield Finding(here, "ratelimit", f"{key} {value!r} is not 'N/{usual}' (not enforced)", warning)
            elif match.group(2) != usual:
                unit, usual_unit = _UNIT_NAMES[match.group(2)], _UNIT_NAMES[usual]
                message = f"{key} {value!r} is per {unit} ({key} limits are usually per {usual_unit})"
                yield Finding(here, "ratelimit", message, info)


# --- shapes our tools trip on: the overlay's detectors -----------------------------------------------


def _fix_rule(fix: Fix) -> Callable[[Spec], Iterator[Finding]]:
    def check(spec: Spec) -> Iterator[Finding]:
        for problem in fix.detect(spec):
            yield Finding(problem.pointer, fix.name, _one_line(problem.message), problem.severity or fix.severity)

    check.__name__ = f"detect_{fix.name.replace('-', '_')}"
    return check


# rule group -> check; a check yields findings and never raises for a malformed spec
RULES: dict[str, Callable[[Spec], Iterator[Finding]]] = {
    "openapi-schema": lambda spec: _openapi_findings(_offline(spec)),
    "ref-unresolved": _ref_findings,
    "resolve": lambda spec: _prance_findings(_offline(spec)),
    "operation-id": _operation_id_findings,
    "media-type": _media_type_findings,
    "ratelimit": _ratelimit_findings,
    **{fix.name: _fix_rule(fix) for fix in FIXES},
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
