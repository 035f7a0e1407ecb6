"""Demo accounts (`kdk mock --demo-data`, `kdk seed generate`): deterministic, schema-valid, consistent."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kdk import cli
from mock_server import account_for_name
from mock_server._compile import CompiledSpec
from mock_server.state import (
    DEMO_ACCOUNT,
    DemoSizeError,
    MemoryStore,
    ResourceIndex,
    SqliteStore,
    StatefulBehaviour,
    Store,
    apply_seed,
    behaviours_from_options,
    demo_resources,
    export_state,
    load_demo,
    load_seed_file,
    parse_demo_size,
)

from .conftest import core_client, response_errors

DEMO_KEY = {"Authorization": "Klaviyo-API-Key pk_test", "revision": "2026-07-15"}  # the README's example key
SMALL = parse_demo_size("small")
DEMO_ID = str(account_for_name(DEMO_ACCOUNT))  # the store keys accounts by their opaque id


@pytest.mark.parametrize(
    ("text", "profiles"),
    [
        *[("small", 50), ("1k", 1_000), ("10k", 10_000), ("100k", 100_000), ("1m", 1_000_000)],
        *[("2500", 2_500), ("250k", 250_000), ("1.5k", 1_500), ("1M", 1_000_000)],
    ],
)
def test_sizes(text: str, profiles: int) -> None:
    assert parse_demo_size(text) == profiles


@pytest.mark.parametrize("text", ["", "0", "-5", "big", "10x", "1kk"])
def test_a_bad_size_is_a_clear_error(text: str) -> None:
    with pytest.raises(DemoSizeError, match="small, 1k, 10k, 100k, 1m"):
        parse_demo_size(text)


def test_same_size_and_seed_same_account(index: ResourceIndex) -> None:
    first = json.dumps(list(demo_resources(index, SMALL)))
    assert first == json.dumps(list(demo_resources(index, SMALL)))
    assert first != json.dumps(list(demo_resources(index, SMALL, seed=1)))


def test_the_account_holds_every_kind_of_resource(index: ResourceIndex) -> None:
    resources = list(demo_resources(index, 200))
    counts = Counter(r["type"] for r in resources)
    assert counts["profile"] == 200
    assert 8 * 200 <= counts["event"] <= 12 * 200  # about 10 events per profile
    for rtype in ("metric", "list", "segment", "campaign", "campaign-message", "flow", "template", "catalog-item"):
        assert counts[rtype] >= 1, rtype
    profiles = [r for r in resources if r["type"] == "profile"]
    assert len({p["attributes"]["email"] for p in profiles}) == 200
    phones = [p["attributes"]["phone_number"] for p in profiles if "phone_number" in p["attributes"]]
    assert phones and len(set(phones)) == len(phones)
    assert all(p["attributes"]["location"]["city"] for p in profiles)
    consent = Counter(
        p["attributes"].get("subscriptions", {}).get("email", {}).get("marketing", {}).get("consent") for p in profiles
    )
    assert consent["SUBSCRIBED"] > consent["UNSUBSCRIBED"] > 0
    for r in resources:
        if r["type"] in ("list", "segment"):
            assert r["relationships"]["profiles"]["data"], f"{r['type']} {r['attributes']['name']} has no members"


def _dangling(store: Store, account: str) -> list[str]:
    """Every relationship of every stored resource that names a resource the account does not hold."""
    problems = []
    with store.transaction(write=False) as tx:
        for rtype in tx.types(account):
            for record in tx.scan(account, rtype):
                for name, rel in (record.get("relationships") or {}).items():
                    for ref in rel.get("data") or []:
                        if tx.get(account, ref["type"], ref["id"]) is None:
                            problems.append(f"{rtype} {record['id']}.{name} -> {ref['type']} {ref['id']}")
    return problems


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_loaded_relationships_are_consistent_and_loading_twice_adds_nothing(
    index: ResourceIndex, kind: str, tmp_path: Path
) -> None:
    store: Store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "state.db")
    loaded = load_demo(index, store, SMALL)
    assert loaded == len(list(demo_resources(index, SMALL)))
    assert store.accounts() == [DEMO_ID]
    assert _dangling(store, DEMO_ID) == []
    with store.transaction(write=False) as tx:
        events = tx.scan(DEMO_ID, "event")
        assert {e["relationships"]["metric"]["data"][0]["type"] for e in events} == {"metric"}
        assert {e["relationships"]["profile"]["data"][0]["type"] for e in events} == {"profile"}
    assert load_demo(index, store, SMALL) == 0  # an account that holds resources is left alone
    store.close()


async def test_every_seeded_type_reads_back_valid_for_its_schema(
    compiled: CompiledSpec, spec: dict[str, Any], index: ResourceIndex
) -> None:
    behaviour = StatefulBehaviour(spec, MemoryStore(), index=index)
    load_demo(index, behaviour.store, SMALL)
    with behaviour.store.transaction(write=False) as tx:
        firsts = {rtype: tx.scan(DEMO_ID, rtype)[0] for rtype in tx.types(DEMO_ID)}
    problems: list[str] = []
    async with core_client(compiled, behaviour) as client:
        for rtype, record in sorted(firsts.items()):
            info = index.types[rtype]
            assert info.get_op, rtype
            op = index.ops[info.get_op]
            path = op.path.replace("{" + (op.id_param or "id") + "}", record["id"])
            extra = {"additional-fields[profile]": "subscriptions,predictive_analytics"} if rtype == "profile" else {}
            got = await client.get(path, headers=DEMO_KEY, params=extra)
            if got.status_code != 200:
                problems.append(f"GET {path}: {got.status_code} {got.text[:300]}")
                continue
            assert got.json()["data"]["id"] == record["id"]
            problems += [f"{rtype}: {e}" for e in response_errors(compiled, spec, op.path, "get", 200, got.json())]
        # The README's example key sees the demo profiles at once, and their events by metric.
        profiles = await client.get("/api/profiles", headers=DEMO_KEY)
        assert profiles.status_code == 200
        assert len(profiles.json()["data"]) == 20 and profiles.json()["links"]["next"]
        metric = next(r for r in firsts.values() if r["type"] == "metric")
        events = await client.get(
            "/api/events", headers=DEMO_KEY, params={"filter": f'equals(metric_id,"{metric["id"]}")'}
        )
        assert events.status_code == 200, events.text
        assert events.json()["data"]
        problems += response_errors(compiled, spec, "/api/events", "get", 200, events.json())
    assert problems == []


def test_seed_generate_writes_a_seed_file_that_loads_the_same_account(index: ResourceIndex, tmp_path: Path) -> None:
    cli._register()
    out = tmp_path / "demo.json"
    result = CliRunner().invoke(cli.app, ["seed", "generate", "small", "--out", str(out), "--account", "api_key:pk_x"])
    assert result.exit_code == 0, result.output
    from_file, direct = MemoryStore(), MemoryStore()
    apply_seed(index, from_file, load_seed_file(out))
    load_demo(index, direct, SMALL, account="api_key:pk_x")
    assert export_state(from_file) == export_state(direct)
    bad = CliRunner().invoke(cli.app, ["seed", "generate", "lots"])
    assert bad.exit_code == 2
    assert "demo size must be" in bad.output


def test_kdk_mock_demo_data_fills_the_demo_account(spec: dict[str, Any]) -> None:
    [behaviour] = behaviours_from_options({"demo_data": "small"}, spec=spec)
    assert behaviour.store.accounts() == [DEMO_ID]
    [other] = behaviours_from_options({"demo_data": "small", "demo_account": "oauth:tok"}, spec=spec)
    assert other.store.accounts() == [account_for_name("oauth:tok")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--demo-data", "huge"], "demo size must be"),
        (["--stateless", "--demo-data", "1k"], "--stateless stores nothing"),
        (["--demo-data", "1k", "--workers", "2"], "needs shared state"),
    ],
)
def test_kdk_mock_refuses_demo_data_it_cannot_serve(args: list[str], message: str) -> None:
    cli._register()
    result = CliRunner().invoke(cli.app, ["mock", *args])
    assert result.exit_code == 2
    assert message in result.output


async def test_members_joined_over_the_history_so_growth_reports_grow(
    compiled: CompiledSpec, spec: dict[str, Any], index: ResourceIndex
) -> None:
    """Each list and segment member joined when it qualified (its consent, its second order, ...), spread over
    the demo's history, and the seed loader keeps those times: a segment series report over the last year adds
    members month by month instead of answering a flat line (every member "joined" when its list was made)."""
    behaviour = StatefulBehaviour(spec, MemoryStore(), index=index)
    load_demo(index, behaviour.store, 200)
    with behaviour.store.transaction(write=False) as tx:
        newsletter = next(g for g in tx.scan(DEMO_ID, "list") if g["attributes"]["name"] == "Newsletter")
        joined = newsletter["relationships"]["profiles"]["joined"]
        segments = tx.scan(DEMO_ID, "segment")
    assert len(joined) == len(newsletter["relationships"]["profiles"]["data"]) > 10
    assert len(set(joined.values())) > len(joined) // 2  # spread out, not one stamp for all
    body = {
        "data": {
            "type": "segment-series-report",
            "attributes": {
                "statistics": ["total_members", "members_added"],
                "timeframe": {"key": "last_12_months"},
                "interval": "weekly",
                "filter": "any(segment_id,[" + ",".join(f'"{s["id"]}"' for s in segments) + "])",
            },
        }
    }
    async with core_client(compiled, behaviour) as client:
        answer = await client.post(
            "/api/segment-series-reports", json=body, headers={**DEMO_KEY, "content-type": "application/vnd.api+json"}
        )
    assert answer.status_code == 200, answer.text
    results = answer.json()["data"]["attributes"]["results"]
    assert len(results) == len(segments)
    assert sum(sum(r["statistics"]["members_added"]) for r in results) > 0
    assert any(len(set(r["statistics"]["total_members"])) > 1 for r in results)
