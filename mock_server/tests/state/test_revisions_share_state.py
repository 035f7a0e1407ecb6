"""One account whatever revision a client speaks: `kdk mock --revisions` serves the same records to every loaded
revision, each in its own shapes (Klaviyo keeps one account; only its rendering is versioned).

Found with a third-party connector pinned to an older revision (contract_tests/tests/test_connector_sync.py):
each revision had its own store, so the account a client saw depended on its `revision` header, and a demo
account rendered on an older revision carried generated filler (`channel: "value-742"`) where the data had
moved between revisions (a campaign message's `channel` and `content` went under `definition`), so a
`messages.channel` filter on that revision answered a silent `[]`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kdk import mirror_revisions
from mock_server._serve import ServeOptions, build_core

from ..conftest import asgi_client

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

PINNED = "2026-07-15"


def _older_revisions(mirror: Path) -> list[str]:
    """The oldest stable revision of the mirror, and the last one whose bodies are `application/json`."""
    stable = sorted(ref for ref, channel in mirror_revisions(mirror) if channel == "stable" and ref[:4].isdigit())
    return sorted({stable[0], max(r for r in stable if r <= "2024-07-15")})


@contextlib.asynccontextmanager
async def _serving(mirror: Path, old: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    core = build_core(ServeOptions(revisions=[old, PINNED], state="memory", demo_data="small"))
    async with asgi_client(core) as client:
        yield client, old


@pytest.fixture(params=["oldest", "last-json"])
async def served(
    request: pytest.FixtureRequest, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    monkeypatch.setenv("KDK_SPEC_SOURCE", str(mirror))
    revisions = _older_revisions(mirror)
    async with _serving(mirror, revisions[0] if request.param == "oldest" else revisions[-1]) as served:
        yield served


@pytest.fixture
async def last_json(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The last revision with inline campaign messages that carry `channel` and `content` themselves."""
    monkeypatch.setenv("KDK_SPEC_SOURCE", str(mirror))
    async with _serving(mirror, _older_revisions(mirror)[-1]) as served:
        yield served


def _headers(revision: str) -> dict[str, str]:
    return {"Authorization": "Klaviyo-API-Key pk_test", "revision": revision}


def _deep(node: Any, key: str) -> Any:
    if isinstance(node, dict):
        if key in node:
            return node[key]
        for child in node.values():
            found = _deep(child, key)
            if found is not None:
                return found
    return None


async def test_a_write_on_one_revision_is_read_on_the_other(served: tuple[httpx.AsyncClient, str]) -> None:
    client, old = served
    for writer, reader, email in ((old, PINNED, "old-writer@example.com"), (PINNED, old, "new-writer@example.com")):
        body = {"data": {"type": "profile", "attributes": {"email": email, "first_name": "Ada"}}}
        created = await client.post(
            "/api/profiles", json=body, headers={**_headers(writer), "content-type": "application/json"}
        )
        assert created.status_code == 201, created.text
        pid = created.json()["data"]["id"]
        found = await client.get(
            "/api/profiles", params={"filter": f'equals(email,"{email}")'}, headers=_headers(reader)
        )
        assert found.status_code == 200 and [p["id"] for p in found.json()["data"]] == [pid], (writer, reader)
        assert found.headers["revision"] == reader
        again = await client.post(
            "/api/profiles", json=body, headers={**_headers(reader), "content-type": "application/json"}
        )
        assert again.status_code == 409, again.text  # one account: the duplicate is seen across revisions


async def test_moved_members_are_read_in_every_revision(last_json: tuple[httpx.AsyncClient, str]) -> None:
    """The demo account's email campaigns, filtered by `messages.channel` on either revision: all of them, and
    each message's channel read from the data (wherever the revision puts it), never a generated filler."""
    client, old = last_json
    counts = {}
    for revision in (old, PINNED):
        answer = await client.get(
            "/api/campaigns",
            params={"filter": "equals(messages.channel,'email')", "include": "campaign-messages"},
            headers=_headers(revision),
        )
        assert answer.status_code == 200, answer.text
        counts[revision] = len(answer.json()["data"])
        messages = [r for r in answer.json().get("included") or [] if r["type"] == "campaign-message"]
        assert messages and all(_deep(m["attributes"], "channel") == "email" for m in messages), messages[:1]
        assert all(_deep(m["attributes"], "subject") for m in messages)
    assert counts[old] == counts[PINNED] > 0


async def test_a_message_written_in_the_old_shape_reads_in_the_new(last_json: tuple[httpx.AsyncClient, str]) -> None:
    client, old = last_json
    body = {
        "data": {
            "type": "campaign",
            "attributes": {
                "name": "Written in the old shape",
                "audiences": {"included": ["Y6nRLr"]},
                "campaign-messages": {
                    "data": [
                        {
                            "type": "campaign-message",
                            "attributes": {
                                "channel": "email",
                                "label": "Old label",
                                "content": {"subject": "Old subject", "from_email": "a@b.co", "from_label": "A"},
                            },
                        }
                    ]
                },
            },
        }
    }
    created = await client.post(
        "/api/campaigns", json=body, headers={**_headers(old), "content-type": "application/json"}
    )
    assert created.status_code == 201, created.text
    read = await client.get(
        f"/api/campaigns/{created.json()['data']['id']}",
        params={"include": "campaign-messages"},
        headers=_headers(PINNED),
    )
    assert read.status_code == 200, read.text
    (message_read,) = read.json()["included"]
    assert _deep(message_read["attributes"], "subject") == "Old subject"
    assert _deep(message_read["attributes"], "channel") == "email"
