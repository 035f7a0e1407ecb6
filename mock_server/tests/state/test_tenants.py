"""Each API key and each OAuth token is its own account; admin endpoints act per account."""

from __future__ import annotations

import httpx

from .conftest import API_KEY, JSONAPI, OAUTH, OTHER_KEY, profile_body


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
    accounts = (await client.get("/__mock__/accounts")).json()["accounts"]
    assert accounts == ["api_key:pk_test_one", "api_key:pk_test_two"]

    assert (await client.post("/__mock__/reset", headers=API_KEY)).status_code == 200
    assert (await client.get("/api/profiles", headers=API_KEY)).json()["data"] == []
    assert len((await client.get("/api/profiles", headers=OTHER_KEY)).json()["data"]) == 1

    assert (await client.post("/__mock__/reset")).json() == {"reset": "all"}
    assert (await client.get("/api/profiles", headers=OTHER_KEY)).json()["data"] == []


async def test_export_and_journal(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/profiles", json=profile_body(email="j@example.com"), headers={**API_KEY, **JSONAPI}
    )
    await client.get("/api/profiles", params={"filter": "equals(email,'j@example.com')"}, headers=API_KEY)
    await client.get("/api/lists", headers=OTHER_KEY)

    state = (await client.get("/__mock__/state", headers=API_KEY)).json()
    resources = state["accounts"]["api_key:pk_test_one"]
    assert [(r["type"], r["id"]) for r in resources] == [("profile", created.json()["data"]["id"])]

    journal = (await client.get("/__mock__/journal", params={"account": "api_key:pk_test_one"})).json()["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in journal] == [
        ("POST", "/api/profiles", 201),
        ("GET", "/api/profiles", 200),
    ]
    assert journal[1]["query"] == {"filter": "equals(email,'j@example.com')"}
    everything = (await client.get("/__mock__/journal")).json()["requests"]
    assert len(everything) == 3
    assert (await client.delete("/__mock__/journal", headers=API_KEY)).status_code == 204
    assert (await client.get("/__mock__/journal", headers=API_KEY)).json()["requests"] == []


async def test_state_import_through_admin(client: httpx.AsyncClient) -> None:
    seed = {"accounts": {"api_key:pk_test_one": [{"type": "list", "id": "AbCdEf", "attributes": {"name": "Seeded"}}]}}
    assert (await client.post("/__mock__/state", json=seed)).json() == {"loaded": 1}
    got = await client.get("/api/lists/AbCdEf", headers=API_KEY)
    assert got.status_code == 200 and got.json()["data"]["attributes"]["name"] == "Seeded"
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
    assert (await client.get("/__mock__/journal")).json()["requests"] == []


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
