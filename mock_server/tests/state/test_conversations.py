"""Conversations, rule by rule (seeds 000/002): inbound first, OAuth only, consent, length limits, thread."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server._compile import CompiledSpec

from .conftest import API_KEY, JSONAPI, OAUTH, profile_body, response_errors

OJ = {**OAUTH, **JSONAPI}
PHONE = "+18108675309"


def reply(conversation_id: str, text: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "conversation-message",
            "attributes": {"body": text},
            "relationships": {"conversation": {"data": {"type": "conversation", "id": conversation_id}}},
        }
    }


async def inbound(
    client: httpx.AsyncClient, text: str = "Hello, I need help with my order!", **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/__mock__/inbound", json={"phone_number": PHONE, "body": text, **extra}, headers=OAUTH
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_inbound_creates_profile_by_phone_and_conversation(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    first = await inbound(client)
    again = await inbound(client, "anyone there?")
    assert again["profile_id"] == first["profile_id"] and again["conversation_id"] == first["conversation_id"]
    profile = await client.get(f"/api/profiles/{first['profile_id']}", headers=OAUTH)
    assert profile.json()["data"]["attributes"]["phone_number"] == PHONE
    conversation = await client.get(f"/api/profiles/{first['profile_id']}/conversation", headers=OAUTH)
    assert conversation.status_code == 200
    document = conversation.json()
    assert document["data"]["id"] == first["conversation_id"]
    assert document["data"]["attributes"]["channel"] == "sms"
    assert response_errors(compiled, spec, "/api/profiles/{id}/conversation", "get", 200, document) == []
    assert [m["attributes"]["body"] for m in document["included"]] == [
        "anyone there?",
        "Hello, I need help with my order!",
    ]


async def test_inbound_reuses_an_existing_profile(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/profiles", json=profile_body(phone_number=PHONE), headers={**API_KEY, **JSONAPI})
    # The API key and the OAuth token are different tenants: create the profile in the OAuth account.
    created = await client.post("/api/profiles", json=profile_body(phone_number=PHONE), headers=OJ)
    assert (await inbound(client))["profile_id"] == created.json()["data"]["id"]


async def test_api_key_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/conversation-messages", json=reply("x", "hi"), headers={**API_KEY, **JSONAPI})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"
    response = await client.get("/api/profiles/01GDDKASAP8TKDDA2GRZDSVP4H/conversation", headers=API_KEY)
    assert response.status_code == 403


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/conversation-messages", json=reply("x", "hi"), headers={"revision": "2026-07-15", **JSONAPI}
    )
    assert response.status_code == 401


async def test_unknown_conversation_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/conversation-messages", json=reply("01GDDKASAP8TKDDA2GRZDSVP4H", "hi"), headers=OJ
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/relationships/conversation/data/id"


async def test_no_consent_is_400(client: httpx.AsyncClient) -> None:
    conversation = (await inbound(client))["conversation_id"]
    response = await client.post("/api/conversation-messages", json=reply(conversation, "Hi!"), headers=OJ)
    assert response.status_code == 400
    assert "consent" in response.json()["errors"][0]["detail"]


async def test_consent_by_keyword_then_reply_is_202_and_in_the_thread(client: httpx.AsyncClient) -> None:
    result = await inbound(client, "START")
    sent = await client.post(
        "/api/conversation-messages", json=reply(result["conversation_id"], "Thanks! How can we help?"), headers=OJ
    )
    assert sent.status_code == 202
    message = sent.json()["data"]
    assert message["type"] == "conversation-message" and message["attributes"]["direction"] == "outbound"
    thread = (await client.get(f"/api/profiles/{result['profile_id']}/conversation", headers=OAUTH)).json()["included"]
    assert [(m["attributes"]["direction"], m["attributes"]["body"]) for m in thread] == [
        ("outbound", "Thanks! How can we help?"),
        ("inbound", "START"),
    ]
    # STOP withdraws consent.
    await inbound(client, "STOP")
    refused = await client.post("/api/conversation-messages", json=reply(result["conversation_id"], "bye"), headers=OJ)
    assert refused.status_code == 400


@pytest.mark.parametrize(("channel", "limit"), [("sms", 1600), ("whatsapp", 1024)])
async def test_body_length_limits_are_413(client: httpx.AsyncClient, channel: str, limit: int) -> None:
    conversation = (await inbound(client, "hi", channel=channel, consent=True))["conversation_id"]
    ok = await client.post("/api/conversation-messages", json=reply(conversation, "x" * limit), headers=OJ)
    assert ok.status_code == 202
    too_long = await client.post("/api/conversation-messages", json=reply(conversation, "x" * (limit + 1)), headers=OJ)
    assert too_long.status_code == 413
    assert too_long.json()["errors"][0]["status"] == 413


async def test_empty_body_and_missing_relationship_are_400(client: httpx.AsyncClient) -> None:
    conversation = (await inbound(client, consent=True))["conversation_id"]
    empty = await client.post("/api/conversation-messages", json=reply(conversation, "   "), headers=OJ)
    assert empty.status_code == 400
    body = {"data": {"type": "conversation-message", "attributes": {"body": "hi"}}}
    missing = await client.post("/api/conversation-messages", json=body, headers=OJ)
    assert missing.status_code == 400


async def test_profile_without_conversation_has_null_data(client: httpx.AsyncClient) -> None:
    pid = (await client.post("/api/profiles", json=profile_body(email="quiet@example.com"), headers=OJ)).json()["data"][
        "id"
    ]
    response = await client.get(f"/api/profiles/{pid}/conversation", headers=OAUTH)
    assert response.status_code == 200 and response.json()["data"] is None
    assert (await client.get("/api/profiles/01GDDKASAP8TKDDA2GRZDSVP4H/conversation", headers=OAUTH)).status_code == 404


async def test_whatsapp_and_sms_are_separate_conversations(client: httpx.AsyncClient) -> None:
    sms = await inbound(client, "sms hello")
    whatsapp = await inbound(client, "wa hello", channel="whatsapp")
    assert sms["conversation_id"] != whatsapp["conversation_id"]
    listed = await client.get(f"/api/profiles/{sms['profile_id']}/conversations", headers=OAUTH)
    assert sorted(c["attributes"]["channel"] for c in listed.json()["data"]) == ["sms", "whatsapp"]
    latest = (await client.get(f"/api/profiles/{sms['profile_id']}/conversation", headers=OAUTH)).json()
    assert latest["data"]["attributes"]["channel"] == "whatsapp"
    rel = await client.get(f"/api/profiles/{sms['profile_id']}/relationships/conversation", headers=OAUTH)
    assert rel.json()["data"] == {"type": "conversation", "id": whatsapp["conversation_id"]}


async def test_consent_shows_in_additional_fields(client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any) -> None:
    pid = (await inbound(client, "START"))["profile_id"]
    plain = (await client.get(f"/api/profiles/{pid}", headers=OAUTH)).json()
    assert "subscriptions" not in plain["data"]["attributes"]
    response = await client.get(
        f"/api/profiles/{pid}", params={"additional-fields[profile]": "subscriptions"}, headers=OAUTH
    )
    document = response.json()
    assert document["data"]["attributes"]["subscriptions"]["sms"]["marketing"]["consent"] == "SUBSCRIBED"
    assert response_errors(compiled, spec, "/api/profiles/{id}", "get", 200, document) == []
