"""Each request is judged against the spec of its own `revision` header: another revision is fetched
(from the mirror, KDK_SPEC_SOURCE) into the content-keyed cache on first use."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kdk._paths import mirror_revisions

from .conftest import AUTH, asgi_client, proxy_for


@pytest.mark.mirror
async def test_other_revision_is_fetched_and_used(mirror: Path, mock_factory: Callable[..., Any]) -> None:
    stable = [
        ref
        for ref, channel in mirror_revisions(mirror)
        if channel == "stable" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", ref) and ref != AUTH["revision"]
    ]
    other = stable[-1]
    proxy = proxy_for(mock_factory(stateful=False))
    async with asgi_client(proxy, "http://proxy.test") as client:
        answer = await client.get("/api/lists/", headers={**AUTH, "revision": other})
    assert answer.status_code == 200
    contract = await proxy.contracts.for_revision(other)
    assert contract.revision == other


@pytest.mark.mirror
async def test_beta_revision_is_the_beta_channel(mirror: Path, mock_factory: Callable[..., Any]) -> None:
    beta = [ref for ref, channel in mirror_revisions(mirror) if channel == "beta" and ref.endswith(".pre")][-1]
    proxy = proxy_for(mock_factory(stateful=False))
    async with asgi_client(proxy, "http://proxy.test") as client:
        await client.get("/api/lists/", headers={**AUTH, "revision": beta})
    await proxy.flush()
    assert (await proxy.contracts.for_revision(beta)).revision == beta
    assert not [g for g in proxy.report.to_json()["groups"] if g["kind"] == "revision"]


async def test_bad_revision_is_reported_not_fatal(mock_factory: Callable[..., Any]) -> None:
    proxy = proxy_for(mock_factory(stateful=False))
    async with asgi_client(proxy, "http://proxy.test") as client:
        answer = await client.get("/api/lists/", headers={**AUTH, "revision": "yesterday"})
    assert answer.status_code == 400  # the upstream's answer, passed through
    await proxy.flush()
    groups = proxy.report.to_json()["groups"]
    assert [(g["kind"], g["example"]["value"]) for g in groups] == [("revision", "yesterday")]
