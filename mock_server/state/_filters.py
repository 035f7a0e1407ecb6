"""Klaviyo's `filter` grammar: parse, check against an operation's allowed fields/operators, evaluate.

filter  := expr ("," expr)*                 -- a top-level comma means `and`
expr    := and(expr, ...) | or(expr, ...) | not(expr) | has(field) | OP(field, value)
value   := 'str' | "str" | number | true | false | null | ISO datetime | [value, ...]
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._index import FieldFilter

__all__ = [
    "COMPARISONS",
    "FieldLookup",
    "FilterError",
    "Node",
    "check_allowed",
    "evaluate",
    "field_value",
    "fields_of",
    "parse_datetime",
    "parse_filter",
]

COMPARISONS = frozenset(
    {
        "equals",
        "any",
        "contains",
        "contains-any",
        "contains-all",
        "starts-with",
        "ends-with",
        "greater-than",
        "greater-or-equal",
        "less-than",
        "less-or-equal",
    }
)
_LIST_ONLY = frozenset({"any", "contains-any", "contains-all"})
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+\- ]\d{2}:?\d{2})?)?$")
_NAME = re.compile(r"[A-Za-z_$][\w.$:\-]*")
_SPACED_NAME = re.compile(r"[A-Za-z_$][\w.$:\- ]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$")


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Node:
    op: str  # "and" | "or" | "not" | "has" | a comparison
    field: str = ""
    value: Any = None
    children: tuple[Node, ...] = ()


# Klaviyo's filters nest a few levels at most; deeper input is refused before it can exhaust the stack.
MAX_FILTER_DEPTH = 32
# Conditions plus list values in one filter: past this a filter is refused (400) instead of costing
# records x terms evaluations on every request (a 600-way `or(...)` over a few hundred profiles took ~2 s).
MAX_FILTER_TERMS = 100
# Characters in one filter: 100 conditions with ids or emails fit in a few KB; a longer filter is refused before
# it is parsed (a 20,000-character string value was compared with every candidate record).
MAX_FILTER_LENGTH = 10_000


class _Parser:
    def __init__(self, text: str, naive_tz: dt.tzinfo = dt.UTC) -> None:
        self.text = text
        self.naive_tz = naive_tz
        self.pos = 0
        self.depth = 0
        self.terms = 0

    def count_term(self) -> None:
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            raise self.fail(f"more than {MAX_FILTER_TERMS} conditions and values")

    def fail(self, what: str) -> FilterError:
        shown = self.text if len(self.text) <= 200 else self.text[:200] + "..."  # never echo a huge filter back
        return FilterError(f"{what} at position {self.pos} of {shown!r}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def name(self, *, spaced: bool = False) -> str:
        """An operator or (`spaced`) a field name: fields may hold inner spaces (`Campaign Name`, a metric
        aggregate's dimension)."""
        self.skip()
        match = (_SPACED_NAME if spaced else _NAME).match(self.text, self.pos)
        if not match:
            raise self.fail("expected a name")
        self.pos = match.end()
        return match.group(0).rstrip()

    def expr(self) -> Node:
        self.depth += 1
        try:
            return self._expr()
        finally:
            self.depth -= 1

    def _expr(self) -> Node:
        if self.depth > MAX_FILTER_DEPTH:
            raise self.fail(f"nested more than {MAX_FILTER_DEPTH} levels deep")
        op = self.name()
        self.expect("(")
        if op in ("and", "or"):
            children = [self.expr()]
            while self.peek() == ",":
                self.pos += 1
                children.append(self.expr())
            self.expect(")")
            return Node(op, children=tuple(children))
        if op == "not":
            child = self.expr()
            self.expect(")")
            return Node(op, children=(child,))
        field = self.name(spaced=True)
        self.count_term()
        if op == "has":
            self.expect(")")
            return Node(op, field)
        if op not in COMPARISONS:
            raise FilterError(f"unknown operator {op!r}")
        self.expect(",")
        value = self.value()
        self.expect(")")
        return Node(op, field, value)

    def value(self) -> Any:
        char = self.peek()
        if char == "[":
            self.pos += 1
            items: list[Any] = []
            if self.peek() == "]":
                self.pos += 1
                return items
            self.count_term()
            items.append(self.value())
            while self.peek() == ",":
                self.pos += 1
                self.count_term()
                items.append(self.value())
            self.expect("]")
            return items
        if char in ("'", '"'):
            end = self.text.find(char, self.pos + 1)
            if end < 0:
                raise self.fail("unterminated string")
            raw = self.text[self.pos + 1 : end]
            self.pos = end + 1
            return raw
        match = re.compile(r"[^,()\[\]]+").match(self.text, self.pos)
        if not match:
            raise self.fail("expected a value")
        self.pos = match.end()
        token = match.group(0).strip()
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return None
        if _NUMBER.match(token):
            return float(token) if any(c in token for c in ".eE") else int(token)
        if _DATETIME.match(token):
            return parse_datetime(token, self.naive_tz)
        raise FilterError(f"invalid value {token!r}")


def parse_datetime(token: str, naive_tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    """An ISO 8601 datetime as filters write it (no offset: in `naive_tz`, UTC unless a query says)."""
    # A '+' in an unencoded query string arrives as a space.
    fixed = re.sub(r" (\d{2}:?\d{2})$", r"+\1", token.replace("Z", "+00:00"))
    try:
        value = dt.datetime.fromisoformat(fixed)
    except ValueError as exc:
        raise FilterError(f"invalid datetime {token!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=naive_tz)


def parse_filter(text: str, naive_tz: dt.tzinfo = dt.UTC) -> Node:
    """The filter's tree; datetimes without an offset are read in `naive_tz`."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"longer than {MAX_FILTER_LENGTH:,} characters ({len(text):,})")
    parser = _Parser(text, naive_tz)
    nodes = [parser.expr()]
    while parser.peek() == ",":
        parser.pos += 1
        nodes.append(parser.expr())
    if parser.peek():
        raise parser.fail("unexpected text")
    return nodes[0] if len(nodes) == 1 else Node("and", children=tuple(nodes))


def check_allowed(node: Node, allowed: dict[str, FieldFilter]) -> str | None:
    """Why `node` is not allowed by the operation's documented fields/operators (None if it is)."""
    if node.op in ("and", "or", "not"):
        for child in node.children:
            problem = check_allowed(child, allowed)
            if problem:
                return problem
        return None
    rule = allowed.get(node.field)
    if rule is None:
        return f"'{node.field}' is not a valid field for the resource"
    # The description lists one operator set per field; `x-klaviyo-filters` splits it by value shape, but
    # the real API takes `equals(name,'x')` where the extension lists `equals` for lists only: use both.
    if node.op not in rule.single | rule.many:
        return f"'{node.op}' is not a valid operator for '{node.field}' on the resource"
    if node.op in _LIST_ONLY and not isinstance(node.value, list):
        return f"'{node.op}' needs a list value for '{node.field}' on the resource"
    return None


def field_value(resource: dict[str, Any], path: str) -> Any:
    """A filter/sort field of a stored resource: `id`, or a dotted path into its attributes."""
    if path == "id":
        return resource.get("id")
    node: Any = resource.get("attributes") or {}
    for part in path.split("."):
        if isinstance(node, list):
            node = [item.get(part) for item in node if isinstance(item, dict)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


@functools.lru_cache(maxsize=65536)
def _stored_datetime(text: str) -> dt.datetime | str:
    """A stored datetime string as a datetime (the text itself when it is none); a collection's records are
    compared with several bounds, so each is parsed once."""
    try:
        return parse_datetime(text)
    except FilterError:
        return text


def _coerce(actual: Any, wanted: Any) -> Any:
    """`actual` in the form `wanted` compares with: a datetime (an event's epoch `timestamp` too)."""
    if isinstance(wanted, dt.datetime) and isinstance(actual, str):
        return _stored_datetime(actual)
    if isinstance(wanted, dt.datetime) and isinstance(actual, int | float) and not isinstance(actual, bool):
        return dt.datetime.fromtimestamp(actual, dt.UTC)
    return actual


def _compare(op: str, actual: Any, wanted: Any) -> bool:
    if isinstance(actual, list) and op not in ("contains", "contains-any", "contains-all"):
        # A list-valued field (a relationship's ids, `suppression[].reason`) matches when any element does.
        if op == "equals" and actual == wanted:
            return True
        return any(_compare(op, item, wanted) for item in actual)
    if op == "any" or (op == "equals" and isinstance(wanted, list) and not isinstance(actual, list)):
        values = wanted if isinstance(wanted, list) else [wanted]
        if not any(isinstance(v, dt.datetime) for v in values):
            return actual in values  # (no value to coerce to: one membership test)
        return any(_coerce(actual, v) == v for v in values)
    actual = _coerce(actual, wanted)
    if op == "equals":
        return bool(actual == wanted)
    if op == "contains":
        if isinstance(actual, list):
            return wanted in actual
        return isinstance(actual, str) and isinstance(wanted, str) and wanted in actual
    if op in ("contains-any", "contains-all"):
        values = wanted if isinstance(wanted, list) else [wanted]
        pool = actual if isinstance(actual, list) else [actual]
        hits = [v in pool or (isinstance(actual, str) and isinstance(v, str) and v in actual) for v in values]
        return any(hits) if op == "contains-any" else all(hits)
    if op == "starts-with":
        return isinstance(actual, str) and isinstance(wanted, str) and actual.startswith(wanted)
    if op == "ends-with":
        return isinstance(actual, str) and isinstance(wanted, str) and actual.endswith(wanted)
    if actual is None or wanted is None:
        return False
    try:
        if op == "greater-than":
            return bool(actual > wanted)
        if op == "greater-or-equal":
            return bool(actual >= wanted)
        if op == "less-than":
            return bool(actual < wanted)
        if op == "less-or-equal":
            return bool(actual <= wanted)
    except TypeError:
        return False
    return False


FieldLookup = Callable[[dict[str, Any], str], Any]


def evaluate(node: Node, resource: dict[str, Any], lookup: FieldLookup = field_value) -> bool:
    """Does `resource` pass the filter? `lookup` reads a field (relationship-aware ones see other records)."""
    if node.op == "and":
        return all(evaluate(child, resource, lookup) for child in node.children)
    if node.op == "or":
        return any(evaluate(child, resource, lookup) for child in node.children)
    if node.op == "not":
        return not evaluate(node.children[0], resource, lookup)
    actual = lookup(resource, node.field)
    if node.op == "has":
        return actual not in (None, "", [], {})
    return _compare(node.op, actual, node.value)


def fields_of(node: Node) -> set[str]:
    """Every field a filter names."""
    if node.op in ("and", "or", "not"):
        return set().union(*(fields_of(child) for child in node.children))
    return {node.field}
