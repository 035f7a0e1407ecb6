"""Seed 000 (Klaviyo's "Conversations API overview") end to end against the default (stateful) mock.

The document's integration flow: subscribe to `event:klaviyo.sent_sms` → a customer texts the brand's number
(the mock's admin inbound endpoint) → the webhook fires with the sender's profile id → `GET
/api/profiles/{id}/conversation` gives the conversation id → `POST /api/conversation-messages` replies (202).
Then every limit and error of its troubleshooting table: 400 (missing/empty body, missing relationship,
conversation not found or blocked, customer does not exist, no consent), 401, 403 (private API key, the
Conversations feature off, SMS or WhatsApp not configured, an app without the conversations scopes),
413 (1,600 SMS / 1,024 WhatsApp characters), 429 (SMALL tier: 3/s burst); WhatsApp has no inbound webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import StatefulBehaviour, WebhookSender

from .conftest import API_KEY, JSONAPI, OAUTH, core_client, response_errors

OJ = {**OAUTH, **JSONAPI}
PHONE = "+18108675309"
SECRET = "whsec-seed-000-0000"
TOPIC = "event:klaviyo.sent_sms"
HOOK_URL = "https://helpdesk.example.com/klaviyo"


@dataclass
class Account:
    client: httpx.AsyncClient
    behaviour: StatefulBehaviour
    received: list[httpx.Request]
    now: list[float]  # the rate limiter's clock, moved by the tests

    async def inbound(self, text: str, **extra: Any) -> dict[str, Any]:
        """A customer writes to the brand's number (no public endpoint creates a conversation)."""
        response = await self.client.post(
            "/__mock__/inbound", json={"phone_number": PHONE, "body": text, **extra}, headers=OAUTH
        )
        assert response.status_code == 201, response.text
        await self.behaviour.webhooks.drain()
        result: dict[str, Any] = response.json()
        return result

    def account_of(self, conversation_id: str) -> str:
        """The store's account holding a conversation (account ids are the mock's own business)."""
        with self.behaviour.store.transaction(write=False) as tx:
            return next(a for a in self.behaviour.store.accounts() if tx.get(a, "conversation", conversation_id))

    async def reply(self, conversation_id: str | None, text: str | None, headers: dict[str, str] = OJ) -> Any:
        self.now[0] += 1.0  # a new second: the 3/s burst is not what these tests are about
        data: dict[str, Any] = {"type": "conversation-message", "attributes": {}}
        if text is not None:
            data["attributes"]["body"] = text
        if conversation_id is not None:
            data["relationships"] = {"conversation": {"data": {"type": "conversation", "id": conversation_id}}}
        return await self.client.post("/api/conversation-messages", json={"data": data}, headers=headers)


