"""Operations that page by cursor alone (no `page[size]`: most list operations of older revisions, bulk-job and
metric listings today) have a fixed page size, stated in their description ("Returns a maximum of 200 events
per page"). The mock once answered their first request (no cursor yet) with every record: a client that pages
never saw a second page, and a large account came back in one response."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kdk import mirror_revisions
from kdk.spec import load_spec
from mock_server.state._index import DEFAULT_PAGE_SIZE, build_index

STATED = re.compile(r"maximum of (\d+) [\w ]{1,40}? per (?:page|request)", re.IGNORECASE)


@pytest.mark.mirror
@pytest.mark.slow
def test_every_cursor_paged_operation_of_every_revision_has_a_page_size(mirror: Path) -> None:
    checked = 0
    for ref, channel in mirror_revisions(mirror):
        spec = load_spec(mirror / ref / "openapi" / f"{channel}.json")
        index = build_index(spec)
        nodes = {
            op.get("operationId"): op
            for item in spec["paths"].values()
            for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        }
        for op_id, info in index.ops.items():
            params = {p.get("name") for p in nodes[op_id].get("parameters") or [] if isinstance(p, dict)}
            if "page[cursor]" not in params or "page[size]" in params:
                continue
            stated = STATED.search(str(nodes[op_id].get("description") or ""))
            expected = int(stated.group(1)) if stated else DEFAULT_PAGE_SIZE
            assert (info.page_default, info.page_max) == (expected, expected), (ref, op_id)
            checked += 1
    assert checked > 100  # 2023-06-15 alone has 27 such operations
