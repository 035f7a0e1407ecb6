"""Valid values for what the spec documents outside its JSON Schema: filters and page cursors.

The spec types `filter` and `page[cursor]` as plain strings, so schemathesis counts any string as valid data
and expects a 2xx for it ("positive_data_acceptance"), while Klaviyo (and the stateful mock) answer 400 to a
filter its grammar or `x-klaviyo-filters` does not allow and to a cursor it did not issue. Instead of hiding
those failures, the runner hands schemathesis a copy of the spec whose two parameters carry a custom string
format, and registers what is valid for each:

- `filter`: expressions built from the operation's `x-klaviyo-filters` (fields, operators by value shape,
  value types and enums). A filter the spec marks required always carries the documented example's
  expression (it names the field Klaviyo requires, e.g. `equals(messages.channel,'email')`).
- `page[cursor]`: a cursor the server issued in a `links.next`/`links.prev` of that path during the run (an
  `after_call` hook collects them), or none yet: the empty value, which Klaviyo reads as the first page.

Negative cases are untouched: schemathesis still sends values outside these formats and expects a 4xx.
"""

from __future__ import annotations

import copy
import re
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["DocumentedValues", "documented_values"]

Spec = dict[str, Any]
_FILTER_FORMAT = "kdk-filter-{}"
_CURSOR_FORMAT = "kdk-page-cursor-{}"
_HTTP_METHODS = ("get", "put", "post", "patch", "delete")
_SAFE_TEXT = string.ascii_letters + string.digits + " _-.@"  # no quote, comma or bracket: the grammar's own


class DocumentedValues:
    """The patched copy of the spec, its format strategies and the cursor collector for one run."""

    def __init__(self, spec: Spec, formats: dict[str, Any], cursor_formats: dict[str, str]) -> None:
        self.spec = spec
        self.formats = formats
        self._cursor_formats = cursor_formats  # path template -> format name
        self.cursors: dict[str, list[str]] = {name: [] for name in cursor_formats.values()}

    def register(self) -> None:
        import schemathesis

        for name, strategy in self.formats.items():
            schemathesis.openapi.format(name, strategy)

    def collect_cursors(self, case: Any, response: Any) -> None:
        """schemathesis `after_call` hook: keep the cursors of `links.next`/`links.prev` for that path."""
        operation = getattr(case, "operation", None)
        name = self._cursor_formats.get(str(getattr(operation, "path", "")))
        if name is None or getattr(response, "status_code", 0) != 200:
            return
        try:
            links = response.json().get("links") or {}
        except (ValueError, AttributeError):
            return
        pool = self.cursors[name]
        for key in ("next", "prev"):
            cursor = _cursor_of(links.get(key)) if isinstance(links, dict) else None
            if cursor and cursor not in pool and len(pool) < 64:
                pool.append(cursor)


def documented_values(spec: Spec) -> DocumentedValues:
    """A copy of `spec` whose `filter` / `page[cursor]` query parameters name a format valid values come from."""
    from hypothesis import strategies as st

    patched = dict(spec)
    patched["paths"] = dict(spec.get("paths") or {})
    formats: dict[str, Any] = {}
    cursor_formats: dict[str, str] = {}
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        new_item = None
        for method in _HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = op.get("parameters") or []
            if not any(_is_query(p, "filter") or _is_query(p, "page[cursor]") for p in params):
                continue
            new_item = new_item if new_item is not None else dict(item)
            new_op = dict(op)
            new_op["parameters"] = new_params = []
            for param in params:
                allowed = _documented_filters(op, param) if _is_query(param, "filter") else None
                if allowed:
                    name = _FILTER_FORMAT.format(op.get("operationId") or f"{method}{path}")
                    required = (param.get("schema") or {}).get("example") if param.get("required") else None
                    formats[name] = _filters(allowed, required, st)
                    param = _with_format(param, name)
                elif _is_query(param, "page[cursor]"):
                    name = cursor_formats.setdefault(path, _CURSOR_FORMAT.format(len(cursor_formats)))
                    param = _with_format(param, name)
                new_params.append(param)
            new_item[method] = new_op
        if new_item is not None:
            patched["paths"][path] = new_item
    documented = DocumentedValues(patched, formats, cursor_formats)
    for name in cursor_formats.values():  # each strategy reads its pool at draw time
        formats[name] = st.integers(min_value=0, max_value=2**16).map(_cursor_picker(documented.cursors[name]))
    return documented


