"""One revision's contract: which operation a request is, and what the spec says about its request and answer.

Built from the patched spec with the shared spec machinery (`kdk.spec` walkers, `deref`, and the one value
checker `SchemaValueChecker`, OpenAPI 3.0 semantics incl. `nullable`), so the proxy judges traffic by the same
rules as the overlay, the validator and the mock.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Contract", "MatchedOperation", "Violation", "media_type"]

Spec = dict[str, Any]
_MAX_ERRORS = 25  # per body: a wholly different shape would otherwise flood the log


@dataclass(frozen=True)
class Violation:
    """One way an exchange departs from the spec."""

    operation: str  # operation id, or "METHOD /path" when nothing matched
    where: str  # "request" or "response <status>"
    kind: str  # operation, revision, parameter, header, media-type, body, schema, status
    pointer: str  # JSON pointer into the body ("/data/0/id"), or "/query/<name>", "/header/<name>"
    location: str  # where in the spec: the schema's pointer + the instance path with list indices as `*`
    keyword: str  # the failing JSON Schema keyword ("type", "enum", "required"), else ""
    message: str
    value: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "where": self.where,
            "kind": self.kind,
            "pointer": self.pointer,
            "location": self.location,
            "keyword": self.keyword,
            "message": self.message,
            "value": self.value,
        }


@dataclass(frozen=True)
class MatchedOperation:
    operation_id: str
    method: str
    template: str
    pointer: str  # "#/paths/~1api~1profiles~1/get"
    node: dict[str, Any]
    parameters: list[dict[str, Any]]
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def rate_limit(self) -> dict[str, str]:
        limits = self.node.get("x-klaviyo-ratelimit")
        return {str(k): str(v) for k, v in limits.items()} if isinstance(limits, dict) else {}


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class Contract:
    def __init__(self, spec: Spec) -> None:
        from kdk.spec import SchemaValueChecker, iter_operations, operation_parameters

        self.spec = spec
        self.revision = str((spec.get("info") or {}).get("version", ""))
        self.checker = SchemaValueChecker(spec)
        # Literal segments beat parameters (`/api/lists/{id}` vs `/api/lists/{id}/profiles`, `/a/b` vs `/a/{id}`).
        self._routes: list[tuple[re.Pattern[str], int, str, dict[str, MatchedOperation]]] = []
        by_path: dict[str, dict[str, MatchedOperation]] = {}
        for op in iter_operations(spec):
            params = operation_parameters(spec, op)
            by_path.setdefault(op.path, {})[op.method] = MatchedOperation(
                op.operation_id, op.method, op.path, op.pointer, op.node, params
            )
        for template, methods in by_path.items():
            pattern = "".join(
                f"/(?P<p{i}>[^/]+)" if seg.startswith("{") else "/" + re.escape(seg)
                for i, seg in enumerate(template.strip("/").split("/"))
            )
            self._routes.append((re.compile(pattern + "/?$"), template.count("{"), template, methods))
        self._routes.sort(key=lambda r: r[1])

    # -- routing ---------------------------------------------------------------------------------------

    def match(self, method: str, path: str) -> tuple[MatchedOperation | None, list[str]]:
        """The operation for a request, or None and the methods the path allows (empty: unknown path)."""
        for pattern, _, template, methods in self._routes:
            found = pattern.match(path)
            if found is None:
                continue
            op = methods.get(method.lower())
            if op is None:
                return None, sorted(m.upper() for m in methods)
            names = [seg[1:-1] for seg in template.strip("/").split("/") if seg.startswith("{")]
            from urllib.parse import unquote

            values = [unquote(v) for _, v in sorted(found.groupdict().items(), key=lambda kv: int(kv[0][1:]))]
            return MatchedOperation(
                op.operation_id,
                op.method,
                op.template,
                op.pointer,
                op.node,
                op.parameters,
                dict(zip(names, values, strict=True)),
            ), []
        return None, []

    # -- checks ----------------------------------------------------------------------------------------

    def check_request(
        self, op: MatchedOperation, query: list[tuple[str, str]], headers: dict[str, str], body: bytes
    ) -> list[Violation]:
        from kdk.spec import deref

        found: list[Violation] = []
        sources = {
            "query": dict(query),
            "header": {k.lower(): v for k, v in headers.items()},
            "path": op.path_params,
        }
        for param in op.parameters:
            where, name = str(param.get("in")), str(param.get("name"))
            values = sources.get(where)
            if values is None:
                continue
            key = name.lower() if where == "header" else name
            pointer = f"/{where}/{_escape(name)}"
            location = self._parameter_pointer(op, where, name)
            if key not in values:
                if param.get("required"):
                    found.append(
                        Violation(
                            op.operation_id,
                            "request",
                            "parameter",
                            pointer,
                            location,
                            "required",
                            f"required {where} parameter {name!r} is missing",
                        )
                    )
                continue
            schema = deref(self.spec, param.get("schema") or {})
            coerced = _coerce(deref(self.spec, schema), values[key], self.spec)
            for error in self._errors(schema, coerced):
                found.append(
                    Violation(
                        op.operation_id,
                        "request",
                        "parameter",
                        pointer,
                        location,
                        str(error.validator),
                        f"{where} parameter {name!r}: {error.message}",
                        values[key],
                    )
                )
        request_body = deref(self.spec, op.node.get("requestBody")) if "requestBody" in op.node else None
        if request_body is None:
            return found
        content = request_body.get("content") or {}
        base = f"{op.pointer}/requestBody"
        if not body:
            if request_body.get("required"):
                found.append(
                    Violation(op.operation_id, "request", "body", "", base, "required", "request body missing")
                )
            return found
        found.extend(self._check_content(op, "request", content, headers.get("content-type"), body, f"{base}/content"))
        return found

    def _parameter_pointer(self, op: MatchedOperation, where: str, name: str) -> str:
        """Where the parameter is declared: the operation's `parameters[i]`, else the path item's."""
        from kdk.spec import deref, join_pointer

        path_item_pointer = join_pointer("#/paths", op.template)
        for holder, base in ((op.node, op.pointer), (self.spec["paths"][op.template], path_item_pointer)):
            for i, raw in enumerate(holder.get("parameters") or []):
                param = deref(self.spec, raw)
                if param.get("name") == name and param.get("in") == where:
                    return f"{base}/parameters/{i}"
        return f"{op.pointer}/parameters"

    def check_response(
        self, op: MatchedOperation, status: int, headers: dict[str, str], body: bytes
    ) -> list[Violation]:
        from kdk.spec import deref

        where = f"response {status}"
        responses = op.node.get("responses") or {}
        key = next(
            (k for k in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default") if k in responses), None
        )
        if key is None:
            return [
                Violation(
                    op.operation_id,
                    where,
                    "status",
                    "",
                    f"{op.pointer}/responses",
                    "",
                    f"status {status} is not documented (documented: {', '.join(map(str, responses))})",
                    status,
                )
            ]
        response = deref(self.spec, responses[key]) or {}
        base = f"{op.pointer}/responses/{_escape(key)}"
        found: list[Violation] = []
        lowered = {k.lower(): v for k, v in headers.items()}
        for name, header in (response.get("headers") or {}).items():
            if deref(self.spec, header).get("required") and name.lower() not in lowered:
                found.append(
                    Violation(
                        op.operation_id,
                        where,
                        "header",
                        f"/header/{_escape(name)}",
                        f"{base}/headers/{_escape(name)}",
                        "required",
                        f"required response header {name!r} missing",
                    )
                )
        content = response.get("content") or {}
        if not body:
            if content and status != 204:
                found.append(
                    Violation(op.operation_id, where, "body", "", f"{base}/content", "", "documented body is missing")
                )
            return found
        if not content:
            found.append(
                Violation(op.operation_id, where, "body", "", base, "", f"a body was sent but {key} documents none")
            )
            return found
        found.extend(
            self._check_content(
                op, where, content, headers.get("content-type") or lowered.get("content-type"), body, f"{base}/content"
            )
        )
        return found

    def _check_content(
        self,
        op: MatchedOperation,
        where: str,
        content: dict[str, Any],
        content_type: str | None,
        body: bytes,
        base: str,
    ) -> list[Violation]:
        media = media_type(content_type)
        if media not in content:
            return [
                Violation(
                    op.operation_id,
                    where,
                    "media-type",
                    "",
                    base,
                    "",
                    f"media type {media or '(none)'!r} is not documented (documented: {', '.join(content)})",
                    media,
                )
            ]
        schema = (content[media] or {}).get("schema")
        if not isinstance(schema, dict) or "json" not in media:
            return []
        try:
            document = json.loads(body)
        except ValueError as exc:
            return [Violation(op.operation_id, where, "body", "", base, "", f"body is not JSON: {exc}")]
        location = f"{base}/{_escape(media)}/schema"
        found = []
        seen: set[tuple[str, str]] = set()
        for error in self._errors(schema, document):
            path = list(error.absolute_path)
            pointer = "".join("/" + _escape(str(p)) for p in path)
            if (pointer, str(error.validator)) in seen:
                continue  # one value failing two branches of an allOf is one drift
            seen.add((pointer, str(error.validator)))
            shape = "".join("/*" if isinstance(p, int) else "/" + _escape(str(p)) for p in path)
            found.append(
                Violation(
                    op.operation_id,
                    where,
                    "schema",
                    pointer or "/",
                    location + "#" + (shape or "/"),
                    str(error.validator),
                    _short(str(error.message)),
                    error.instance,
                )
            )
        return found

    def _errors(self, schema: Any, value: Any) -> list[Any]:
        """The most specific failure of each top-level error (oneOf/anyOf: the closest branch)."""
        from jsonschema.exceptions import best_match

        found = []
        for error in self.checker.iter_errors(schema, value):
            found.append(best_match([error]) or error)
            if len(found) >= _MAX_ERRORS:
                break
        return found


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:297] + "..."


def _coerce(schema: dict[str, Any], raw: str, spec: Spec) -> Any:
    """A query/path/header string as the typed value its schema describes (explode: false arrays)."""
    from kdk.spec import deref

    kind = schema.get("type")
    if kind == "array":
        items = deref(spec, schema.get("items") or {})
        return [_coerce(items, part, spec) for part in raw.split(",")] if raw else []
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw
