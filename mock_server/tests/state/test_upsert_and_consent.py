"""Create-or-update (`/api/profile-import`) and the subscription bulk jobs that give consent."""

from __future__ import annotations

from typing import Any

import httpx

from mock_server._compile import CompiledSpec

from .conftest import API_KEY, JSONAPI, OAUTH, list_body, profile_body, response_errors

H = {**API_KEY, **JSONAPI}
OJ = {**OAUTH, **JSONAPI}


async def test_profile_import_creates_then_updates(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    first = await client.post(
        "/api/profile-import", json=profile_body(email="up@example.com", first_name="A"), headers=H
    )
    assert first.status_code == 201, first.text
    assert response_errors(compiled, spec, "/api/profile-import", "post", 201, first.json()) == []
    pid = first.json()["data"]["id"]
    second = await client.post(
        "/api/profile-import", json=profile_body(email="up@example.com", last_name="B"), headers=H
    )
    assert second.status_code == 200
    assert second.json()["data"]["id"] == pid
    attrs = (await client.get(f"/api/profiles/{pid}", headers=API_KEY)).json()["data"]["attributes"]
    assert (attrs["first_name"], attrs["last_name"]) == ("A", "B")
    by_id = {"data": {"type": "profile", "id": pid, "attributes": {"title": "CTO"}}}
    assert (await client.post("/api/profile-import", json=by_id, headers=H)).status_code == 200
    assert len((await client.get("/api/profiles", headers=API_KEY)).json()["data"]) == 1


def subscribe_job(phone: str, list_id: str | None = None, *, kind: str = "create") -> dict[str, Any]:
    consent = "SUBSCRIBED" if kind == "create" else "UNSUBSCRIBED"
    job: dict[str, Any] = {
        "data": {
            "type": f"profile-subscription-bulk-{kind}-job",
            "attributes": {
                "profiles": {
                    "data": [
                        {
                            "type": "profile",
                            "attributes": {
                                "phone_number": phone,
                                "subscriptions": {"sms": {"marketing": {"consent": consent}}},
                            },
                        }
                    ]
                }
            },
        }
    }
    if list_id:
        job["data"]["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return job


async def test_bulk_subscribe_gives_consent_for_conversations(client: httpx.AsyncClient) -> None:
    phone = "+15005550111"
    inbound = (
        await client.post("/__mock__/inbound", json={"phone_number": phone, "body": "help"}, headers=OAUTH)
    ).json()
    lid = (await client.post("/api/lists", json=list_body("SMS"), headers=OJ)).json()["data"]["id"]
    reply = {
        "data": {
            "type": "conversation-message",
            "attributes": {"body": "On it!"},
            "relationships": {"conversation": {"data": {"type": "conversation", "id": inbound["conversation_id"]}}},
        }
    }
    assert (await client.post("/api/conversation-messages", json=reply, headers=OJ)).status_code == 400

    subscribed = await client.post(
        "/api/profile-subscription-bulk-create-jobs", json=subscribe_job(phone, lid), headers=OJ
    )
    assert subscribed.status_code == 202, subscribed.text
    assert (await client.post("/api/conversation-messages", json=reply, headers=OJ)).status_code == 202
    members = (await client.get(f"/api/lists/{lid}/profiles", headers=OAUTH)).json()["data"]
    assert [m["id"] for m in members] == [inbound["profile_id"]]

    unsubscribe = subscribe_job(phone, kind="delete")
    assert (
        await client.post("/api/profile-subscription-bulk-delete-jobs", json=unsubscribe, headers=OJ)
    ).status_code == 202
    assert (await client.post("/api/conversation-messages", json=reply, headers=OJ)).status_code == 400


async def test_bulk_subscribe_creates_unknown_profiles(client: httpx.AsyncClient) -> None:
    assert (
        await client.post("/api/profile-subscription-bulk-create-jobs", json=subscribe_job("+15005550222"), headers=H)
    ).status_code == 202
    found = await client.get("/api/profiles", params={"filter": "equals(phone_number,'+15005550222')"}, headers=API_KEY)
    assert len(found.json()["data"]) == 1