def _cursor_picker(pool: list[str]) -> Callable[[int], str]:
    return lambda i: pool[i % len(pool)] if pool else ""


def _is_query(param: Any, name: str) -> bool:
    return isinstance(param, dict) and param.get("in") == "query" and param.get("name") == name


def _with_format(param: dict[str, Any], name: str) -> dict[str, Any]:
    schema = copy.deepcopy(param.get("schema") or {"type": "string"})
    schema.pop("example", None)
    schema["format"] = name
    return {**param, "schema": schema}


def _cursor_of(link: Any) -> str | None:
    if not isinstance(link, str) or not link:
        return None
    found = parse_qs(urlsplit(link).query).get("page[cursor]")
    return found[-1] if found else None


_DESCRIBED = re.compile(r"`([^`]+)`:\s*((?:`[^`]+`(?:,\s*)?)+)")
_LIST_OPERATORS = frozenset({"any", "contains-any", "contains-all"})


def _documented_filters(op: dict[str, Any], param: dict[str, Any]) -> dict[str, Any] | None:
    """The operation's `x-klaviyo-filters`, or (older revisions) the same read from the parameter's
    'Allowed field(s)/operator(s)' description, with string values."""
    declared = op.get("x-klaviyo-filters")
    if isinstance(declared, dict):
        return declared
    text = str(param.get("description") or "")
    if "Allowed field" not in text:
        return None
    out: dict[str, Any] = {}
    for field, ops_text in _DESCRIBED.findall(text.split("Allowed field", 1)[1]):
        operators: dict[str, list[str]] = {}
        for operator in re.findall(r"`([^`]+)`", ops_text):
            shape = "list" if operator in _LIST_OPERATORS else "none" if operator == "has" else "single"
            operators.setdefault(shape, []).append(operator)
        out[field] = {"operators": operators, "value": {"type": "string"}}
    return out or None


def _filters(documented: dict[str, Any], required_example: Any, st: Any) -> Any:
    """Filter expressions the operation's `x-klaviyo-filters` allows (one or two conditions, `and`-ed)."""
    conditions = [c for field, rule in documented.items() for c in _conditions(str(field), rule, st)]
    if not conditions:
        return st.just(str(required_example or ""))
    one = st.one_of(conditions)
    expression = st.one_of(one, st.tuples(one, one).map(lambda pair: f"and({pair[0]},{pair[1]})"))
    if isinstance(required_example, str) and required_example:
        return st.one_of(st.just(required_example), expression.map(lambda e: f"and({required_example},{e})"))
    return expression


def _conditions(field: str, rule: Any, st: Any) -> list[Any]:
    if not isinstance(rule, dict):
        return []
    operators = rule.get("operators") or {}
    value = _value(rule.get("value") or {}, st)
    out: list[Any] = []
    for shape, names in operators.items():
        for operator in names or ():
            if shape == "none":
                out.append(st.just(f"{operator}({field})"))
            elif shape == "list":
                out.append(
                    st.lists(value, min_size=1, max_size=3).map(
                        lambda items, o=operator: f"{o}({field},[{','.join(items)}])"
                    )
                )
            else:
                out.append(value.map(lambda v, o=operator: f"{o}({field},{v})"))
    return out


def _value(schema: dict[str, Any], st: Any) -> Any:
    """A literal of the filter grammar for a value of `schema` (strings quoted, datetimes bare)."""
    from datetime import UTC, datetime

    if schema.get("enum"):
        return st.sampled_from([_literal(v) for v in schema["enum"]])
    kind = schema.get("type")
    if kind == "boolean":
        return st.sampled_from(["true", "false"])
    if kind in ("integer", "number"):
        return st.integers(min_value=0, max_value=10**6).map(str)
    if schema.get("format") == "date-time":
        moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
        return moments.map(lambda d: d.replace(microsecond=0).isoformat())
    return st.text(alphabet=_SAFE_TEXT, max_size=12).map(lambda s: f"'{s}'")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return f"'{value}'"
