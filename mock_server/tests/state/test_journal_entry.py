"""A journal entry's JSON is written with its body's text spliced in (the body is encoded once, where it is
measured against the body bound): the same text as encoding the whole entry, on every store."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mock_server.state import Store
from mock_server.state._behaviour import _journal_body, _journal_entry

from .conftest import STORE_KINDS

HEAD = {"seq": 1, "time": "2026-12-02T08:00:00+00:00", "account": "acct_x", "operation_id": "create_profile"}
TAIL = {"auth_kind": "api_key", "status": 201, "errors": [{"detail": "é \u2028"}]}
BODIES: list[tuple[Any, int | None, int | None]] = [  # body, its Content-Length -> the bytes omitted
    ({"data": {"type": "profile", "attributes": {"email": "ü@example.com", "n": 1.5, "ok": True}}}, None, None),
    (None, None, None),
    ([1, "two", {"3": None}], 20, None),
    ({"file": b"\x00\x01\x02", "other": object}, None, None),  # an upload: its bytes kept as a note
    ({"pad": "x" * 300}, None, 311),  # over the bound: its size, measured as JSON
    ({"pad": "x"}, 5_000, 5_000),  # over the bound by its Content-Length: not encoded at all
]


@pytest.mark.parametrize(("body", "received", "omitted"), BODIES)
def test_an_entry_with_its_body_spliced_in_is_the_entry_encoded_whole(
    body: Any, received: int | None, omitted: int | None
) -> None:
    text, size = _journal_body(body, 200, received)
    assert size == omitted
    tail = {**TAIL, "body_omitted": {"bytes": size, "limit": 200}} if size is not None else TAIL
    kept = None if size is not None else json.loads(json.dumps(body, default=lambda o: "?"))
    if isinstance(body, dict) and "file" in body:
        kept = {"file": "<3 bytes>", "other": repr(object)}
    assert _journal_entry(HEAD, text, tail) == json.dumps({**HEAD, "body": kept, **tail})


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_every_store_keeps_an_entry_given_as_its_text(kind: str, open_any_store: Callable[[str], Store]) -> None:
    store = open_any_store(kind)
    text, _ = _journal_body(BODIES[0][0], 2_000)
    entry = _journal_entry(HEAD, text, TAIL)
    store.append_journal("acct_x", entry)
    store.append_journal("acct_x", {**HEAD, "body": BODIES[0][0], **TAIL})  # an entry as a dict: the same
    first, second = store.journal("acct_x")
    assert first == second == json.loads(entry)
    assert list(first) == [*HEAD, "body", *TAIL]
    store.append_journal("acct_x", entry, max_bytes=len(entry) * 2)  # the byte bound counts the text as stored
    assert len(store.journal("acct_x")) == 2
