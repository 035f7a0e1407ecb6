"""Resources created inline with their parent (a campaign's messages) and new resources starting as drafts."""

from __future__ import annotations

from typing import Any

import httpx

from mock_server._compile import CompiledSpec

from .conftest import API_KEY, JSONAPI, response_errors

H = {**API_KEY, **JSONAPI}


def campaign_body(name: str, channel: str = "email") -> dict[str, Any]:
    return {
        "data": {
            "type": "campaign",
            "attributes": {
                "name": name,
                "audiences": {"included": ["Y6nRLr"]},
                "campaign-messages": {
                    "data": [
                        {
                            "type": "campaign-message",
                            "attributes": {
                                "definition": {
                                    "channel": channel,
                                    "label": f"{name} message",
                                    "content": {"subject": "Hello", "from_email": "a@example.com"},
                                }
                            },
                        }
                    ]
                },
            },
        }
    }


async def test_campaign_create_makes_its_messages_and_starts_as_draft(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    created = await client.post("/api/campaigns", json=campaign_body("Spring sale"), headers=H)
    assert created.status_code == 201, created.text
    campaign = created.json()["data"]
    assert campaign["attributes"]["status"] == "Draft"
    cid = campaign["id"]

    got = await client.get(f"/api/campaigns/{cid}", params={"include": "campaign-messages"}, headers=API_KEY)
    assert got.status_code == 200
    assert response_errors(compiled, spec, "/api/campaigns/{id}", "get", 200, got.json()) == []
    included = got.json()["included"]
    assert [m["type"] for m in included] == ["campaign-message"]
    assert included[0]["attributes"]["definition"]["label"] == "Spring sale message"
    linked = got.json()["data"]["relationships"]["campaign-messages"]["data"]
    assert linked == [{"type": "campaign-message", "id": included[0]["id"]}]

    message = await client.get(f"/api/campaign-messages/{included[0]['id']}/campaign", headers=API_KEY)
    assert message.status_code == 200 and message.json()["data"]["id"] == cid
    listed = await client.get("/api/campaigns", params={"filter": "equals(messages.channel,'email')"}, headers=API_KEY)
    assert [c["id"] for c in listed.json()["data"]] == [cid]
    sms = await client.get("/api/campaigns", params={"filter": "equals(messages.channel,'sms')"}, headers=API_KEY)
    assert sms.json()["data"] == []
