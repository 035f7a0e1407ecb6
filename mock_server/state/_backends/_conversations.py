"""Conversations (SMS and WhatsApp), as Klaviyo's Conversations API guide describes them.

A conversation exists only after the customer writes first (`simulate_inbound`, the admin endpoint);
replies go through `POST /api/conversation-messages` (OAuth only, consent required, 1,600/1,024
character limits); `GET /api/profiles/{id}/conversation` returns the thread, newest first, in `included`.
An inbound SMS fires the `event:klaviyo.sent_sms` webhook topic.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, ClassVar

from mock_server import MockError, MockRequest, MockResponse

from .._account_settings import FEATURES, feature_refusal, read_settings
from .._errors import invalid, not_found
from .._index import OpInfo
from .._models import now
from .._render import render_resource, request_path
from .._store import Record, StoreTx
from .._webhooks import WebhookSender
from ._base import Backend

__all__ = ["BODY_LIMITS", "INBOUND_SMS_TOPIC", "ConversationsBackend", "has_consent"]

BODY_LIMITS = {"sms": 1600, "whatsapp": 1024}
INBOUND_SMS_TOPIC = "event:klaviyo.sent_sms"
_SUBSCRIBE_WORDS = frozenset({"START", "SUBSCRIBE", "YES", "UNSTOP"})
_STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})


def _consent_block(channel: str, subscribed: bool, phone: str) -> dict[str, Any]:
    stamp = now()
    consent = "SUBSCRIBED" if subscribed else "UNSUBSCRIBED"
    if channel == "sms":
        return {
            "marketing": {
                "can_receive_sms_marketing": subscribed,
                "consent": consent,
                "consent_timestamp": stamp,
                "method": "TEXT",
                "method_detail": "mock inbound",
                "last_updated": stamp,
            }
        }
    block = {"consent": consent, "can_receive": subscribed, "consent_timestamp": stamp, "phone_number": phone}
    return {"conversational": dict(block), "marketing": dict(block)}


def has_consent(profile: Record, channel: str) -> bool:
    """Consent on the channel: any of its subscription kinds says SUBSCRIBED (or can receive)."""
    subscriptions = ((profile.get("attributes") or {}).get("subscriptions") or {}).get(channel) or {}
    for kind in subscriptions.values():
        if not isinstance(kind, dict):
            continue
        if str(kind.get("consent") or "").upper() == "SUBSCRIBED":
            return True
    return False


class ConversationsBackend(Backend):
    types: ClassVar[tuple[str, ...]] = ("conversation", "conversation-message")

    @property
    def webhooks(self) -> WebhookSender:
        return self.backends.webhooks

    # -- the admin side: a customer writes in ------------------------------------------------------
    def simulate_inbound(
        self,
        account: str,
        *,
        phone_number: str,
        body: str,
        channel: str = "sms",
        consent: bool | None = None,
    ) -> dict[str, Any]:
        if channel not in BODY_LIMITS:
            raise ValueError(f"channel must be one of {sorted(BODY_LIMITS)}")
        keyword = body.strip().upper()
        if consent is None and channel == "sms" and keyword in _SUBSCRIBE_WORDS | _STOP_WORDS:
            consent = keyword in _SUBSCRIBE_WORDS
        with self.store.transaction() as tx:
            profile = self._profile_for_phone(tx, account, phone_number)
            if consent is not None:
                subs = profile["attributes"].setdefault("subscriptions", {}) or {}
                subs[channel] = _consent_block(channel, consent, phone_number)
                profile["attributes"]["subscriptions"] = subs
                tx.put(account, profile)
            conversation = self._conversation(tx, account, profile, channel)
            message = self._message(tx, account, conversation, body, "inbound")
            webhooks = [w for w in tx.scan(account, "webhook") if self._subscribed(w)] if channel == "sms" else []
        event = {
            "type": "event",
            "id": str(uuid.uuid4()),
            "attributes": {
                "timestamp": int(float(message["attributes"]["timestamp"])),
                "datetime": message["attributes"]["created"],
                "event_properties": {"From Number": phone_number, "Message Body": body},
            },
            "relationships": {"profile": {"data": {"type": "profile", "id": profile["id"]}}},
        }
        for webhook in webhooks:
            self.webhooks.send(account, webhook, INBOUND_SMS_TOPIC, {"data": event})
        return {
            "profile_id": profile["id"],
            "conversation_id": conversation["id"],
            "message_id": message["id"],
            "channel": channel,
            "webhooks_notified": [w["id"] for w in webhooks],
        }

    @staticmethod
    def _subscribed(webhook: Record) -> bool:
        if (webhook.get("attributes") or {}).get("enabled") is False:
            return False
        topics = ((webhook.get("relationships") or {}).get("webhook-topics") or {}).get("data") or []
        return any(t.get("id") == INBOUND_SMS_TOPIC for t in topics)

    def _profile_for_phone(self, tx: StoreTx, account: str, phone: str) -> Record:
        return self.backends.profiles.find_or_create(tx, account, {"phone_number": phone})

    def _conversation(self, tx: StoreTx, account: str, profile: Record, channel: str) -> Record:
        me = {"type": "profile", "id": profile["id"]}
        for conversation in tx.scan(account, "conversation"):
            rel = (conversation.get("relationships") or {}).get("profile") or {}
            if me in (rel.get("data") or []) and conversation["attributes"].get("channel") == channel:
                return conversation
        return tx.put(
            account,
            {
                "type": "conversation",
                "id": self.ids.rule("conversation").new(),
                "attributes": {"channel": channel},
                "relationships": {"profile": {"many": False, "data": [me]}},
            },
        )

    def _message(self, tx: StoreTx, account: str, conversation: Record, body: str, direction: str) -> Record:
        return tx.put(
            account,
            {
                "type": "conversation-message",
                "id": self.ids.rule("conversation-message").new(),
                "attributes": {
                    "body": body,
                    "direction": direction,
                    "channel": conversation["attributes"]["channel"],
                    "created": now(),
                    "timestamp": repr(time.time()),
                },
                "relationships": {
                    "conversation": {"many": False, "data": [{"type": "conversation", "id": conversation["id"]}]}
                },
            },
        )

    # -- the API side ------------------------------------------------------------------------------
    def create_message(self, req: MockRequest) -> MockResponse:
        data = req.body.get("data") if isinstance(req.body, dict) else None
        attributes = (data or {}).get("attributes") or {}
        text = attributes.get("body")
        if not isinstance(text, str) or not text.strip():
            raise invalid("Missing or empty message body.", pointer="/data/attributes/body")
        rel = (((data or {}).get("relationships") or {}).get("conversation") or {}).get("data") or {}
        conversation_id = rel.get("id") if isinstance(rel, dict) else None
        if not conversation_id:
            raise invalid("Missing conversation relationship.", pointer="/data/relationships/conversation")
        with self.store.transaction() as tx:
            conversation = tx.get(req.account, "conversation", str(conversation_id))
            if conversation is None or conversation["attributes"].get("blocked"):
                raise invalid(
                    f"Conversation {conversation_id} not found or blocked.",
                    pointer="/data/relationships/conversation/data/id",
                )
            channel = str(conversation["attributes"].get("channel") or "sms")
            # "Account not configured to send SMS" / "WhatsApp not enabled for the account": 403.
            refused = feature_refusal(read_settings(tx, req.account), channel if channel in FEATURES else "sms")
            if refused is not None:
                raise refused
            profile_ref = ((conversation.get("relationships") or {}).get("profile") or {}).get("data") or [{}]
            profile = tx.get(req.account, "profile", str(profile_ref[0].get("id")))
            if profile is None:
                raise invalid("Customer does not exist.")
            if not has_consent(profile, channel):
                raise invalid(f"Profile {profile['id']} does not have consent to receive {channel} messages.")
            limit = BODY_LIMITS.get(channel, BODY_LIMITS["sms"])
            if len(text) > limit:
                raise MockError(
                    413,
                    f"Message body is {len(text)} characters; the maximum for {channel} is {limit}.",
                    code="request_too_large",
                    pointer="/data/attributes/body",
                )
            message = self._message(tx, req.account, conversation, text, "outbound")
        return MockResponse(202, {"data": self._message_resource(req, message)})

    def _message_resource(self, req: MockRequest, message: Record) -> dict[str, Any]:
        attrs = {k: v for k, v in message["attributes"].items() if k != "timestamp"}
        conversation = message["relationships"]["conversation"]["data"][0]
        return {
            "type": "conversation-message",
            "id": message["id"],
            "attributes": attrs,
            "relationships": {"conversation": {"data": conversation}},
            "links": {"self": f"{req.base_url}/api/conversation-messages/{message['id']}/"},
        }

    def thread(self, tx: StoreTx, account: str, conversation_id: str) -> list[Record]:
        ref = {"type": "conversation", "id": conversation_id}
        messages = [
            m
            for m in tx.scan(account, "conversation-message")
            if ref in (((m.get("relationships") or {}).get("conversation") or {}).get("data") or [])
        ]
        return sorted(messages, key=lambda m: m["seq"], reverse=True)

    def conversation_for_profile(self, req: MockRequest, op: OpInfo) -> MockResponse:
        rid = req.path_params.get(op.id_param or "id", "")
        me = {"type": "profile", "id": rid}
        with self.store.transaction(write=False) as tx:
            if tx.get(req.account, "profile", rid) is None:
                raise not_found("profile", rid)
            mine = [
                c
                for c in tx.scan(req.account, "conversation")
                if me in (((c.get("relationships") or {}).get("profile") or {}).get("data") or [])
            ]
            threads = {c["id"]: self.thread(tx, req.account, c["id"]) for c in mine}
        links = {"self": f"{req.base_url}{request_path(req)}/"}
        if not mine:
            return MockResponse(200, {"data": None, "links": links})
        # The conversation with the latest message is "the" conversation of the profile.
        latest = max(mine, key=lambda c: threads[c["id"]][0]["seq"] if threads[c["id"]] else c["seq"])
        data = render_resource(self.index, latest, op.data_schema, req.base_url)
        thread = [self._message_resource(req, m) for m in threads[latest["id"]]]
        return MockResponse(200, {"data": data, "links": links, "included": thread})
