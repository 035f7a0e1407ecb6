"""Each API key and each OAuth token is its own account, named by an opaque id; admin endpoints act on the
caller's account, and every account (or another one) needs the admin token."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mock_server import AdminAccess, account_for_name
from mock_server._compile import CompiledSpec
from mock_server._core import MockCore
from mock_server.state import MemoryStore, SqliteStore, StatefulBehaviour, Store, WebhookSender
from mock_server.state._limits import ResourceLimits
from mock_server.state._store import journal_size

from .conftest import (
    ACCOUNT_ONE,
    ACCOUNT_TWO,
    ADMIN,
    API_KEY,
    JSONAPI,
    OAUTH,
    OTHER_KEY,
    core_client,
    list_body,
    profile_body,
)


async def test_accounts_are_isolated(client: httpx.AsyncClient) -> None:
    one = await client.post(
        "/api/profiles", json=profile_body(email="same@example.com"), headers={**API_KEY, **JSONAPI}
    )
    # The same email in another account is not a duplicate, and neither sees the other's profile.
    two = await client.post(
        "/api/profiles", json=profile_body(email="same@example.com"), headers={**OTHER_KEY, **JSONAPI}
    )
    assert one.status_code == two.status_code == 201
    pid = one.json()["data"]["id"]
    assert (await client.get(f"/api/profiles/{pid}", headers=OTHER_KEY)).status_code == 404
    assert (await client.get(f"/api/profiles/{pid}", headers=OAUTH)).status_code == 404
    listed = await client.get("/api/profiles", headers=OTHER_KEY)
    assert [p["id"] for p in listed.json()["data"]] == [two.json()["data"]["id"]]


async def test_reset_one_account_or_all(client: httpx.AsyncClient) -> None:
    await client.post("/api/profiles", json=profile_body(email="a@example.com"), headers={**API_KEY, **JSONAPI})
    await client.post("/api/profiles", json=profile_body(email="b@example.com"), headers={**OTHER_KEY, **JSONAPI})
    accounts = (await client.get("/__mock__/accounts", headers=ADMIN)).json()["accounts"]
    assert accounts == sorted([ACCOUNT_ONE, ACCOUNT_TWO])
    assert (await client.get("/__mock__/accounts", headers=API_KEY)).json() == {"accounts": [ACCOUNT_ONE]}

    assert (await client.post("/__mock__/reset", headers=API_KEY)).json() == {"reset": ACCOUNT_ONE}
    assert (await client.get("/api/profiles", headers=API_KEY)).json()["data"] == []
    assert len((await client.get("/api/profiles", headers=OTHER_KEY)).json()["data"]) == 1

    refused = await client.post("/__mock__/reset")  # every account: only with the admin token
    assert refused.status_code == 403 and "KDK-Admin-Token" in refused.json()["errors"][0]["detail"]
    assert (await client.post("/__mock__/reset", headers=ADMIN)).json() == {"reset": "all"}
    assert (await client.get("/api/profiles", headers=OTHER_KEY)).json()["data"] == []


async def test_export_and_journal(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/profiles", json=profile_body(email="j@example.com"), headers={**API_KEY, **JSONAPI}
    )
    await client.get("/api/profiles", params={"filter": "equals(email,'j@example.com')"}, headers=API_KEY)
    await client.get("/api/lists", headers=OTHER_KEY)

    state = (await client.get("/__mock__/state", headers=API_KEY)).json()
    resources = state["accounts"][ACCOUNT_ONE]
    assert [(r["type"], r["id"]) for r in resources] == [("profile", created.json()["data"]["id"])]

    journal = (await client.get("/__mock__/journal", params={"account": ACCOUNT_ONE}, headers=ADMIN)).json()
    journal = journal["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in journal] == [
        ("POST", "/api/profiles", 201),
        ("GET", "/api/profiles", 200),
    ]
    assert journal[1]["query"] == {"filter": "equals(email,'j@example.com')"}
    everything = (await client.get("/__mock__/journal", headers=ADMIN)).json()["requests"]
    assert len(everything) == 3
    assert (await client.delete("/__mock__/journal", headers=API_KEY)).status_code == 204
    assert (await client.get("/__mock__/journal", headers=API_KEY)).json()["requests"] == []


async def test_state_import_through_admin(client: httpx.AsyncClient) -> None:
    seed = {"accounts": {"api_key:pk_test_one": [{"type": "list", "id": "AbCdEf", "attributes": {"name": "Seeded"}}]}}
    assert (await client.post("/__mock__/state", json=seed)).status_code == 403  # no credentials, no token
    assert (await client.post("/__mock__/state", json=seed, headers=OTHER_KEY)).status_code == 403  # not theirs
    assert (await client.post("/__mock__/state", json=seed, headers=API_KEY)).json() == {"loaded": 1}
    got = await client.get("/api/lists/AbCdEf", headers=API_KEY)
    assert got.status_code == 200 and got.json()["data"]["attributes"]["name"] == "Seeded"
    own = {"resources": [{"type": "list", "attributes": {"name": "Mine"}}]}
    assert (await client.post("/__mock__/state", json=own, headers=OTHER_KEY)).json() == {"loaded": 1}
    by_id = {"accounts": {ACCOUNT_TWO: [{"type": "list", "attributes": {"name": "By id"}}]}}
    assert (await client.post("/__mock__/state", json=by_id, headers=ADMIN)).json() == {"loaded": 1}
    names = sorted(x["attributes"]["name"] for x in (await client.get("/api/lists", headers=OTHER_KEY)).json()["data"])
    assert names == ["By id", "Mine"]
    bad_name = await client.post("/__mock__/state", json={"accounts": {"ci-7": []}}, headers=ADMIN)
    assert bad_name.status_code == 400 and "acct_" in bad_name.json()["errors"][0]["detail"]
    assert (await client.get("/__mock__/nope")).status_code == 404


async def test_multipart_uploads_are_journaled_without_bytes(client: httpx.AsyncClient) -> None:
    files = {"file": ("pixel.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20, "image/png")}
    response = await client.post("/api/image-upload", files=files, data={"name": "Pixel"}, headers=API_KEY)
    assert response.status_code == 201, response.text
    journal = (await client.get("/__mock__/journal", headers=API_KEY)).json()["requests"]
    assert journal[-1]["operation_id"] == "upload_image_from_file"


async def test_the_journal_holds_every_request_with_its_final_answer(client: httpx.AsyncClient) -> None:
    """Refused, fault-injected and answered requests alike, each with the status the client saw and, for an
    error, the errors it was answered with (what the inspector shows)."""
    bad_filter = await client.get("/api/profiles", params={"filter": "equals(nope,'x')"}, headers=API_KEY)
    injected = await client.get("/api/lists", headers={**API_KEY, "Prefer": "code=429"})
    bad_body = await client.post("/api/profiles", content=b"{", headers={**API_KEY, **JSONAPI})
    listed = await client.get("/api/lists", headers=API_KEY)
    seen = [bad_filter.status_code, injected.status_code, bad_body.status_code, listed.status_code]
    assert seen == [400, 429, 400, 200]

    journal = (await client.get("/__mock__/journal", headers=API_KEY)).json()["requests"]
    assert [(e["operation_id"], e["status"]) for e in journal] == [
        ("get_profiles", 400),
        ("get_lists", 429),
        ("create_profile", 400),
        ("get_lists", 200),
    ]
    assert journal[0]["errors"] == bad_filter.json()["errors"]
    assert journal[1]["errors"] == injected.json()["errors"]
    assert journal[3]["errors"] is None


async def test_requests_without_an_account_are_not_journaled(client: httpx.AsyncClient) -> None:
    # No credentials: a 401 that belongs to no account, so no account's journal shows it.
    assert (await client.get("/api/lists", headers={"revision": "2026-07-15"})).status_code == 401
    assert (await client.get("/__mock__/journal", headers=ADMIN)).json()["requests"] == []


async def test_hostile_input_is_a_400_not_a_500(client: httpx.AsyncClient) -> None:
    """Deep JSON, deep filters, a cursor that decodes to deep JSON, NaN, a bad admin limit and a lone surrogate:
    each a clear 400."""
    import base64

    deep_json = b"[" * 100_000 + b"]" * 100_000
    deep_filter = "not(" * 1_000 + "equals(email,'a@b.co')" + ")" * 1_000
    deep_cursor = base64.urlsafe_b64encode(b"[" * 5_000 + b"]" * 5_000).decode()
    answers = [
        await client.post("/api/profiles", content=deep_json, headers={**API_KEY, **JSONAPI}),
        await client.post("/__mock__/state", content=deep_json, headers=API_KEY),
        await client.get("/api/profiles", params={"filter": deep_filter}, headers=API_KEY),
        await client.get("/api/profiles", params={"page[cursor]": deep_cursor}, headers=API_KEY),
        await client.post(
            "/api/profiles",
            content=b'{"data":{"type":"profile","attributes":{"email":"n@b.co","properties":{"x":NaN}}}}',
            headers={**API_KEY, **JSONAPI},
        ),
        await client.get("/__mock__/journal", params={"limit": "abc"}, headers=API_KEY),
        await client.post(  # a lone surrogate: no UTF-8 store (SQLite) or response can hold it
            "/api/profiles",
            content=b'{"data":{"type":"profile","attributes":{"email":"\\ud800@b.co"}}}',
            headers={**API_KEY, **JSONAPI},
        ),
    ]
    assert [a.status_code for a in answers] == [400] * len(answers), [a.text[:200] for a in answers]
    assert all(a.json()["errors"] for a in answers)
    assert len(answers[2].text) < 2_000  # the refusal does not echo the whole filter back


async def test_escaped_text_that_only_looks_like_a_surrogate_is_fine(client: httpx.AsyncClient) -> None:
    pair = b'{"data":{"type":"profile","attributes":{"email":"pair@b.co","first_name":"\\ud83d\\ude00 \\\\ud800"}}}'
    created = await client.post("/api/profiles", content=pair, headers={**API_KEY, **JSONAPI})
    assert created.status_code == 201, created.text
    assert created.json()["data"]["attributes"]["first_name"] == "\U0001f600 \\ud800"


# -- sealed tenants ----------------------------------------------------------------------------------------

A_KEY = "pk_alice_5e1f0c2b9d8a7e6f5a4b3c2d1e0f9a8b"
A = {"Authorization": f"Klaviyo-API-Key {A_KEY}", "revision": "2026-07-15"}
B = {"Authorization": "Klaviyo-API-Key pk_bob_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d", "revision": "2026-07-15"}
A_OAUTH_TOKEN = "alice-oauth-7c6b5a4f3e2d1c0b"
# Strings only account A's data holds: none of B's answers may contain one.
A_MARKERS = ("alice-secret@a.example", "A secret list", "A secret metric", "https://a.example/hook", "+15005550006")


def _event(metric: str, email: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {"source": "test"},
                "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
                "profile": {"data": {"type": "profile", "attributes": {"email": email}}},
            },
        }
    }


def _webhook(url: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "webhook",
            "attributes": {"name": "hook", "endpoint_url": url, "secret_key": "whsec-alice-0123456789"},
            "relationships": {"webhook-topics": {"data": [{"type": "webhook-topic", "id": "event:klaviyo.sent_sms"}]}},
        }
    }


async def _fill_account_a(client: httpx.AsyncClient) -> dict[str, str]:
    """A profile in a list, an event and its metric, a webhook, a bulk import job, a conversation, and data in a
    `/client` (company) account; returns their ids."""
    h = {**A, **JSONAPI}
    pid = (await client.post("/api/profiles", json=profile_body(email=A_MARKERS[0]), headers=h)).json()["data"]["id"]
    lid = (await client.post("/api/lists", json=list_body(A_MARKERS[1]), headers=h)).json()["data"]["id"]
    related = {"data": [{"type": "profile", "id": pid}]}
    assert (await client.post(f"/api/lists/{lid}/relationships/profiles", json=related, headers=h)).status_code == 204
    assert (await client.post("/api/events", json=_event(A_MARKERS[2], A_MARKERS[0]), headers=h)).status_code == 202
    metric = (await client.get("/api/metrics", headers=A)).json()["data"][0]["id"]
    hook = await client.post("/api/webhooks", json=_webhook(A_MARKERS[3]), headers={**A, **JSONAPI})
    assert hook.status_code == 201, hook.text
    job = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {"profiles": {"data": [{"type": "profile", "attributes": {"email": "bulk@a.example"}}]}},
            "relationships": {"lists": {"data": [{"type": "list", "id": lid}]}},
        }
    }
    assert (await client.post("/api/profile-bulk-import-jobs", json=job, headers=h)).status_code == 202
    job_id = (await client.get("/api/profile-bulk-import-jobs", headers=A)).json()["data"][0]["id"]
    inbound = {"phone_number": A_MARKERS[4], "body": "A secret message"}
    assert (await client.post("/__mock__/inbound", json=inbound, headers=A)).status_code == 201
    company = {"revision": "2026-07-15", **JSONAPI}
    sent = await client.post(
        "/client/events?company_id=APUB01", json=_event(A_MARKERS[2], A_MARKERS[0]), headers=company
    )
    assert sent.status_code == 202, sent.text
    return {"profile": pid, "list": lid, "metric": metric, "webhook": hook.json()["data"]["id"], "job": job_id}


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
async def test_account_b_can_neither_see_nor_change_account_a(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour], store_kind: str, tmp_path: Any
) -> None:
    store: Store = MemoryStore() if store_kind == "memory" else SqliteStore(tmp_path / "state.db")
    behaviour = make_behaviour(store, webhooks=WebhookSender(backoff=0.0, client_factory=_refusing_client))
    a_id, b_id = (
        account_for_name(f"api_key:{A_KEY}"),
        account_for_name("api_key:pk_bob_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"),
    )
    async with core_client(compiled, behaviour) as client:
        ids = await _fill_account_a(client)
        await behaviour.webhooks.drain()
        before = (await client.get("/__mock__/state", headers=A)).json()
        journal_before = (await client.get("/__mock__/journal", headers=A)).json()["requests"]
        h = {**B, **JSONAPI}
        pid, lid, job = ids["profile"], ids["list"], ids["job"]
        related = {"data": [{"type": "profile", "id": pid}]}
        # By id, through lists, filters, include, relationships and bulk jobs: A's resources do not exist for B.
        reads = [
            ("GET", f"/api/profiles/{pid}", None, 404),
            ("GET", f"/api/lists/{lid}", None, 404),
            ("GET", f"/api/lists/{lid}/profiles", None, 404),
            ("GET", f"/api/lists/{lid}/relationships/profiles", None, 404),
            ("GET", f"/api/profiles/{pid}/lists", None, 404),
            ("GET", f"/api/profile-bulk-import-jobs/{job}", None, 404),
            ("GET", f"/api/webhooks/{ids['webhook']}", None, 404),
            (
                "PATCH",
                f"/api/profiles/{pid}",
                {"data": {"type": "profile", "id": pid, "attributes": {"first_name": "B"}}},
                404,
            ),
            ("DELETE", f"/api/lists/{lid}", None, 404),
            ("POST", f"/api/lists/{lid}/relationships/profiles", related, 404),
            ("DELETE", f"/api/lists/{lid}/relationships/profiles", related, 404),
        ]
        for method, path, body, status in reads:
            answer = await client.request(method, path, json=body, headers=h if body else B)
            assert answer.status_code == status, (method, path, answer.text)
        collections = [
            "/api/profiles",
            f"/api/profiles?filter=equals(email,'{A_MARKERS[0]}')",
            "/api/lists?include=tags",
            "/api/events?include=metric,profile",
            "/api/webhooks",
            "/api/profile-bulk-import-jobs",
        ]
        for path in collections:
            answer = await client.get(path, headers=B)
            assert answer.status_code == 200 and answer.json()["data"] == [], (path, answer.text)
        # A metric B does not hold is a generated example, never A's metric.
        answers = [await client.get(f"/api/metrics/{ids['metric']}", headers=B)]
        # B's own writes naming A's resources touch nothing of A's.
        b_pid = (await client.post("/api/profiles", json=profile_body(email="bob@b.example"), headers=h)).json()
        b_pid = b_pid["data"]["id"]
        answers.append(await client.get(f"/api/profiles/{b_pid}?include=lists", headers=B))
        b_job = {
            "data": {
                "type": "profile-bulk-import-job",
                "attributes": {"profiles": {"data": [{"type": "profile", "attributes": {"email": "in@b.example"}}]}},
                "relationships": {"lists": {"data": [{"type": "list", "id": lid}]}},
            }
        }
        answers.append(await client.post("/api/profile-bulk-import-jobs", json=b_job, headers=h))
        # `/client/*` naming A's id (or A's company) as company_id, A's id used as a credential, an OAuth token.
        company = {"revision": "2026-07-15", **JSONAPI}
        for company_id in (a_id, "APUB01"):
            answers.append(
                await client.post(
                    f"/client/profiles?company_id={company_id}", json=profile_body(email="x@b.example"), headers=company
                )
            )
        for header in (f"Klaviyo-API-Key {a_id}", f"Bearer {a_id}", f"Bearer {A_OAUTH_TOKEN}"):
            seen = await client.get("/api/profiles", headers={**B, "Authorization": header})
            assert seen.status_code == 200 and seen.json()["data"] == [], header
        # The admin endpoints: another account's data needs the admin token; B's own view holds nothing of A.
        denied = [
            ("GET", "/__mock__/state", {"account": a_id}, None),
            ("GET", "/__mock__/state", {"account": f"api_key:{A_KEY}"}, None),
            ("GET", "/__mock__/journal", {"account": a_id}, None),
            ("DELETE", "/__mock__/journal", {"account": a_id}, None),
            ("GET", "/__mock__/webhook-deliveries", {"account": a_id}, None),
            ("POST", "/__mock__/reset", {"account": a_id}, None),
            ("POST", "/__mock__/state", None, {"accounts": {a_id: [{"type": "list", "attributes": {"name": "x"}}]}}),
            ("POST", "/__mock__/inbound", None, {"account": a_id, "phone_number": A_MARKERS[4], "body": "STOP"}),
        ]
        for method, path, params, body in denied:
            answer = await client.request(method, path, params=params, json=body, headers=B)
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["errors"][0]["code"] == "permission_denied"
        for path in ("/__mock__/state", "/__mock__/webhook-deliveries", "/__mock__/accounts"):
            answers.append(await client.get(path, headers=B))
        b_journal = (await client.get("/__mock__/journal", headers=B)).json()["requests"]  # B's own queries
        assert b_journal and {e["account"] for e in b_journal} == {b_id}
        assert (await client.get("/__mock__/accounts", headers=B)).json() == {"accounts": [b_id]}
        for answer in answers:
            assert answer.status_code < 500, answer.text
            assert not [m for m in A_MARKERS if m in answer.text], answer.text
        # A's account is exactly as it was, and its journal holds none of B's requests.
        assert (await client.get("/__mock__/state", headers=A)).json() == before
        assert (await client.get("/__mock__/journal", headers=A)).json()["requests"] == journal_before
        members = (await client.get(f"/api/lists/{lid}/profiles", headers=A)).json()["data"]
        assert sorted(p["attributes"]["email"] for p in members) == sorted([A_MARKERS[0], "bulk@a.example"])
    store.close()


def _refusing_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(500)))


async def test_no_key_in_admin_answers_the_journal_or_webhooks(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour], caplog: pytest.LogCaptureFixture
) -> None:
    """Account ids are opaque: no admin answer, journal entry, webhook delivery or log line carries a key."""
    caplog.set_level("DEBUG")
    delivered: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        delivered.append(request)
        return httpx.Response(200)

    factory = lambda: httpx.AsyncClient(transport=httpx.MockTransport(receive))  # noqa: E731
    behaviour = make_behaviour(webhooks=WebhookSender(backoff=0.0, client_factory=factory))
    oauth = {"Authorization": f"Bearer {A_OAUTH_TOKEN}", "revision": "2026-07-15"}
    secrets = (A_KEY, A_OAUTH_TOKEN)
    async with core_client(compiled, behaviour) as client:
        await _fill_account_a(client)
        hook = await client.post(
            "/api/webhooks", json=_webhook("https://a.example/oauth"), headers={**oauth, **JSONAPI}
        )
        assert hook.status_code == 201
        assert (
            await client.post("/__mock__/inbound", json={"phone_number": "+15005550007", "body": "hi"}, headers=oauth)
        ).status_code == 201
        await client.get("/api/profiles", params={"filter": "equals(nope,'x')"}, headers=A)  # an error answer
        await client.post("/api/profiles", content=b"{", headers={**A, **JSONAPI})
        await behaviour.webhooks.drain()
        texts: list[str] = []
        for headers in (A, oauth, ADMIN, {**A, **ADMIN}):
            for path in ("whoami", "accounts", "state", "journal", "webhook-deliveries"):
                answer = await client.get(f"/__mock__/{path}", headers=headers)
                assert answer.status_code == 200, (path, answer.text)
                texts.append(answer.text)
        whoami = (await client.get("/__mock__/whoami", headers=A)).json()
        assert whoami == {"account": account_for_name(f"api_key:{A_KEY}"), "auth_kind": "api_key", "admin": False}
        texts.append((await client.post("/__mock__/reset", headers=oauth)).text)
    assert delivered, "no webhook was delivered"
    for request in delivered:
        document = json.loads(request.content)
        assert document["meta"]["klaviyo_account_id"].startswith("acct_")
        texts.append(request.content.decode())
        texts.append(json.dumps(dict(request.headers)))
    texts.append(json.dumps(behaviour.store.journal(None)))
    texts.append(caplog.text)
    leaked = [(secret, text[:300]) for text in texts for secret in secrets if secret in text]
    assert leaked == []


async def test_cross_site_admin_writes_are_refused(client: httpx.AsyncClient) -> None:
    await client.post("/api/profiles", json=profile_body(email="keep@example.com"), headers={**API_KEY, **JSONAPI})
    form_post = {"content-type": "text/plain", "origin": "https://evil.example", "sec-fetch-site": "cross-site"}
    attempts = [
        {**form_post},
        {**form_post, **API_KEY, **ADMIN},  # even with credentials (a browser would not add them unasked)
        {"content-type": "text/plain", **API_KEY},
        {"content-type": "application/x-www-form-urlencoded", **API_KEY},
        {"origin": "https://evil.example", "content-type": "application/json", **API_KEY},
        {"sec-fetch-site": "same-site", **API_KEY},
    ]
    for headers in attempts:
        for path in ("/__mock__/reset", "/__mock__/state", "/__mock__/inbound"):
            refused = await client.post(path, content=b"{}", headers=headers)
            assert refused.status_code == 403, (path, headers, refused.text)
            assert refused.json()["errors"][0]["code"] == "permission_denied"
    assert len((await client.get("/api/profiles", headers=API_KEY)).json()["data"]) == 1
    # Reading is not state-changing; the mock's own page (same origin) may write.
    same_origin = {"origin": "http://mock.test", "sec-fetch-site": "same-origin", "content-type": "application/json"}
    assert (await client.get("/__mock__/journal", headers={**form_post, **API_KEY})).status_code == 200
    assert (await client.post("/__mock__/reset", headers={**same_origin, **API_KEY})).status_code == 200
    assert (await client.get("/api/profiles", headers=API_KEY)).json()["data"] == []


async def test_global_operations_without_a_configured_token(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    def client_for(access: AdminAccess) -> httpx.AsyncClient:
        core = MockCore(None, compiled=compiled, behaviours=[make_behaviour()], admin_access=access)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=core), base_url="http://mock.test")

    async with client_for(AdminAccess()) as client:
        refused = await client.get("/__mock__/accounts")
        assert refused.status_code == 403
        assert "--admin-token" in refused.json()["errors"][0]["detail"]
        sent = await client.get("/__mock__/accounts", headers=ADMIN)
        assert sent.status_code == 403 and "no admin token" in sent.json()["errors"][0]["detail"]
        assert (await client.get("/__mock__/journal", headers=API_KEY)).status_code == 200  # own account: fine
        bad = await client.get("/__mock__/journal", headers={"Authorization": "Basic abc"})
        assert bad.status_code == 401
    async with client_for(AdminAccess("right")) as client:
        wrong = await client.get("/__mock__/accounts", headers={"KDK-Admin-Token": "wrong"})
        assert wrong.status_code == 403 and "not this mock's admin token" in wrong.json()["errors"][0]["detail"]
        assert (await client.get("/__mock__/accounts", headers={"KDK-Admin-Token": "right"})).status_code == 200
    async with client_for(AdminAccess(open=True)) as client:  # --insecure-open-admin
        assert (await client.post("/__mock__/reset")).json() == {"reset": "all"}
    async with client_for(AdminAccess()) as client:  # the inspector's files need no credentials
        assert (await client.get("/__mock__/ui")).status_code == 200


# -- bounded journal and webhook log -------------------------------------------------------------------------


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
async def test_big_patches_do_not_grow_the_journal_beyond_its_byte_bound(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour], store_kind: str, tmp_path: Any
) -> None:
    """Ten 4.8 MB PATCHes (answered or refused): the journal keeps each as its size, within its byte bound."""
    limits = ResourceLimits(journal_bytes=256 * 1024, journal_body_bytes=16 * 1024)
    store: Store = MemoryStore() if store_kind == "memory" else SqliteStore(tmp_path / "state.db")
    behaviour = make_behaviour(store, limits=limits)
    async with core_client(compiled, behaviour) as client:
        pid = (
            await client.post(
                "/api/profiles", json=profile_body(email="big@example.com"), headers={**API_KEY, **JSONAPI}
            )
        ).json()["data"]["id"]
        big = "x" * 4_800_000
        for i in range(10):
            attributes = {"properties": {"blob": big}} if i % 2 else {"first_name": big}
            body = {"data": {"type": "profile", "id": pid, "attributes": attributes}}
            answer = await client.patch(f"/api/profiles/{pid}", json=body, headers={**API_KEY, **JSONAPI})
            assert answer.status_code < 500
        journal = store.journal(ACCOUNT_ONE)
    assert len(journal) == 11
    assert sum(journal_size(e) for e in journal) <= limits.journal_bytes
    assert all(e["body"] is None and e["body_omitted"]["bytes"] > 4_800_000 for e in journal[1:])
    store.close()


async def test_a_body_over_the_bound_is_journaled_as_its_size_as_received(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    """The size the journal keeps for a body over `journal_body_bytes` is what the request carried (its
    Content-Length: a bulk job's body is not written out again only to be measured); a smaller body is kept."""
    behaviour = make_behaviour(limits=ResourceLimits(journal_body_bytes=2_000))
    small = json.dumps(profile_body(email="small@example.com")).encode()
    big = json.dumps(profile_body(email="big@example.com", first_name="x" * 1_900), indent=4).encode()
    async with core_client(compiled, behaviour) as client:
        for raw in (small, big):
            answer = await client.post("/api/profiles", content=raw, headers={**API_KEY, **JSONAPI})
            assert answer.status_code == 201
    kept, omitted = behaviour.store.journal(ACCOUNT_ONE)
    assert kept["body"] == json.loads(small) and "body_omitted" not in kept
    assert omitted["body"] is None and omitted["body_omitted"] == {"bytes": len(big), "limit": 2_000}


async def test_journal_keeps_the_newest_within_its_bounds(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour = make_behaviour(limits=ResourceLimits(journal_entries=3, journal_bytes=100_000))
    async with core_client(compiled, behaviour) as client:
        for i in range(5):
            await client.get(f"/api/lists?page[size]={i + 1}", headers=API_KEY)
        await client.get("/api/lists", headers=OTHER_KEY)
        kept = (await client.get("/__mock__/journal", headers=API_KEY)).json()["requests"]
        assert [e["query"]["page[size]"] for e in kept] == ["3", "4", "5"]
        assert len((await client.get("/__mock__/journal", headers=OTHER_KEY)).json()["requests"]) == 1
    small = make_behaviour(limits=ResourceLimits(journal_bytes=1_000))
    async with core_client(compiled, small) as client:
        for _ in range(10):
            await client.get("/api/lists", headers=API_KEY)
        kept = small.store.journal(ACCOUNT_ONE)
    assert 0 < len(kept) < 10 and sum(journal_size(e) for e in kept) <= 1_000


async def test_webhook_delivery_log_is_bounded_per_account(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    sender = WebhookSender(backoff=0.0, client_factory=_refusing_client, log_limit=4)  # 3 attempts per delivery
    behaviour = make_behaviour(webhooks=sender)
    async with core_client(compiled, behaviour) as client:
        for headers in (API_KEY, OTHER_KEY):
            await client.post("/api/webhooks", json=_webhook("https://a.example/h"), headers={**headers, **JSONAPI})
        await client.post("/__mock__/inbound", json={"phone_number": "+15005550001", "body": "a"}, headers=OTHER_KEY)
        for n in range(3):
            await client.post(
                "/__mock__/inbound", json={"phone_number": "+15005550001", "body": str(n)}, headers=API_KEY
            )
        await sender.drain()
        mine = (await client.get("/__mock__/webhook-deliveries", headers=API_KEY)).json()["deliveries"]
        theirs = (await client.get("/__mock__/webhook-deliveries", headers=OTHER_KEY)).json()["deliveries"]
    assert len(mine) == 4 and {d["account"] for d in mine} == {ACCOUNT_ONE}
    assert len(theirs) == 3  # another account's traffic pushed none of these out


async def test_deliveries_in_flight_are_bounded(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    import asyncio

    release = asyncio.Event()

    async def silent(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200)

    factory = lambda: httpx.AsyncClient(transport=httpx.MockTransport(silent))  # noqa: E731
    sender = WebhookSender(backoff=0.0, client_factory=factory, max_in_flight=2)
    behaviour = make_behaviour(webhooks=sender)
    async with core_client(compiled, behaviour) as client:
        await client.post("/api/webhooks", json=_webhook("https://a.example/h"), headers={**API_KEY, **JSONAPI})
        for n in range(4):
            await client.post(
                "/__mock__/inbound", json={"phone_number": "+15005550001", "body": str(n)}, headers=API_KEY
            )
        dropped = sender.log(ACCOUNT_ONE)
        assert len(dropped) == 2 and all(d["error"].startswith("dropped") for d in dropped)
        release.set()
        await sender.drain()
    assert [d["delivered"] for d in sender.log(ACCOUNT_ONE)][-2:] == [True, True]
