"""API-key scopes and account features: Klaviyo's 403s, configured by seed file or admin endpoint.

One rule for every operation: the credential must hold each scope of the operation's `x-klaviyo-scopes`
(`x:write` includes `x:read`); a credential with no settings keeps full access. The parametrised tests run over
every operation of the pinned spec, the rest over HTTP against the core.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kdk.spec import iter_operations
from mock_server import MockRequest
from mock_server._compile import CompiledSpec
from mock_server.state import (
    SeedError,
    SettingsError,
    StatefulBehaviour,
    apply_seed,
    behaviours_from_options,
    export_state,
    load_seed_file,
    settings_from_options,
)
from mock_server.state._account_settings import (
    AccountSettings,
    include_scopes,
    known_scopes,
    parse_settings,
    required_scopes,
)

from .conftest import (
    ACCOUNT_ONE,
    ADMIN,
    API_KEY,
    JSONAPI,
    OAUTH,
    OTHER_KEY,
    core_client,
    profile_body,
    response_errors,
)

KEY = "pk_test_one"
H = {**API_KEY, **JSONAPI}
TITLE = "You do not have permission to perform this action."


def _scoped_ops(spec: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted(required_scopes(spec).items())


def _request(op_id: str, auth_kind: str = "api_key", account: str = ACCOUNT_ONE) -> MockRequest:
    return MockRequest(op_id, "get", "/", {}, {}, {}, None, account, auth_kind, "2026-07-15", "http://mock.test")


def _configure(behaviour: StatefulBehaviour, account: str, scopes: Any, **features: bool) -> None:
    doc: dict[str, Any] = {"settings": {account: {"scopes": scopes, "features": features}}}
    apply_seed(behaviour.index, behaviour.store, doc)


def _forbidden(response: Any) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    (error,) = response.json()["errors"]
    assert error["status"] == 403 and error["code"] == "permission_denied" and error["title"] == TITLE
    return dict(error)


# -- one rule for every operation of the spec ------------------------------------------------------------


def test_every_operation_declares_scopes_that_the_rule_reads(spec: dict[str, Any]) -> None:
    declared = {op.operation_id for op in iter_operations(spec) if op.node.get("x-klaviyo-scopes")}
    assert declared and declared == set(required_scopes(spec))
    assert all(scope.rpartition(":")[2] in ("read", "write") for scope in known_scopes(spec))


def test_each_operation_is_refused_without_each_of_its_scopes_and_allowed_with_them(
    spec: dict[str, Any], make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour = make_behaviour()
    for op_id, needed in _scoped_ops(spec):
        for absent in needed:
            api = absent.rpartition(":")[0]
            # Without `absent`, and without `x:write` when `absent` is `x:read` (write includes read).
            granted = [s for s in needed if s != absent and not (absent.endswith(":read") and s == f"{api}:write")]
            _configure(behaviour, "api_key:pk_test_one", granted)
            refused = behaviour._refusal(_request(op_id))
            assert refused is not None, (op_id, granted)
            (error,) = refused.errors
            assert error["status"] == 403 and error["code"] == "permission_denied", op_id
            assert absent in error["detail"], (op_id, error["detail"])
        _configure(behaviour, "api_key:pk_test_one", list(needed))
        assert behaviour._refusal(_request(op_id)) is None, op_id
        assert behaviour._refusal(_request(op_id, account="acct_" + "0" * 20)) is None  # unconfigured: full


@pytest.mark.parametrize("preset", ["read-only", "full"])
def test_presets_follow_the_scope_levels_of_every_operation(
    spec: dict[str, Any], make_behaviour: Callable[..., StatefulBehaviour], preset: str
) -> None:
    behaviour = make_behaviour()
    _configure(behaviour, "api_key:pk_test_one", preset)
    for op_id, needed in _scoped_ops(spec):
        refused = behaviour._refusal(_request(op_id))
        writes = any(s.endswith(":write") for s in needed)
        assert (refused is not None) == (preset == "read-only" and writes), op_id


def test_write_includes_read_and_operations_without_scopes_are_open(spec: dict[str, Any]) -> None:
    settings = AccountSettings("custom", frozenset({"profiles:write"}))
    assert settings.grants("profiles:read") and settings.grants("profiles:write")
    assert not settings.grants("lists:read")
    reads = AccountSettings("custom", frozenset({"profiles:read"}))
    assert not reads.grants("profiles:write")
    assert AccountSettings("custom").missing([]) == []
    # A hand-written operation without the extension is not restricted.
    tiny = {"paths": {"/api/x": {"get": {"operationId": "get_x", "responses": {}}}}}
    assert required_scopes(tiny) == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"scopes": "admin"}, "not an access level"),
        ({"scopes": ["profiles"]}, "<api>:read"),
        ({"scopes": ["profile:read"]}, "no scope 'profile:read'"),
        ({"scopes": 3}, "expected `full`"),
        ({"features": {"fax": False}}, "unknown feature"),
        ({"features": {"sms": "no"}}, "true or false"),
        ({"scope": "full"}, "unknown setting"),
        ([], "must be a mapping"),
    ],
)
def test_bad_settings_are_clear_errors(spec: dict[str, Any], value: Any, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_settings(value, "settings.api_key:pk", known_scopes(spec))


def test_full_is_klaviyos_word_for_write(spec: dict[str, Any]) -> None:
    parsed = parse_settings({"scopes": ["lists:full"]}, "s", known_scopes(spec))
    assert parsed.scopes == {"lists:write"} and parsed.grants("lists:read")


# -- over HTTP -----------------------------------------------------------------------------------------------


async def test_a_profiles_read_key_reads_and_is_refused_writes(
    compiled: CompiledSpec, spec: dict[str, Any], make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour = make_behaviour()
    _configure(behaviour, f"api_key:{KEY}", ["profiles:read"])
    async with core_client(compiled, behaviour) as client:
        assert (await client.get("/api/profiles", headers=API_KEY)).status_code == 200
        refused = await client.post("/api/profiles", json=profile_body(email="a@example.com"), headers=H)
        error = _forbidden(refused)
        assert "profiles:write" in error["detail"] and error["source"] == {"pointer": "/data/"}
        assert refused.headers["content-type"].startswith("application/vnd.api+json")
        assert response_errors(compiled, spec, "/api/profiles", "post", 403, refused.json()) == []
        lists = await client.get("/api/lists", headers=API_KEY)
        assert "lists:read" in _forbidden(lists)["detail"]
        # Nothing was stored by the refused create; other keys are not affected.
        assert (await client.get("/api/profiles", headers=API_KEY)).json()["data"] == []
        assert (
            await client.post("/api/profiles", json=profile_body(email="a@x.com"), headers={**OTHER_KEY, **JSONAPI})
        ).status_code == 201
        # The journal records the 403 with its error.
        journal = (await client.get("/__mock__/journal", headers=API_KEY)).json()["requests"]
        refusals = [e for e in journal if e["status"] == 403]
        assert [e["operation_id"] for e in refusals] == ["create_profile", "get_lists"]
        assert refusals[0]["errors"][0]["code"] == "permission_denied"


async def test_oauth_tokens_carry_their_granted_scopes(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour = make_behaviour()
    _configure(behaviour, "oauth:oauth-token-one", ["accounts:read", "profiles:read", "conversations:read"])
    async with core_client(compiled, behaviour) as client:
        assert (await client.get("/api/profiles", headers=OAUTH)).status_code == 200
        body = {
            "data": {
                "type": "conversation-message",
                "attributes": {"body": "hi"},
                "relationships": {
                    "conversation": {"data": {"type": "conversation", "id": "01J0000000000000000000FAKE"}}
                },
            }
        }
        error = _forbidden(await client.post("/api/conversation-messages", json=body, headers={**OAUTH, **JSONAPI}))
        assert "access token was not granted" in error["detail"] and "conversations:write" in error["detail"]


async def test_public_client_operations_are_not_scoped(
    compiled: CompiledSpec, spec: dict[str, Any], make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour = make_behaviour()
    _configure(behaviour, "company:XyZ123", [])  # a public key has no scopes to check
    public = [op for op in iter_operations(spec) if op.node.get("security") == [] and op.node.get("x-klaviyo-scopes")]
    assert public  # e.g. create_client_back_in_stock_subscription names scopes but is called with a company id
    request = MockRequest(public[0].operation_id, "post", "/", {}, {}, {}, None, "acct_x", "none", "", "")
    assert behaviour._refusal(request) is None


async def test_admin_endpoint_configures_the_callers_own_key(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour = make_behaviour()
    async with core_client(compiled, behaviour) as client:
        shown = (await client.get("/__mock__/settings", headers=API_KEY)).json()
        assert shown == {
            "account": ACCOUNT_ONE,
            "scopes": "full",
            "features": {"conversations": True, "sms": True, "whatsapp": True},
        }
        set_ = await client.post(
            "/__mock__/settings", json={"scopes": ["profiles:read", "profiles:write"]}, headers=API_KEY
        )
        assert set_.status_code == 200 and set_.json()["scopes"] == ["profiles:read", "profiles:write"]
        assert KEY not in set_.text  # an account is named by its id, never its key
        assert (
            await client.post("/api/profiles", json=profile_body(email="b@example.com"), headers=H)
        ).status_code == 201
        _forbidden(await client.get("/api/lists", headers=API_KEY))
        # Features merge; scopes stay until replaced.
        both = (await client.post("/__mock__/settings", json={"features": {"sms": False}}, headers=API_KEY)).json()
        assert both["scopes"] == ["profiles:read", "profiles:write"] and both["features"]["sms"] is False
        read_only = (await client.post("/__mock__/settings", json={"scopes": "read-only"}, headers=API_KEY)).json()
        assert read_only["scopes"] == "read-only"
        assert (await client.get("/api/lists", headers=API_KEY)).status_code == 200
        _forbidden(await client.post("/api/profiles", json=profile_body(email="c@example.com"), headers=H))
        bad = await client.post("/__mock__/settings", json={"scopes": ["nope:read"]}, headers=API_KEY)
        assert bad.status_code == 400 and "nope:read" in bad.json()["errors"][0]["detail"]
        # Another account's settings need the admin token.
        other = await client.get("/__mock__/settings", params={"account": f"api_key:{KEY}"}, headers=OTHER_KEY)
        assert other.status_code == 403
        as_admin = await client.get("/__mock__/settings", params={"account": f"api_key:{KEY}"}, headers=ADMIN)
        assert as_admin.json()["scopes"] == "read-only"
        # DELETE: back to full access; reset takes the settings along with the account.
        assert (await client.delete("/__mock__/settings", headers=API_KEY)).json()["scopes"] == "full"
        assert (
            await client.post("/api/profiles", json=profile_body(email="d@example.com"), headers=H)
        ).status_code == 201
        await client.post("/__mock__/settings", json={"scopes": []}, headers=API_KEY)
        _forbidden(await client.get("/api/profiles", headers=API_KEY))
        await client.post("/__mock__/reset", headers=API_KEY)
        assert (await client.get("/api/profiles", headers=API_KEY)).status_code == 200


async def test_admin_state_loads_settings_with_resources(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour = make_behaviour()
    async with core_client(compiled, behaviour) as client:
        own = {
            "resources": [{"type": "profile", "attributes": {"email": "e@example.com"}}],
            "settings": {"scopes": "read-only"},
        }
        assert (await client.post("/__mock__/state", json=own, headers=API_KEY)).status_code == 200
        assert len((await client.get("/api/profiles", headers=API_KEY)).json()["data"]) == 1
        _forbidden(await client.post("/api/profiles", json=profile_body(email="f@example.com"), headers=H))
        named = {"settings": {"api_key:pk_test_two": {"scopes": ["lists:read"]}}}
        assert (await client.post("/__mock__/state", json=named, headers=API_KEY)).status_code == 403  # not admin
        assert (await client.post("/__mock__/state", json=named, headers=ADMIN)).status_code == 200
        _forbidden(await client.get("/api/profiles", headers=OTHER_KEY))


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_seed_file_settings_load_and_export_round_trips(
    tmp_path: Path, suffix: str, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    import yaml

    doc = {
        "accounts": {f"api_key:{KEY}": [{"type": "list", "id": "Y6nRLr", "attributes": {"name": "Opt-ins"}}]},
        "settings": {
            f"api_key:{KEY}": {"scopes": ["profiles:read", "lists:read"], "features": {"sms": False}},
            "oauth:oauth-token-one": {"scopes": "read-only"},
        },
    }
    path = tmp_path / f"seed{suffix}"
    path.write_text(json.dumps(doc) if suffix == ".json" else yaml.safe_dump(doc))
    behaviour = make_behaviour()
    assert apply_seed(behaviour.index, behaviour.store, load_seed_file(path)) == 1
    exported = export_state(behaviour.store)
    assert exported["settings"][ACCOUNT_ONE] == {
        "scopes": ["lists:read", "profiles:read"],
        "features": {"conversations": True, "sms": False, "whatsapp": True},
    }
    assert [r["type"] for r in exported["accounts"][ACCOUNT_ONE]] == ["list"]  # settings are not a resource
    again = make_behaviour()
    apply_seed(again.index, again.store, exported)  # an export is a seed
    assert export_state(again.store) == exported
    assert again._refusal(_request("create_list")) is not None


def test_seed_settings_errors_name_the_place(tmp_path: Path, make_behaviour: Callable[..., StatefulBehaviour]) -> None:
    behaviour = make_behaviour()
    with pytest.raises(SeedError, match=r"settings\.api_key:pk_x\.scopes\[0\]"):
        apply_seed(behaviour.index, behaviour.store, {"settings": {"api_key:pk_x": {"scopes": ["bogus"]}}})
    with pytest.raises(SeedError, match="name an account"):
        apply_seed(behaviour.index, behaviour.store, {"settings": {"pk_x": {"scopes": "full"}}})
    bad_settings = {
        "accounts": {f"api_key:{KEY}": [{"type": "list", "attributes": {"name": "Not loaded"}}]},
        "settings": {f"api_key:{KEY}": {"scopes": "admin"}},
    }
    with pytest.raises(SeedError, match="not an access level"):
        apply_seed(behaviour.index, behaviour.store, bad_settings)
    only_settings = tmp_path / "s.yaml"
    only_settings.write_text("settings:\n  api_key:pk_x: {scopes: read-only}\n")
    assert load_seed_file(only_settings)["settings"]
    assert behaviour.store.accounts() == []  # nothing was half-loaded


def test_seed_settings_load_once_like_resources(make_behaviour: Callable[..., StatefulBehaviour]) -> None:
    """`only_empty` (a restart, a second worker): an account already holding anything keeps its settings."""
    behaviour = make_behaviour()
    apply_seed(behaviour.index, behaviour.store, {"settings": {f"api_key:{KEY}": {"scopes": "read-only"}}})
    changed = {"settings": {f"api_key:{KEY}": {"scopes": []}}}
    apply_seed(behaviour.index, behaviour.store, changed, only_empty=True)
    assert export_state(behaviour.store)["settings"][ACCOUNT_ONE]["scopes"] == "read-only"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_settings_persist_on_shared_stores(
    kind: str,
    open_any_store: Callable[[str], Any],
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
) -> None:
    first = make_behaviour(open_any_store(kind))
    async with core_client(compiled, first) as client:
        await client.post(
            "/__mock__/settings", json={"scopes": ["profiles:read"], "features": {"sms": False}}, headers=API_KEY
        )
    second = make_behaviour(open_any_store(kind))  # a restart (or another worker) on the same state
    async with core_client(compiled, second) as client:
        assert (await client.get("/api/profiles", headers=API_KEY)).status_code == 200
        _forbidden(await client.post("/api/profiles", json=profile_body(email="g@example.com"), headers=H))
        shown = (await client.get("/__mock__/settings", headers=API_KEY)).json()
        assert shown["scopes"] == ["profiles:read"] and shown["features"]["sms"] is False
        assert (await client.get("/api/profiles", headers=OTHER_KEY)).status_code == 200  # per account


# -- kdk mock --key-scopes / --disable-feature -----------------------------------------------------------------


def test_command_line_settings_parse_into_seed_settings() -> None:
    settings = settings_from_options(
        ["pk_ro=read-only", "oauth:tok=profiles:read, lists:write", "pk_all=full"], ["pk_ro=sms,whatsapp"]
    )
    assert settings == {
        "api_key:pk_ro": {"scopes": "read-only", "features": {"sms": False, "whatsapp": False}},
        "oauth:tok": {"scopes": ["profiles:read", "lists:write"]},
        "api_key:pk_all": {"scopes": "full"},
    }
    for bad in (["pk_ro"], ["=read-only"], ["pk_ro="]):
        with pytest.raises(SettingsError, match="KEY=VALUE"):
            settings_from_options(bad)
    with pytest.raises(SettingsError, match="unknown feature 'fax'"):
        settings_from_options((), ["pk=fax"])


def test_factory_applies_command_line_settings_at_every_start(tmp_path: Path, compiled: CompiledSpec) -> None:
    options = {
        "state": f"sqlite:{tmp_path}/s.db",
        "account_settings": settings_from_options([f"{KEY}=profiles:read"], [f"{KEY}=sms"]),
    }
    [behaviour] = behaviours_from_options(options, compiled=compiled)
    assert behaviour._refusal(_request("create_profile")) is not None
    assert behaviour._refusal(_request("get_profiles")) is None
    assert export_state(behaviour.store)["settings"][ACCOUNT_ONE]["features"]["sms"] is False
    behaviour.store.close()
    with pytest.raises(SeedError, match="no scope 'profile:read'"):  # names are checked against the spec
        behaviours_from_options(
            {"state": "memory", "account_settings": {"api_key:x": {"scopes": ["profile:read"]}}}, compiled=compiled
        )


def test_kdk_mock_refuses_bad_settings_options() -> None:
    from typer.testing import CliRunner

    from kdk.cli import _register, app

    _register()
    runner = CliRunner()
    stateless = runner.invoke(app, ["mock", "--stateless", "--key-scopes", "pk=read-only"])
    assert stateless.exit_code == 2 and "--key-scopes" in stateless.output, stateless.output
    malformed = runner.invoke(app, ["mock", "--key-scopes", "read-only"])
    assert malformed.exit_code == 2 and "KEY=VALUE" in malformed.output, malformed.output
    feature = runner.invoke(app, ["mock", "--disable-feature", "pk=fax"])
    assert feature.exit_code == 2 and "unknown feature" in feature.output, feature.output


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_kdk_mock_serves_key_scopes_over_http() -> None:
    from .test_options import _start, _stop

    process, base = _start(["--key-scopes", f"{KEY}=profiles:read", "--disable-feature", f"{KEY}=sms"])
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/api/profiles", headers=API_KEY).status_code == 200
            _forbidden(client.post("/api/profiles", json=profile_body(email="h@example.com"), headers=H))
            assert (
                client.post(
                    "/api/profiles", json=profile_body(email="h@example.com"), headers={**OTHER_KEY, **JSONAPI}
                ).status_code
                == 201
            )
            assert client.get("/__mock__/settings", headers=API_KEY).json()["features"]["sms"] is False
    finally:
        _stop(process)


async def test_include_needs_the_included_types_read_scope(
    compiled: CompiledSpec, index: Any, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    """Klaviyo's help centre: `?include=list` on profiles also needs `lists:read`. By shape: every `include` an
    operation allows maps to the read scopes of the included type's get operation (`include=tags` on lists:
    `tags:read`)."""
    mapping = include_scopes(index)
    assert mapping["get_lists"]["tags"] == ("tags:read",)
    assert mapping["get_events"]["metric"] == ("metrics:read",)
    behaviour = make_behaviour()
    _configure(behaviour, f"api_key:{KEY}", ["lists:read"])
    async with core_client(compiled, behaviour) as client:
        assert (await client.get("/api/lists", headers=API_KEY)).status_code == 200
        error = _forbidden(await client.get("/api/lists", params={"include": "tags"}, headers=API_KEY))
        assert "tags:read" in error["detail"] and "lists:read" not in error["detail"]
        await client.post("/__mock__/settings", json={"scopes": ["lists:read", "tags:write"]}, headers=API_KEY)
        assert (await client.get("/api/lists", params={"include": "tags"}, headers=API_KEY)).status_code == 200


@pytest.mark.mirror
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_rule_holds_on_every_revision_of_the_mirror(mirror: Path) -> None:
    """No revision's numbers: every revision (stable and beta) is read the same way; each operation that names
    scopes is refused to a key with none of them and answered for a key with exactly them."""
    from kdk import mirror_revisions
    from kdk.spec import load_spec

    seen = 0
    for ref, channel in mirror_revisions(mirror):
        spec = load_spec(mirror / ref / "openapi" / f"{channel}.json")
        behaviour = StatefulBehaviour(spec)
        include_scopes(behaviour.index)  # builds on every revision
        for op_id, needed in required_scopes(spec).items():
            _configure(behaviour, f"api_key:{KEY}", [])
            assert behaviour._refusal(_request(op_id)) is not None, (ref, op_id)
            _configure(behaviour, f"api_key:{KEY}", list(needed))
            assert behaviour._refusal(_request(op_id)) is None, (ref, op_id)
            seen += 1
    assert seen


def test_settings_alone_do_not_count_as_a_loaded_account(make_behaviour: Callable[..., StatefulBehaviour]) -> None:
    """`--key-scopes pk_test=read-only --demo-data 1k`: the key's settings do not stop the demo (or a seed)
    from loading into its still-empty account."""
    behaviour = make_behaviour()
    apply_seed(behaviour.index, behaviour.store, {"settings": {f"api_key:{KEY}": {"scopes": "read-only"}}})
    seed = {"accounts": {f"api_key:{KEY}": [{"type": "list", "attributes": {"name": "Later"}}]}}
    assert apply_seed(behaviour.index, behaviour.store, seed, only_empty=True) == 1
    assert apply_seed(behaviour.index, behaviour.store, seed, only_empty=True) == 0  # now it holds resources
