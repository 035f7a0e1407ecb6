"""Compare two patched specs operation by operation and turn findings into located, classified changes."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from .._pinned import PatchedSpec, content_of
from .._walk import Operation, iter_operations, join_pointer
from ._model import Change, DiffReport
from ._resolve import Resolver, Tokens
from ._rules import rule
from ._schema import Direction, Finding, SchemaDiffer, display_name

__all__ = ["diff_specs"]

Spec = dict[str, Any]
_PATH_PARAM = re.compile(r"\{[^}]*\}")
_RATE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass
class _Param:
    node: dict[str, Any]
    pointer: str


@dataclass
class _OpDiff:
    """Collects one operation's changes; knows both operations' pointers so findings can be located."""

    method: str
    path: str
    operation_id: str
    old_pointer: str | None
    new_pointer: str | None
    changes: list[Change] = field(default_factory=list)

    def add(
        self,
        rule_id: str,
        old: str | None,
        new: str | None,
        /,
        **args: str,
    ) -> None:
        r = rule(rule_id)
        message = r.template.format_map(_Args(args))
        self.changes.append(Change(rule_id, r.severity, self.method, self.path, self.operation_id, message, old, new))

    def add_finding(self, f: Finding, old_base: str, new_base: str, /, **args: str) -> None:
        merged = dict(f.args)
        merged.update(args)
        merged.setdefault("name", display_name(f.name))
        self.add(f.rule, _at(old_base, f.old), _at(new_base, f.new), **merged)


class _Args(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _at(base: str, tokens: Tokens | None) -> str | None:
    return None if tokens is None else join_pointer(base, *tokens)


def diff_specs(
    old: PatchedSpec | Spec, new: PatchedSpec | Spec, *, old_label: str = "old", new_label: str = "new"
) -> DiffReport:
    """Every change from `old` to `new` (both *patched* specs), per operation, classified by `RULES`."""
    started = time.perf_counter()
    old, new = content_of(old), content_of(new)
    old_r, new_r = Resolver(old), Resolver(new)
    schemas = SchemaDiffer(old_r, new_r)
    old_ops, new_ops = _by_key(old), _by_key(new)
    changes: list[Change] = []
    for key in sorted(old_ops.keys() | new_ops.keys()):
        before, after = old_ops.get(key), new_ops.get(key)
        shown = after or before
        assert shown is not None
        op = _OpDiff(
            shown.method,
            shown.path,
            shown.operation_id,
            before.pointer if before else None,
            after.pointer if after else None,
        )
        if before is None:
            op.add("endpoint-added", None, op.new_pointer)
        elif after is None:
            deprecated = bool(before.node.get("deprecated"))
            op.add(f"api-removed-with{'' if deprecated else 'out'}-deprecation", op.old_pointer, None)
        else:
            _compare_operation(op, before, after, old_r, new_r, schemas)
        changes.extend(op.changes)
    unique = {(c.rule, c.method, c.path, c.old_pointer, c.new_pointer, c.message): c for c in changes}
    report = DiffReport(
        old_label,
        new_label,
        len(old_ops),
        len(new_ops),
        sorted(unique.values(), key=lambda c: c.sort_key),
    )
    report.seconds = time.perf_counter() - started
    return report


def _by_key(spec: Spec) -> dict[tuple[str, str], Operation]:
    """Operations by (path with parameter names erased, method): `/api/lists/{id}` and `/api/lists/{list_id}`
    are the same endpoint. Paths that only differ in parameter names within one spec keep their own names."""
    ops = list(iter_operations(spec))
    erased = [(_PATH_PARAM.sub("{}", op.path), op.method) for op in ops]
    return {key if erased.count(key) == 1 else (op.path, op.method): op for key, op in zip(erased, ops, strict=True)}


def _compare_operation(
    op: _OpDiff,
    before: Operation,
    after: Operation,
    old_r: Resolver,
    new_r: Resolver,
    schemas: SchemaDiffer,
) -> None:
    assert op.old_pointer is not None and op.new_pointer is not None
    old_node, new_node = before.node, after.node
    if before.operation_id != after.operation_id and "operationId" in old_node:
        op.add(
            "api-operation-id-removed", op.old_pointer, op.new_pointer, old=before.operation_id, new=after.operation_id
        )
    was, now = bool(old_node.get("deprecated")), bool(new_node.get("deprecated"))
    if was != now:
        op.add("endpoint-deprecated" if now else "endpoint-reactivated", op.old_pointer, op.new_pointer)
    _compare_stability(op, old_node, new_node)
    _compare_rate_limit(op, old_node, new_node)
    _compare_scopes(op, old_node, new_node)
    _compare_parameters(op, before, after, old_r, new_r)
    _compare_request_body(op, old_node, new_node, old_r, new_r, schemas)
    _compare_responses(op, old_node, new_node, old_r, new_r, schemas)


# --- Klaviyo's extensions ---------------------------------------------------------------------------------


def _stability(node: dict[str, Any]) -> str:
    value = node.get("x-klaviyo-pre-release")
    return "GA" if value in (None, "None", "") else str(value)


def _compare_stability(op: _OpDiff, old: dict[str, Any], new: dict[str, Any]) -> None:
    before, after = _stability(old), _stability(new)
    if before == after:
        return
    pointers = (
        join_pointer(op.old_pointer or "", "x-klaviyo-pre-release"),
        join_pointer(op.new_pointer or "", "x-klaviyo-pre-release"),
    )
    rule_id = "api-stability-increased" if after == "GA" else "api-stability-decreased"
    op.add(rule_id, *pointers, old=before, new=after)


def _per_second(limit: Any) -> float | None:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*/\s*([smhd])\s*", str(limit))
    return float(match[1]) / _RATE_UNITS[match[2]] if match else None


# Klaviyo's documented rate-limit tiers (burst, steady); a limit matching one is shown with the tier's name.
_TIERS = {
    ("1/s", "15/m"): "XS",
    ("3/s", "60/m"): "S",
    ("10/s", "150/m"): "M",
    ("75/s", "700/m"): "L",
    ("350/s", "3500/m"): "XL",
}


def _rate_label(limits: dict[str, Any]) -> str:
    values = ", ".join(f"{k} {v}" for k, v in sorted(limits.items())) or "none"
    tier = _TIERS.get((str(limits.get("burst")), str(limits.get("steady"))))
    return f"tier {tier} ({values})" if tier else values


def _compare_rate_limit(op: _OpDiff, old: dict[str, Any], new: dict[str, Any]) -> None:
    before = old.get("x-klaviyo-ratelimit") or {}
    after = new.get("x-klaviyo-ratelimit") or {}
    if not isinstance(before, dict) or not isinstance(after, dict) or before == after:
        return
    lower = higher = False
    for window in before.keys() | after.keys():
        was, now = _per_second(before.get(window)), _per_second(after.get(window))
        if was is None and now is None:
            continue
        # A window that appears is a new limit (lower); one that disappears lifts a limit (higher).
        if was is None or (now is not None and now < was):
            lower = True
        elif now is None or now > was:
            higher = True
    if not (lower or higher):
        return
    rule_id = (
        "api-ratelimit-changed"
        if lower and higher
        else "api-ratelimit-decreased"
        if lower
        else "api-ratelimit-increased"
    )
    op.add(
        rule_id,
        join_pointer(op.old_pointer or "", "x-klaviyo-ratelimit"),
        join_pointer(op.new_pointer or "", "x-klaviyo-ratelimit"),
        old=_rate_label(before),
        new=_rate_label(after),
    )


def _compare_scopes(op: _OpDiff, old: dict[str, Any], new: dict[str, Any]) -> None:
    before = [s for s in old.get("x-klaviyo-scopes") or () if isinstance(s, str)]
    after = [s for s in new.get("x-klaviyo-scopes") or () if isinstance(s, str)]
    base_old = join_pointer(op.old_pointer or "", "x-klaviyo-scopes")
    base_new = join_pointer(op.new_pointer or "", "x-klaviyo-scopes")
    for scope in sorted(set(after) - set(before)):
        op.add("api-scope-added", None, join_pointer(base_new, after.index(scope)), value=scope)
    for scope in sorted(set(before) - set(after)):
        op.add("api-scope-removed", join_pointer(base_old, before.index(scope)), None, value=scope)


# --- parameters -------------------------------------------------------------------------------------------


def _parameters(op: Operation, resolver: Resolver) -> dict[tuple[str, str], _Param]:
    """Path-item then operation parameters (the operation's win), each with the pointer it is written at."""
    found: dict[tuple[str, str], _Param] = {}
    for container, base in ((op.path_item, join_pointer("#/paths", op.path)), (op.node, op.pointer)):
        for i, raw in enumerate(container.get("parameters") or ()):
            param = resolver.deref(raw)
            if isinstance(param, dict):
                found[(str(param.get("in", "")), str(param.get("name", "")))] = _Param(
                    param, join_pointer(base, "parameters", i)
                )
    return found


def _compare_parameters(op: _OpDiff, before: Operation, after: Operation, old_r: Resolver, new_r: Resolver) -> None:
    old_params, new_params = _parameters(before, old_r), _parameters(after, new_r)
    for key in sorted(old_params.keys() | new_params.keys()):
        where, name = key
        was, now = old_params.get(key), new_params.get(key)
        if was is None:
            assert now is not None
            kind = "required" if now.node.get("required") else "optional"
            op.add(f"new-{kind}-request-parameter", None, now.pointer, where=where, name=name)
            continue
        if now is None:
            op.add("request-parameter-removed", was.pointer, None, where=where, name=name)
            continue
        if bool(was.node.get("required")) != bool(now.node.get("required")):
            became = "required" if now.node.get("required") else "optional"
            op.add(f"request-parameter-became-{became}", was.pointer, now.pointer, where=where, name=name)
        _compare_parameter_schema(op, was, now, old_r, new_r, where, name)


def _compare_parameter_schema(
    op: _OpDiff, was: _Param, now: _Param, old_r: Resolver, new_r: Resolver, where: str, name: str
) -> None:
    old_schema, new_schema = was.node.get("schema"), now.node.get("schema")
    if not isinstance(old_schema, dict) or not isinstance(new_schema, dict):
        return
    old_base, new_base = join_pointer(was.pointer, "schema"), join_pointer(now.pointer, "schema")
    # The schema itself and, for array parameters such as `fields[profile]`, its items.
    levels: list[tuple[Tokens, Any, Tokens, Any]] = [((), old_schema, (), new_schema)]
    old_flat, new_flat = old_r.flat(old_schema), new_r.flat(new_schema)
    if old_flat.items is not None and new_flat.items is not None:
        levels.append((old_flat.items.tokens, old_flat.items.node, new_flat.items.tokens, new_flat.items.node))
    for old_tokens, old_node, new_tokens, new_node in levels:
        a, b = old_r.flat(old_node), new_r.flat(new_node)
        old_at, new_at = join_pointer(old_base, *old_tokens), join_pointer(new_base, *new_tokens)
        if a.types and b.types and a.type_label != b.type_label:
            op.add(
                "request-parameter-type-changed",
                old_at,
                new_at,
                where=where,
                name=name,
                old=a.type_label,
                new=b.type_label,
            )
        if b.enum is None:
            continue
        if a.enum is None:
            op.add("request-parameter-became-enum", old_at, join_pointer(new_at, "enum"), where=where, name=name)
            continue
        before, after = {_text(v) for v in a.enum}, {_text(v) for v in b.enum}
        for value in sorted(before - after):
            op.add(
                "request-parameter-enum-value-removed",
                join_pointer(old_at, "enum"),
                join_pointer(new_at, "enum"),
                where=where,
                name=name,
                value=value,
            )
        for value in sorted(after - before):
            op.add(
                "request-parameter-enum-value-added",
                join_pointer(old_at, "enum"),
                join_pointer(new_at, "enum"),
                where=where,
                name=name,
                value=value,
            )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


# --- request bodies and responses -------------------------------------------------------------------------


def _media(holder: Any) -> dict[str, dict[str, Any]]:
    content = holder.get("content") if isinstance(holder, dict) else None
    return {k: v for k, v in (content or {}).items() if isinstance(v, dict)} if isinstance(content, dict) else {}


def _compare_content(
    op: _OpDiff,
    old_holder: dict[str, Any],
    new_holder: dict[str, Any],
    old_base: str,
    new_base: str,
    direction: Direction,
    schemas: SchemaDiffer,
    **args: str,
) -> None:
    old_media, new_media = _media(old_holder), _media(new_holder)
    kind = "request-body" if direction == "request" else "response"
    for media in sorted(old_media.keys() - new_media.keys()):
        op.add(f"{kind}-media-type-removed", join_pointer(old_base, "content", media), None, media=media, **args)
    for media in sorted(new_media.keys() - old_media.keys()):
        op.add(f"{kind}-media-type-added", None, join_pointer(new_base, "content", media), media=media, **args)
    for media in sorted(old_media.keys() & new_media.keys()):
        old_schema, new_schema = old_media[media].get("schema"), new_media[media].get("schema")
        if not isinstance(old_schema, dict) or not isinstance(new_schema, dict):
            continue
        old_at = join_pointer(old_base, "content", media, "schema")
        new_at = join_pointer(new_base, "content", media, "schema")
        for finding in schemas.compare(old_schema, new_schema, direction):
            op.add_finding(finding, old_at, new_at, **args)


def _compare_request_body(
    op: _OpDiff,
    old: dict[str, Any],
    new: dict[str, Any],
    old_r: Resolver,
    new_r: Resolver,
    schemas: SchemaDiffer,
) -> None:
    was, now = old_r.deref(old.get("requestBody")), new_r.deref(new.get("requestBody"))
    old_at = join_pointer(op.old_pointer or "", "requestBody")
    new_at = join_pointer(op.new_pointer or "", "requestBody")
    if not isinstance(was, dict) and not isinstance(now, dict):
        return
    if not isinstance(was, dict):
        op.add(f"request-body-added-{'required' if now.get('required') else 'optional'}", None, new_at)
        return
    if not isinstance(now, dict):
        op.add("request-body-removed", old_at, None)
        return
    if bool(was.get("required")) != bool(now.get("required")):
        op.add(f"request-body-became-{'required' if now.get('required') else 'optional'}", old_at, new_at)
    _compare_content(op, was, now, old_at, new_at, "request", schemas)


def _is_success(status: str) -> bool:
    return status.startswith("2")


def _compare_responses(
    op: _OpDiff,
    old: dict[str, Any],
    new: dict[str, Any],
    old_r: Resolver,
    new_r: Resolver,
    schemas: SchemaDiffer,
) -> None:
    old_responses = old.get("responses") or {}
    new_responses = new.get("responses") or {}
    old_base = join_pointer(op.old_pointer or "", "responses")
    new_base = join_pointer(op.new_pointer or "", "responses")
    for status in sorted(old_responses.keys() - new_responses.keys()):
        kind = "success" if _is_success(status) else "non-success"
        op.add(f"response-{kind}-status-removed", join_pointer(old_base, status), None, status=status)
    for status in sorted(new_responses.keys() - old_responses.keys()):
        kind = "success" if _is_success(status) else "non-success"
        op.add(f"response-{kind}-status-added", None, join_pointer(new_base, status), status=status)
    for status in sorted(old_responses.keys() & new_responses.keys()):
        was, now = old_r.deref(old_responses[status]), new_r.deref(new_responses[status])
        if isinstance(was, dict) and isinstance(now, dict):
            _compare_content(
                op,
                was,
                now,
                join_pointer(old_base, status),
                join_pointer(new_base, status),
                "response",
                schemas,
                status=status,
            )
