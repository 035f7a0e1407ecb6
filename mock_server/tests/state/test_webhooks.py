"""`event:klaviyo.sent_sms` webhooks: subscribed through the Webhooks API, signed, retried (bounded)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx

from mock_server._compile import CompiledSpec
from mock_server.state import StatefulBehaviour, WebhookSender

from .conftest import API_KEY, JSONAPI, OAUTH, core_client


def webhook_body(url: str, topic: str = "event:klaviyo.sent_sms") -> dict[str, Any]:
    return {
        "data": {
            "type": "webhook",
            "attributes": {"name": "inbound sms", "endpoint_url": url, "secret_key": "s3cret-s3cret-s3cret"},
            "relationships": {"webhook-topics": {"data": [{"type": "webhook-topic", "id": topic}]}},
        }
    }


def receiver(statuses: list[int]) -> tuple[list[httpx.Request], Callable[[], httpx.AsyncClient]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(statuses[min(len(seen), len(statuses)) - 1])

    return seen, lambda: httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def _setup(
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
    statuses: list[int],
    topic: str = "event:klaviyo.sent_sms",
) -> tuple[StatefulBehaviour, list[httpx.Request], dict[str, Any]]:
    seen, factory = receiver(statuses)
    behaviour = make_behaviour(webhooks=WebhookSender(backoff=0.0, client_factory=factory))
    async with core_client(compiled, behaviour) as client:
        created = await client.post(
            "/api/webhooks", json=webhook_body("https://hooks.example.com/k", topic), headers={**OAUTH, **JSONAPI}
        )
        assert created.status_code == 201, created.text
        assert "secret_key" not in created.json()["data"]["attributes"]
        result = await client.post(
            "/__mock__/inbound", json={"phone_number": "+18108675309", "body": "Hello!"}, headers=OAUTH
        )
        await behaviour.webhooks.drain()
        return behaviour, seen, {"webhook": created.json()["data"], "inbound": result.json()}


async def test_inbound_sms_is_delivered_signed(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    _, seen, ctx = await _setup(compiled, make_behaviour, [200])
    assert ctx["inbound"]["webhooks_notified"] == [ctx["webhook"]["id"]]
    assert len(seen) == 1
    request = seen[0]
    assert str(request.url) == "https://hooks.example.com/k"
    assert request.headers["klaviyo-webhook-id"] == ctx["webhook"]["id"]
    expected = hmac.new(
        b"s3cret-s3cret-s3cret", request.content + request.headers["klaviyo-timestamp"].encode(), hashlib.sha256
    )
    assert request.headers["klaviyo-signature"] == expected.hexdigest()
    document = json.loads(request.content)
    item = document["data"][0]
    assert item["topic"] == "event:klaviyo.sent_sms"
    event = item["payload"]["data"]
    assert event["attributes"]["event_properties"] == {"From Number": "+18108675309", "Message Body": "Hello!"}
    assert event["relationships"]["profile"]["data"] == {"type": "profile", "id": ctx["inbound"]["profile_id"]}
    assert document["meta"]["klaviyo_webhook_id"] == ctx["webhook"]["id"]


async def test_failures_are_retried_until_success(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    behaviour, seen, _ = await _setup(compiled, make_behaviour, [500, 503, 200])
    assert len(seen) == 3
    assert [d["delivered"] for d in behaviour.webhooks.deliveries] == [False, False, True]


async def test_retries_are_bounded(compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]) -> None:
    behaviour, seen, _ = await _setup(compiled, make_behaviour, [500])
    assert len(seen) == behaviour.webhooks.attempts == 3
    async with core_client(compiled, behaviour) as client:
        log = await client.get("/__mock__/webhook-deliveries", headers=OAUTH)
    assert len(log.json()["deliveries"]) == 3


async def test_other_topics_and_whatsapp_do_not_fire(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    _, seen, ctx = await _setup(compiled, make_behaviour, [200], topic="event:klaviyo.opened_email")
    assert seen == [] and ctx["inbound"]["webhooks_notified"] == []


async def test_webhooks_of_other_accounts_do_not_fire(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    seen, factory = receiver([200])
    behaviour = make_behaviour(webhooks=WebhookSender(backoff=0.0, client_factory=factory))
    async with core_client(compiled, behaviour) as client:
        await client.post(
            "/api/webhooks", json=webhook_body("https://hooks.example.com/k"), headers={**API_KEY, **JSONAPI}
        )
        await client.post("/__mock__/inbound", json={"phone_number": "+18108675309", "body": "Hi"}, headers=OAUTH)
    await behaviour.webhooks.drain()
    assert seen == []
