"""Collection queries: filter, sort (documented values only), page size, opaque stable cursors."""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from ._filters import FieldLookup, FilterError, Node, check_allowed, evaluate, field_value, fields_of, parse_filter
from ._index import DEFAULT_PAGE_SIZE, OpInfo
from ._plan import Range, SortKey, equality_terms, range_terms, sort_key
from ._store import Record, StoreTx

__all__ = [
    "ListSource",
    "Page",
    "QueryError",
    "RecordSource",
    "StoreSource",
    "WindowSource",
    "bare_cursor",
    "page_link",
    "quote_path",
    "run_query",
]

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


class RecordSource(Protocol):
    """Where a query reads its records: a list in memory, or a store's indexes."""

    def narrow(self, tree: Node) -> list[Record] | RecordSource | None:
        """A superset of the records `tree` can match, from an index, as records or as a source to walk
        (None: no index helps)."""
        ...

    def walk(self, sort_field: str | None, descending: bool, after: SortKey | None) -> Iterator[tuple[SortKey, Record]]:
        """Records in sort order, strictly after `after` in the walk's direction."""
        ...

    def sample(self) -> list[Record]:
        """A record or none (what a filter field check looks at first)."""
        ...

    def everything(self) -> list[Record]: ...


class ListSource:
    """Records already at hand (a related collection, index candidates): sorted once per sort field."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self._sorted: dict[str | None, tuple[list[SortKey], list[Record]]] = {}

    def narrow(self, tree: Node) -> list[Record] | None:
        return None

    def walk(self, sort_field: str | None, descending: bool, after: SortKey | None) -> Iterator[tuple[SortKey, Record]]:
        if sort_field not in self._sorted:
            keyed = sorted(((sort_key(r, sort_field), r) for r in self.records), key=lambda kr: kr[0])
            self._sorted[sort_field] = ([k for k, _ in keyed], [r for _, r in keyed])
        keys, rows = self._sorted[sort_field]
        if descending:
            end = len(keys) if after is None else bisect_left(keys, after)
            for i in range(end - 1, -1, -1):
                yield keys[i], rows[i]
        else:
            for i in range(0 if after is None else bisect_right(keys, after), len(keys)):
                yield keys[i], rows[i]

    def sample(self) -> list[Record]:
        return self.records[:1]

    def everything(self) -> list[Record]:
        return self.records


class StoreSource:
    """Every record of a type in an account, read through the store's indexes."""

    def __init__(self, tx: StoreTx, account: str, rtype: str) -> None:
        self.tx, self.account, self.rtype = tx, account, rtype

    def narrow(self, tree: Node) -> list[Record] | RecordSource | None:
        # One window of a parent's children (a metric's events in a month) is walked in order from a range
        # index and stops at a page; of several, the smallest is read whole.
        windows = [
            (parent, field, bounds) for field, bounds in range_terms(tree).items() for parent in equality_terms(tree)
        ]
        if len(windows) == 1:
            return WindowSource(self.tx, self.account, self.rtype, *windows[0], whole=lambda: self._narrowed(tree))
        return self._narrowed(tree)

    def _narrowed(self, tree: Node) -> list[Record] | None:
        best: list[Record] | None = None
        equal = equality_terms(tree)
        # A parent's children in a range (a metric's events in a time window) come from a range index:
        # fewer than the parent's children, which the equality index alone would give.
        for field, bounds in range_terms(tree).items():
            for parent in equal:
                found = self.tx.between(self.account, self.rtype, parent, field, bounds)
                if found is not None and (best is None or len(found) < len(best)):
                    best = found
        if best is not None:
            return best
        for field, keys in equal:
            found = self.tx.candidates(self.account, self.rtype, field, keys)
            if found is not None and (best is None or len(found) < len(best)):
                best = found
        return best

    def walk(self, sort_field: str | None, descending: bool, after: SortKey | None) -> Iterator[tuple[SortKey, Record]]:
        return self.tx.walk(self.account, self.rtype, sort_field, descending=descending, after=after)

    def sample(self) -> list[Record]:
        return [r for _, r in islice(self.walk(None, False, None), 1)]

    def everything(self) -> list[Record]:
        return self.tx.scan(self.account, self.rtype)


