"""SQLite state survives a restart; seed data loads (JSON or YAML) and export round-trips into a seed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import SeedError, SqliteStore, StatefulBehaviour, apply_seed, export_state, load_seed_file

from .conftest import ACCOUNT_ONE, API_KEY, JSONAPI, core_client, list_body, profile_body

H = {**API_KEY, **JSONAPI}


async def test_sqlite_state_survives_restart(
    tmp_path: Path, compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    db = tmp_path / "state.db"
    first = make_behaviour(SqliteStore(db))
    async with core_client(compiled, first) as client:
        pid = (await client.post("/api/profiles", json=profile_body(email="keep@example.com"), headers=H)).json()[
            "data"
        ]["id"]
        lid = (await client.post("/api/lists", json=list_body("Kept"), headers=H)).json()["data"]["id"]
        await client.post(
            f"/api/lists/{lid}/relationships/profiles", json={"data": [{"type": "profile", "id": pid}]}, headers=H
        )
        before = (await client.get(f"/api/profiles/{pid}", headers=API_KEY)).json()
    first.store.close()

    second = make_behaviour(SqliteStore(db))
    async with core_client(compiled, second) as client:
        after = (await client.get(f"/api/profiles/{pid}", headers=API_KEY)).json()
        assert after == before
        members = (await client.get(f"/api/lists/{lid}/profiles", headers=API_KEY)).json()["data"]
        assert [m["id"] for m in members] == [pid]
        duplicate = await client.post("/api/profiles", json=profile_body(email="keep@example.com"), headers=H)
        assert duplicate.status_code == 409
        journal = (await client.get("/__mock__/journal", headers=API_KEY)).json()["requests"]
        assert journal[0]["path"] == "/api/profiles"  # the journal is persisted too
    second.store.close()


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_seed_file_and_export_round_trip(
    tmp_path: Path, suffix: str, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    doc = {
        "accounts": {
            "api_key:pk_test_one": [
                {"type": "profile", "id": "01GDDKASAP8TKDDA2GRZDSVP4H", "attributes": {"email": "seed@example.com"}},
                {
                    "type": "list",
                    "id": "Y6nRLr",
                    "attributes": {"name": "Seeded"},
                    "relationships": {"profiles": {"data": [{"type": "profile", "id": "01GDDKASAP8TKDDA2GRZDSVP4H"}]}},
                },
            ]
        }
    }
    path = tmp_path / f"seed{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(doc))
    else:
        import yaml

        path.write_text(yaml.safe_dump(doc))
    behaviour = make_behaviour()
    assert apply_seed(behaviour.index, behaviour.store, load_seed_file(path)) == 2
    exported = export_state(behaviour.store)
    resources = exported["accounts"][ACCOUNT_ONE]
    assert [(r["type"], r["id"]) for r in resources] == [("profile", "01GDDKASAP8TKDDA2GRZDSVP4H"), ("list", "Y6nRLr")]
    assert resources[1]["relationships"] == doc["accounts"]["api_key:pk_test_one"][1]["relationships"]
    assert resources[0]["attributes"]["email"] == "seed@example.com"
    # Loading into a non-empty account is skipped with only_empty (restarts, several workers).
    assert apply_seed(behaviour.index, behaviour.store, exported, only_empty=True) == 0
    # The export is itself a seed.
    again = make_behaviour()
    assert apply_seed(again.index, again.store, exported) == 2
    assert export_state(again.store) == exported


def test_bad_seed_files(tmp_path: Path, make_behaviour: Callable[..., StatefulBehaviour]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("accounts: [1, 2]\n")
    with pytest.raises(SeedError, match="accounts"):
        load_seed_file(bad)
    with pytest.raises(SeedError, match="cannot read"):
        load_seed_file(tmp_path / "missing.json")
    dup = {"accounts": {"api_key:a": [{"type": "profile", "attributes": {"email": "x@example.com"}}] * 2}}
    behaviour = make_behaviour()
    with pytest.raises(SeedError, match="email"):
        apply_seed(behaviour.index, behaviour.store, dup)
