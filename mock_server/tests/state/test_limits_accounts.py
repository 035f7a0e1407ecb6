"""The number of accounts is bounded (`--max-accounts`): every new credential is a new account, so a shared
mock fed fresh keys would otherwise grow without end. Past the bound a new credential gets a 403 JSON:API
error; the accounts already known keep working, also after a restart of a persistent state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import SqliteStore, StatefulBehaviour
from mock_server.state._limits import ACCOUNT_LIMIT_CODE, ResourceLimits

from .conftest import ACCOUNT_TWO, ADMIN, API_KEY, JSONAPI, OAUTH, OTHER_KEY, core_client, profile_body

THIRD_KEY = {"Authorization": "Klaviyo-API-Key pk_test_three", "revision": "2026-07-15"}


def _refused(answer: httpx.Response) -> None:
    assert answer.status_code == 403, answer.text
    (error,) = answer.json()["errors"]
    assert error["code"] == ACCOUNT_LIMIT_CODE
    assert error["status"] == 403
    assert "--max-accounts 2" in error["detail"]


async def test_a_new_credential_past_the_bound_is_refused_and_known_ones_keep_working(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour = make_behaviour(limits=ResourceLimits(max_accounts=2))
    async with core_client(compiled, behaviour) as client:
        for key in (API_KEY, OTHER_KEY):
            created = await client.post(
                "/api/profiles", json=profile_body(email="a@example.com"), headers={**key, **JSONAPI}
            )
            assert created.status_code == 201
        _refused(await client.get("/api/profiles", headers=THIRD_KEY))
        _refused(
            await client.post(
                "/api/profiles", json=profile_body(email="c@example.com"), headers={**THIRD_KEY, **JSONAPI}
            )
        )
        _refused(await client.get("/api/lists", headers=OAUTH))  # an OAuth token is an account too
        # nothing is kept for a refused credential: no records, no journal
        assert len(behaviour.accounts) == 2
        assert behaviour.store.journal() and all(
            e["account"] in behaviour.store.accounts() for e in behaviour.store.journal()
        )
        assert (await client.get("/__mock__/journal", headers=THIRD_KEY)).json()["requests"] == []
        # the known accounts are served as before
        listed = await client.get("/api/profiles", headers=API_KEY)
        assert listed.status_code == 200 and len(listed.json()["data"]) == 1
        more = await client.post(
            "/api/profiles", json=profile_body(email="b@example.com"), headers={**OTHER_KEY, **JSONAPI}
        )
        assert more.status_code == 201


async def test_resetting_an_account_gives_its_place_back(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour = make_behaviour(limits=ResourceLimits(max_accounts=2))
    async with core_client(compiled, behaviour) as client:
        await client.get("/api/profiles", headers=API_KEY)
        await client.post("/api/profiles", json=profile_body(email="a@example.com"), headers={**OTHER_KEY, **JSONAPI})
        _refused(await client.get("/api/profiles", headers=THIRD_KEY))
        reset = await client.post("/__mock__/reset", params={"account": ACCOUNT_TWO}, headers=ADMIN)
        assert reset.status_code == 200
        assert (await client.get("/api/profiles", headers=THIRD_KEY)).status_code == 200
        _refused(await client.get("/api/profiles", headers=OTHER_KEY))  # its place is taken now


async def test_loading_data_into_a_new_account_counts_too(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour = make_behaviour(limits=ResourceLimits(max_accounts=2))
    async with core_client(compiled, behaviour) as client:
        await client.get("/api/profiles", headers=API_KEY)
        await client.get("/api/profiles", headers=OTHER_KEY)
        seed = {"resources": [{"type": "profile", "attributes": {"email": "s@example.com"}}]}
        answer = await client.post("/__mock__/state", json=seed, headers=THIRD_KEY)
        _refused(answer)
        assert len(behaviour.accounts) == 2


async def test_a_persistent_state_counts_its_accounts_after_a_restart(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour], tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    first = make_behaviour(SqliteStore(path), limits=ResourceLimits(max_accounts=2))
    async with core_client(compiled, first) as client:
        for key in (API_KEY, OTHER_KEY):
            created = await client.post(
                "/api/profiles", json=profile_body(email="a@example.com"), headers={**key, **JSONAPI}
            )
            assert created.status_code == 201
    first.store.close()
    again = make_behaviour(SqliteStore(path), limits=ResourceLimits(max_accounts=2))
    assert len(again.accounts) == 2
    async with core_client(compiled, again) as client:
        _refused(await client.get("/api/profiles", headers=THIRD_KEY))
        for key in (API_KEY, OTHER_KEY):
            listed = await client.get("/api/profiles", headers=key)
            assert listed.status_code == 200 and len(listed.json()["data"]) == 1
    again.store.close()


def test_the_bound_is_at_least_one() -> None:
    assert ResourceLimits.from_options({}).max_accounts == 1000
    assert ResourceLimits.from_options({"max_accounts": 5}).max_accounts == 5
    with pytest.raises(ValueError, match="--max-accounts must be at least 1"):
        ResourceLimits.from_options({"max_accounts": 0})
