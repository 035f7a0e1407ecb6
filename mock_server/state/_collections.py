"""Collection queries: filter, sort (documented values only), page size, opaque stable cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from ._filters import FieldLookup, FilterError, check_allowed, evaluate, field_value, fields_of, parse_filter
from ._index import OpInfo
from ._store import Record

__all__ = ["Page", "QueryError", "bare_cursor", "page_link", "quote_path", "run_query"]

DEFAULT_PAGE = 20
_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # RFC 3986 path characters (ids like `$custom:::$default:::X` stay readable)


class QueryError(ValueError):
    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail


@dataclass
class Page:
    records: list[Record]
    next_cursor: str | None
    prev_cursor: str | None


def _sort_key(record: Record, field: str | None) -> list[Any]:
    value = field_value(record, field) if field else None
    if field is None:
        ranked: list[Any] = [0, 0]
    elif value is None:
        ranked = [4, 0]
    elif isinstance(value, bool):
        ranked = [0, int(value)]
    elif isinstance(value, int | float):
        ranked = [1, value]
    elif isinstance(value, str):
        ranked = [2, value]
    else:
        ranked = [3, json.dumps(value, sort_keys=True)]
    return [*ranked, record.get("seq", 0)]


def bare_cursor(value: str) -> str:
    """The cursor itself, also when a client sends the whole `links.next` URL as `page[cursor]` (Klaviyo's
    official SDKs do): its own `page[cursor]` query parameter."""
    if "page[cursor]=" not in value and "page%5Bcursor%5D=" not in value.replace("%5b", "%5B").replace("%5d", "%5D"):
        return value
    query = urlsplit(value).query if "?" in value else value
    found = parse_qs(query).get("page[cursor]")
    return found[-1] if found else value


def _encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise QueryError("page[cursor]", "Invalid page cursor.") from exc
    if not isinstance(payload, dict) or payload.get("d") not in ("n", "p") or not _valid_key(payload.get("k")):
        raise QueryError("page[cursor]", "Invalid page cursor.")
    return payload


_RANK_TYPES: dict[int, tuple[type, ...]] = {0: (int,), 1: (int, float), 2: (str,), 3: (str,), 4: (int,)}


def _valid_key(key: Any) -> bool:
    """A cursor key is `[rank, value, seq]` with the value's type fixed by its rank (so keys compare)."""
    if not isinstance(key, list) or len(key) != 3:
        return False
    rank, value, seq = key
    if type(rank) is not int or rank not in _RANK_TYPES or type(seq) is not int:
        return False
    return isinstance(value, _RANK_TYPES[rank]) and not isinstance(value, bool)


def run_query(
    op: OpInfo,
    records: list[Record],
    query: dict[str, str],
    *,
    paginate: bool = True,
    lookup: FieldLookup = field_value,
    unreadable: Callable[[list[Record], set[str]], str | None] | None = None,
) -> Page:
    """Apply `filter`, `sort`, `page[size]` and `page[cursor]` from `query` as `op` documents them
    (`lookup` reads a filter field: relationship-aware readers see the other records)."""
    text = query.get("filter")
    if op.filter_required and not text:
        raise QueryError("filter", op.filter_required)
    if text:
        if not op.filter_documented:
            raise QueryError("filter", "Filtering is not supported on this endpoint.")
        try:
            tree = parse_filter(text)
        except FilterError as exc:
            raise QueryError("filter", f"Invalid filter: {exc}.") from exc
        problem = check_allowed(tree, op.filters)
        if problem:
            raise QueryError("filter", f"{problem} '{op.related_type or op.resource_type}'.")
        if op.filter_required_fields and not fields_of(tree) & op.filter_required_fields:
            raise QueryError("filter", op.filter_required or "A filter is required for this endpoint.")
        problem = unreadable(records, fields_of(tree)) if unreadable else None
        if problem:
            raise QueryError("filter", problem)
        records = [r for r in records if evaluate(tree, r, lookup)]

    sort = query.get("sort")
    field: str | None = None
    descending = False
    if sort:
        if sort not in op.sorts:
            raise QueryError("sort", f"'{sort}' is not a valid sort value for this endpoint.")
        descending = sort.startswith("-")
        field = sort.lstrip("-")
    keyed = sorted(((_sort_key(r, field), r) for r in records), key=lambda kr: kr[0], reverse=descending)

    documented_paging = op.page_default is not None or "page[cursor]" in query
    if not paginate or not documented_paging:
        return Page([r for _, r in keyed], None, None)
    size = op.page_default or DEFAULT_PAGE
    if "page[size]" in query:
        try:
            size = int(query["page[size]"])
        except ValueError:
            raise QueryError("page[size]", "page[size] must be an integer.") from None
        if size < 1 or (op.page_max is not None and size > op.page_max):
            raise QueryError("page[size]", f"page[size] must be between 1 and {op.page_max}.")

    def after(key: list[Any], bound: list[Any]) -> bool:
        return key < bound if descending else key > bound

    start = 0
    if query.get("page[cursor]"):
        cursor = _decode(bare_cursor(query["page[cursor]"]))
        bound = cursor["k"]
        if cursor["d"] == "n":
            start = next((i for i, (k, _) in enumerate(keyed) if after(k, bound)), len(keyed))
        else:
            end = next((i for i, (k, _) in enumerate(keyed) if not after(bound, k)), len(keyed))
            start = max(0, end - size)
    window = keyed[start : start + size]
    next_cursor = _encode({"k": window[-1][0], "d": "n"}) if window and start + size < len(keyed) else None
    prev_cursor = _encode({"k": window[0][0], "d": "p"}) if window and start > 0 else None
    return Page([r for _, r in window], next_cursor, prev_cursor)


def quote_path(path: str) -> str:
    """A path (with ids in it) as a valid URI path."""
    return quote(path, safe=_PATH_SAFE)


def page_link(base_url: str, path: str, query: dict[str, str], cursor: str | None = None) -> str:
    params = {k: v for k, v in query.items() if k != "page[cursor]"}
    if cursor:
        params["page[cursor]"] = cursor
    # Only what RFC 3986 allows in a query stays unencoded (`[`, `]` and `"` do not: `page%5Bsize%5D`).
    encoded = urlencode(params, safe="(),:'$")
    return f"{base_url}{quote_path(path)}" + (f"?{encoded}" if encoded else "")