class WindowSource:
    """A parent's children in a range of a field (a metric's events in a month): walked from the store's
    range index in the page's order (`tx.walk_between`), so a page costs a page whatever the window holds;
    read whole (`whole`: the window, else what other indexes narrow it to; None: every record) and sorted
    when the index cannot walk in that order."""

    def __init__(
        self,
        tx: StoreTx,
        account: str,
        rtype: str,
        parent: tuple[str, list[str]],
        field: str,
        bounds: Range,
        *,
        whole: Callable[[], list[Record] | None],
    ) -> None:
        self.tx, self.account, self.rtype = tx, account, rtype
        self.parent, self.field, self.bounds = parent, field, bounds
        self._read_whole = whole
        self._whole: ListSource | None = None

    def narrow(self, tree: Node) -> list[Record] | RecordSource | None:
        return None

    def walk(self, sort_field: str | None, descending: bool, after: SortKey | None) -> Iterator[tuple[SortKey, Record]]:
        walked = self.tx.walk_between(
            self.account,
            self.rtype,
            self.parent,
            self.field,
            self.bounds,
            sort_field,
            descending=descending,
            after=after,
        )
        if walked is not None:
            return walked
        if self._whole is None:
            found = self._read_whole()
            self._whole = ListSource(found if found is not None else self.tx.scan(self.account, self.rtype))
        return self._whole.walk(sort_field, descending, after)

    def sample(self) -> list[Record]:
        return [r for _, r in islice(self.walk(None, False, None), 1)]

    def everything(self) -> list[Record]:
        return [r for _, r in self.walk(None, False, None)]


def _at(bound: SortKey, descending: bool) -> SortKey:
    """The position just before `bound` in a walk's direction: walking after it starts at `bound` itself
    (`seq`, the last member, is an integer unique per record)."""
    rank, value, seq = bound
    return (rank, value, seq + 1 if descending else seq - 1)


def run_query(
    op: OpInfo,
    records: list[Record] | RecordSource,
    query: dict[str, str],
    *,
    paginate: bool = True,
    lookup: FieldLookup = field_value,
    unreadable: Callable[[list[Record], set[str]], str | None] | None = None,
) -> Page:
    """Apply `filter`, `sort`, `page[size]` and `page[cursor]` from `query` as `op` documents them
    (`lookup` reads a filter field: relationship-aware readers see the other records). A page walks the
    source in sort order and stops once full, so its cost does not grow with the collection."""
    source: RecordSource = ListSource(records) if isinstance(records, list) else records
    text = query.get("filter")
    tree: Node | None = None
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
        if unreadable:
            # A field no rule reads is refused unless some record holds it: look at one record first.
            problem = unreadable(source.sample(), fields_of(tree))
            problem = problem and unreadable(source.everything(), fields_of(tree))
            if problem:
                raise QueryError("filter", problem)
        narrowed = source.narrow(tree)
        if narrowed is not None:
            source = ListSource(narrowed) if isinstance(narrowed, list) else narrowed

    sort = query.get("sort")
    field: str | None = None
    descending = False
    if sort:
        if sort not in op.sorts:
            raise QueryError("sort", f"'{sort}' is not a valid sort value for this endpoint.")
        descending = sort.startswith("-")
        field = sort.lstrip("-")

    def walk(backwards: bool, after: SortKey | None) -> Iterator[tuple[SortKey, Record]]:
        for key, record in source.walk(field, backwards, after):
            if tree is None or evaluate(tree, record, lookup):
                yield key, record

    documented_paging = op.page_default is not None or "page[cursor]" in query
    if not paginate or not documented_paging:
        return Page([r for _, r in walk(descending, None)], None, None)
    size = op.page_default or DEFAULT_PAGE_SIZE
    if "page[size]" in query:
        try:
            size = int(query["page[size]"])
        except ValueError:
            raise QueryError("page[size]", "page[size] must be an integer.") from None
        if size < 1 or (op.page_max is not None and size > op.page_max):
            raise QueryError("page[size]", f"page[size] must be between 1 and {op.page_max}.")

    cursor = _decode(bare_cursor(query["page[cursor]"])) if query.get("page[cursor]") else None
    bound: SortKey | None = tuple(cursor["k"]) if cursor else None
    window: list[tuple[SortKey, Record]] = []
    has_prev = False
    if cursor is not None and bound is not None and cursor["d"] == "p":
        before = list(islice(walk(not descending, bound), size + 1))  # nearest first
        if len(before) > size:  # a full page before the bound, and more before it
            window = before[:size][::-1]
            has_prev = True
            has_next = next(walk(descending, _at(bound, descending)), None) is not None
        else:
            bound = None  # the first page
    if not window:
        found = list(islice(walk(descending, bound), size + 1))
        has_next, window = len(found) > size, found[:size]
        if bound is not None:
            has_prev = next(walk(not descending, _at(bound, not descending)), None) is not None
    next_cursor = _encode({"k": list(window[-1][0]), "d": "n"}) if window and has_next else None
    prev_cursor = _encode({"k": list(window[0][0]), "d": "p"}) if window and has_prev else None
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
