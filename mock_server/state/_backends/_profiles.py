"""Profiles: identifiers unique per account, and consent (the subscription bulk jobs and the
`subscriptions` blocks they leave on profiles, which Conversations checks before a reply may be sent)."""

from __future__ import annotations

from typing import Any, ClassVar

from mock_server import MockRequest

from .._models import Outcome, Record, now
from .._store import StoreTx
from ._base import Backend

__all__ = ["UNIQUE_IDENTIFIERS", "ProfilesBackend", "consent_blocks"]

# Identifiers Klaviyo keeps unique per account (its docs, not the spec, say so): a second profile with
# one of them is a 409 `duplicate_profile` naming the existing profile.
UNIQUE_IDENTIFIERS = ("email", "phone_number", "external_id")

# The request's channel names -> the profile attribute's (`push` is `mobile_push` on a profile).
_CHANNELS = {"email": "email", "sms": "sms", "whatsapp": "whatsapp", "push": "mobile_push"}
_CAN_RECEIVE = {
    ("email", "marketing"): "can_receive_email_marketing",
    ("sms", "marketing"): "can_receive_sms_marketing",
    ("sms", "transactional"): "can_receive_sms_transactional",
    ("mobile_push", "marketing"): "can_receive_push_marketing",
}


def consent_blocks(requested: dict[str, Any], *, subscribed: bool) -> dict[str, Any]:
    """`{"sms": {"marketing": {"consent": ...}}}` from a job -> the profile's `subscriptions` blocks."""
    stamp = now()
    consent = "SUBSCRIBED" if subscribed else "UNSUBSCRIBED"
    out: dict[str, Any] = {}
    for channel, kinds in (requested or {}).items():
        name = _CHANNELS.get(channel)
        if not name or not isinstance(kinds, dict):
            continue
        for kind, detail in kinds.items():
            if not isinstance(detail, dict) or "consent" not in detail:
                continue
            block = {
                "consent": consent,
                "consent_timestamp": detail.get("consented_at") or stamp,
                "last_updated": stamp,
                _CAN_RECEIVE.get((name, kind), "can_receive"): subscribed,
            }
            out.setdefault(name, {})[kind] = block
    return out


def _merge_subscriptions(profile: Record, blocks: dict[str, Any]) -> None:
    subscriptions = profile.setdefault("attributes", {}).get("subscriptions") or {}
    for channel, kinds in blocks.items():
        subscriptions.setdefault(channel, {}).update(kinds)
    profile["attributes"]["subscriptions"] = subscriptions


class ProfilesBackend(Backend):
    types: ClassVar[tuple[str, ...]] = ("profile",)

    def find_existing(self, tx: StoreTx, account: str, record: Record) -> Record | None:
        mine = record.get("attributes") or {}
        for key in UNIQUE_IDENTIFIERS:
            value = mine.get(key)
            if value in (None, ""):
                continue
            other = tx.find(account, "profile", key, value)
            if other is not None and other["id"] != record["id"]:
                return other
        return None

    def find_or_create(self, tx: StoreTx, account: str, identifiers: dict[str, Any], rid: str | None = None) -> Record:
        """The profile with this id or one of these identifiers, else a new one holding them (stored)."""
        profile = tx.get(account, "profile", rid) if rid else None
        if profile is None:
            profile = self.find_existing(tx, account, {"type": "profile", "id": "", "attributes": identifiers})
        if profile is None:
            stamp = now()
            profile = {
                "type": "profile",
                "id": rid or self.ids.rule("profile").new(identifiers),
                "attributes": {**identifiers, "created": stamp, "updated": stamp},
                "relationships": {},
            }
            tx.put(account, profile)
        return profile

    # -- consent -----------------------------------------------------------------------------------
    @staticmethod
    def is_consent_job(job_type: str) -> bool:
        return "subscription" in job_type.split("-") and job_type.endswith("-job")

    def consent_job(self, req: MockRequest) -> Outcome:
        account = req.account
        body = req.body
        data = body.get("data") if isinstance(body, dict) else {}
        data = data if isinstance(data, dict) else {}
        subscribed = "create" in str(data.get("type", "")).split("-")
        items = ((data.get("attributes") or {}).get("profiles") or {}).get("data") or []
        lists = ((data.get("relationships") or {}).get("list") or {}).get("data")
        touched: list[dict[str, str]] = []
        with self.store.transaction() as tx:
            for item in items:
                attrs = dict(item.get("attributes") or {}) if isinstance(item, dict) else {}
                requested = attrs.pop("subscriptions", {}) or {}
                identifiers = {k: attrs[k] for k in ("email", "phone_number") if attrs.get(k)}
                rid = str(item.get("id") or "") if isinstance(item, dict) else ""
                profile = tx.get(account, "profile", rid) if rid else None
                if profile is None:
                    profile = self.find_existing(tx, account, {"type": "profile", "id": "", "attributes": identifiers})
                if profile is None:
                    if not subscribed:
                        continue
                    profile = self.find_or_create(tx, account, identifiers, rid or None)
                _merge_subscriptions(profile, consent_blocks(requested, subscribed=subscribed))
                tx.put(account, profile)
                touched.append({"type": "profile", "id": profile["id"]})
            if subscribed and isinstance(lists, dict) and lists.get("id"):
                target = tx.get(account, "list", str(lists["id"]))
                if target is not None:
                    rel = target.setdefault("relationships", {}).setdefault("profiles", {"many": True, "data": []})
                    rel["data"] += [r for r in touched if r not in rel["data"]]
                    tx.put(account, target)
        return Outcome(202)