@pytest.fixture
async def account(compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]) -> AsyncIterator[Account]:
    received: list[httpx.Request] = []

    def helpdesk(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    now = [1000.0]
    behaviour = make_behaviour(
        rate_limits=True,
        clock=lambda: now[0],
        webhooks=WebhookSender(
            backoff=0.0, client_factory=lambda: httpx.AsyncClient(transport=httpx.MockTransport(helpdesk))
        ),
    )
    async with core_client(compiled, behaviour) as client:
        yield Account(client, behaviour, received, now)


async def _subscribe_helpdesk(account: Account) -> str:
    """Step 1: subscribe to `event:klaviyo.sent_sms` through the Webhooks API."""
    body = {
        "data": {
            "type": "webhook",
            "attributes": {"name": "helpdesk", "endpoint_url": HOOK_URL, "secret_key": SECRET},
            "relationships": {"webhook-topics": {"data": [{"type": "webhook-topic", "id": TOPIC}]}},
        }
    }
    created = await account.client.post("/api/webhooks", json=body, headers=OJ)
    assert created.status_code == 201, created.text
    webhook_id: str = created.json()["data"]["id"]
    return webhook_id


async def _sms_subscriber(account: Account) -> str:
    """A profile with SMS consent: subscribed by phone number through the subscription job."""
    job = {
        "data": {
            "type": "profile-subscription-bulk-create-job",
            "attributes": {
                "profiles": {
                    "data": [
                        {
                            "type": "profile",
                            "attributes": {
                                "phone_number": PHONE,
                                "subscriptions": {"sms": {"marketing": {"consent": "SUBSCRIBED"}}},
                            },
                        }
                    ]
                }
            },
        }
    }
    response = await account.client.post("/api/profile-subscription-bulk-create-jobs", json=job, headers=OJ)
    assert response.status_code == 202, response.text
    found = await account.client.get(
        "/api/profiles", params={"filter": f'equals(phone_number,"{PHONE}")'}, headers=OAUTH
    )
    (profile,) = found.json()["data"]
    profile_id: str = profile["id"]
    return profile_id


def _webhook_event(request: httpx.Request) -> dict[str, Any]:
    """Step 2: the helpdesk's side: check the signature, take the event out of the delivery."""
    signed = hmac.new(SECRET.encode(), request.content + request.headers["klaviyo-timestamp"].encode(), hashlib.sha256)
    assert request.headers["klaviyo-signature"] == signed.hexdigest()
    (item,) = json.loads(request.content)["data"]
    assert item["topic"] == TOPIC
    event: dict[str, Any] = item["payload"]["data"]
    return event


async def test_full_integration_flow(account: Account, compiled: CompiledSpec, spec: Any) -> None:
    client = account.client
    webhook_id = await _subscribe_helpdesk(account)
    subscriber = await _sms_subscriber(account)

    inbound = await account.inbound("Hello, I need help with my order!")
    assert inbound["webhooks_notified"] == [webhook_id]
    assert inbound["profile_id"] == subscriber  # the known subscriber, found by phone number
    (delivery,) = account.received
    assert str(delivery.url) == HOOK_URL
    event = _webhook_event(delivery)
    assert event["type"] == "event"
    assert event["attributes"]["event_properties"] == {
        "From Number": PHONE,
        "Message Body": "Hello, I need help with my order!",
    }
    profile_id = event["relationships"]["profile"]["data"]["id"]
    assert profile_id == subscriber
    assert "conversation" not in json.dumps(event)  # the payload does not carry the conversation id

    # Step 3: the profile's conversation.
    got = await client.get(f"/api/profiles/{profile_id}/conversation", headers=OAUTH)
    assert got.status_code == 200, got.text
    document = got.json()
    assert response_errors(compiled, spec, "/api/profiles/{id}/conversation", "get", 200, document) == []
    conversation_id = document["data"]["id"]
    assert document["data"]["attributes"]["channel"] == "sms"
    assert [m["attributes"]["body"] for m in document["included"]] == ["Hello, I need help with my order!"]
    # Also inline on the profile.
    profile = await client.get(f"/api/profiles/{profile_id}?include=conversations", headers=OAUTH)
    assert [c["id"] for c in profile.json()["included"]] == [conversation_id]

    # Step 4: the reply: 202 with the created message and its id; the channel comes from the conversation.
    sent = await account.reply(conversation_id, "Hi! Thanks for reaching out. How can we help you today?")
    assert sent.status_code == 202, sent.text
    message = sent.json()["data"]
    assert message["type"] == "conversation-message" and message["id"]
    assert message["attributes"]["body"] == "Hi! Thanks for reaching out. How can we help you today?"
    assert response_errors(compiled, spec, "/api/conversation-messages", "post", 202, sent.json()) == []

    # The history shows both, newest first; the customer writes again into the same conversation.
    await account.inbound("Order #1234 never arrived")
    thread = (await client.get(f"/api/profiles/{profile_id}/conversation", headers=OAUTH)).json()
    assert thread["data"]["id"] == conversation_id
    assert [(m["attributes"]["direction"], m["attributes"]["body"]) for m in thread["included"]] == [
        ("inbound", "Order #1234 never arrived"),
        ("outbound", "Hi! Thanks for reaching out. How can we help you today?"),
        ("inbound", "Hello, I need help with my order!"),
    ]
    assert len(account.received) == 2  # one webhook per inbound SMS


async def _consented_conversation(account: Account, channel: str = "sms") -> dict[str, Any]:
    return await account.inbound("START" if channel == "sms" else "hi", channel=channel, consent=True)


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    (error,) = response.json()["errors"]
    assert error["status"] == status
    return dict(error)


async def test_400_missing_or_empty_body(account: Account) -> None:
    conversation = (await _consented_conversation(account))["conversation_id"]
    assert "body" in _error(await account.reply(conversation, None), 400)["detail"]  # a schema error
    for text in ("", "   "):
        error = _error(await account.reply(conversation, text), 400)
        assert error["source"]["pointer"] == "/data/attributes/body"


async def test_400_missing_conversation_relationship(account: Account) -> None:
    _error(await account.reply(None, "hi"), 400)


async def test_400_conversation_not_found_or_blocked(account: Account) -> None:
    error = _error(await account.reply("01J0000000000000000000FAKE", "hi"), 400)
    assert error["source"]["pointer"] == "/data/relationships/conversation/data/id"
    conversation = (await _consented_conversation(account))["conversation_id"]
    owner = account.account_of(conversation)
    with account.behaviour.store.transaction() as tx:  # Klaviyo blocks a conversation (no public endpoint)
        record = dict(tx.get(owner, "conversation", conversation))
        record["attributes"] = {**record["attributes"], "blocked": True}
        tx.put(owner, record)
    _error(await account.reply(conversation, "hi"), 400)


async def test_400_customer_does_not_exist(account: Account) -> None:
    result = await _consented_conversation(account)
    owner = account.account_of(result["conversation_id"])
    with account.behaviour.store.transaction() as tx:  # the profile was deleted (a data-privacy deletion)
        assert tx.delete(owner, "profile", result["profile_id"])
    error = _error(await account.reply(result["conversation_id"], "hi"), 400)
    assert "does not exist" in error["detail"]


async def test_400_without_consent_then_202_after_start(account: Account) -> None:
    conversation = (await account.inbound("Where is my order?"))["conversation_id"]
    error = _error(await account.reply(conversation, "Let me check"), 400)
    assert "consent" in error["detail"]
    await account.inbound("START")
    assert (await account.reply(conversation, "Let me check")).status_code == 202
    await account.inbound("STOP")
    _error(await account.reply(conversation, "Anything else?"), 400)


async def test_401_without_token_and_403_with_a_private_key(account: Account) -> None:
    conversation = (await _consented_conversation(account))["conversation_id"]
    no_token = {k: v for k, v in OJ.items() if k != "Authorization"}
    _error(await account.reply(conversation, "hi", headers=no_token), 401)
    error = _error(await account.reply(conversation, "hi", headers={**API_KEY, **JSONAPI}), 403)
    assert error["code"] == "permission_denied"
    refused = await account.client.get("/api/profiles/01GDDKASAP8TKDDA2GRZDSVP4H/conversation", headers=API_KEY)
    _error(refused, 403)


@pytest.mark.parametrize(("channel", "limit"), [("sms", 1600), ("whatsapp", 1024)])
async def test_413_over_the_channel_limit(account: Account, channel: str, limit: int) -> None:
    conversation = (await _consented_conversation(account, channel))["conversation_id"]
    assert (await account.reply(conversation, "x" * limit)).status_code == 202
    error = _error(await account.reply(conversation, "x" * (limit + 1)), 413)
    assert str(limit) in error["detail"]


async def test_429_small_tier_burst(account: Account) -> None:
    conversation = (await _consented_conversation(account))["conversation_id"]
    body = {
        "data": {
            "type": "conversation-message",
            "attributes": {"body": "hi"},
            "relationships": {"conversation": {"data": {"type": "conversation", "id": conversation}}},
        }
    }
    account.now[0] += 5.0
    statuses = [
        (await account.client.post("/api/conversation-messages", json=body, headers=OJ)).status_code for _ in range(4)
    ]
    assert statuses == [202, 202, 202, 429]  # 3 requests/second burst
    account.now[0] += 1.0
    assert (await account.client.post("/api/conversation-messages", json=body, headers=OJ)).status_code == 202


async def test_whatsapp_has_no_inbound_webhook_and_is_polled(account: Account) -> None:
    await _subscribe_helpdesk(account)
    result = await account.inbound("Hola", channel="whatsapp", consent=True)
    assert result["webhooks_notified"] == [] and account.received == []
    polled = (await account.client.get(f"/api/profiles/{result['profile_id']}/conversation", headers=OAUTH)).json()
    assert polled["data"]["id"] == result["conversation_id"]
    assert polled["data"]["attributes"]["channel"] == "whatsapp"
    assert (await account.reply(result["conversation_id"], "¡Hola! ¿Cómo podemos ayudar?")).status_code == 202


async def test_no_public_endpoint_creates_a_conversation(account: Account) -> None:
    quiet = await account.client.post(
        "/api/profiles", json={"data": {"type": "profile", "attributes": {"phone_number": "+15005550001"}}}, headers=OJ
    )
    profile_id = quiet.json()["data"]["id"]
    none = await account.client.get(f"/api/profiles/{profile_id}/conversation", headers=OAUTH)
    assert none.status_code == 200 and none.json()["data"] is None
    create = await account.client.post(
        "/api/conversations", json={"data": {"type": "conversation", "attributes": {}}}, headers=OJ
    )
    assert create.status_code in (404, 405)


async def _settings(account: Account, **features: bool) -> None:
    """The account's features, as the admin endpoint sets them (the key's own account)."""
    response = await account.client.post("/__mock__/settings", json={"features": features}, headers=OAUTH)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("channel", "feature", "detail"),
    [
        ("sms", "sms", "Account not configured to send SMS."),
        ("whatsapp", "whatsapp", "WhatsApp not enabled for the account."),
    ],
)
async def test_403_channel_not_configured(account: Account, channel: str, feature: str, detail: str) -> None:
    """Troubleshooting 403: "Account not configured to send SMS." / "WhatsApp not enabled for the account."
    The conversation exists (the customer wrote first); the account then has the channel turned off."""
    conversation = (await _consented_conversation(account, channel))["conversation_id"]
    await _settings(account, **{feature: False})
    error = _error(await account.reply(conversation, "Thanks for writing!"), 403)
    assert error["code"] == "permission_denied" and error["detail"] == detail
    # Nothing was sent: the thread holds only the customer's message; the journal has the 403.
    profile_id = (await account.client.get("/api/profiles", headers=OAUTH)).json()["data"][0]["id"]
    thread = (await account.client.get(f"/api/profiles/{profile_id}/conversation", headers=OAUTH)).json()
    assert [m["attributes"]["direction"] for m in thread["included"]] == ["inbound"]
    journal = (await account.client.get("/__mock__/journal", headers=OAUTH)).json()["requests"]
    assert ("create_conversation_message", 403) in [(e["operation_id"], e["status"]) for e in journal]
    # No sending number: no customer can text in on that channel either.
    inbound = await account.client.post(
        "/__mock__/inbound", json={"phone_number": PHONE, "body": "hello?", "channel": channel}, headers=OAUTH
    )
    assert inbound.status_code == 409
    # Turned back on, the reply goes out; the other channel was never affected.
    await _settings(account, **{feature: True})
    assert (await account.reply(conversation, "Thanks for writing!")).status_code == 202


async def test_403_conversations_feature_not_enabled(account: Account) -> None:
    """Troubleshooting 403: "the account does not have the Conversations feature enabled": every
    Conversations API operation is refused, other APIs are not."""
    result = await _consented_conversation(account)
    await _settings(account, conversations=False)
    error = _error(await account.reply(result["conversation_id"], "hi"), 403)
    assert "Conversations feature" in error["detail"]
    _error(await account.client.get(f"/api/profiles/{result['profile_id']}/conversation", headers=OAUTH), 403)
    assert (await account.client.get(f"/api/profiles/{result['profile_id']}", headers=OAUTH)).status_code == 200


async def test_403_oauth_app_without_the_conversation_scopes(account: Account) -> None:
    """ "Required scopes": conversations:write to send, conversations:read and profiles:read for the history.
    An app granted only the read scopes reads the thread and is refused the reply."""
    result = await _consented_conversation(account)
    granted = {"scopes": ["accounts:read", "profiles:read", "conversations:read"]}
    assert (await account.client.post("/__mock__/settings", json=granted, headers=OAUTH)).status_code == 200
    history = await account.client.get(f"/api/profiles/{result['profile_id']}/conversation", headers=OAUTH)
    assert history.status_code == 200
    error = _error(await account.reply(result["conversation_id"], "hi"), 403)
    assert "conversations:write" in error["detail"]
