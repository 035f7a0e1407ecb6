"""Consent: the subscription bulk jobs (`profile-subscription-bulk-create/delete-job`) and the consent
blocks they leave on profiles, which Conversations checks before a reply may be sent."""

from __future__ import annotations

from typing import Any

from mock_server import MockRequest, MockResponse

from ._ids import new_id
from ._index import ResourceIndex
from ._resources import find_duplicate, now
from ._store import Record, Store

__all__ = ["ConsentJobs", "consent_blocks"]

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


class ConsentJobs:
    def __init__(self, index: ResourceIndex, store: Store) -> None:
        self.index = index
        self.store = store

    def handles(self, job_type: str) -> bool:
        return "subscription" in job_type.split("-") and job_type.endswith("-job")

    def run(self, req: MockRequest, status: int) -> MockResponse:
        data = req.body.get("data") if isinstance(req.body, dict) else {}
        data = data if isinstance(data, dict) else {}
        subscribed = "create" in str(data.get("type", "")).split("-")
        items = ((data.get("attributes") or {}).get("profiles") or {}).get("data") or []
        lists = ((data.get("relationships") or {}).get("list") or {}).get("data")
        info = self.index.types.get("profile")
        touched: list[dict[str, str]] = []
        with self.store.transaction() as tx:
            for item in items:
                attrs = dict(item.get("attributes") or {}) if isinstance(item, dict) else {}
                requested = attrs.pop("subscriptions", {}) or {}
                identifiers = {k: attrs[k] for k in ("email", "phone_number") if attrs.get(k)}
                probe: Record = {"type": "profile", "id": str(item.get("id") or ""), "attributes": identifiers}
                profile = tx.get(req.account, "profile", probe["id"]) if probe["id"] else None
                if profile is None:
                    found = find_duplicate(tx, req.account, {**probe, "id": ""})
                    profile = found[1] if found else None
                if profile is None:
                    if not subscribed:
                        continue
                    stamp = now()
                    profile = {
                        "type": "profile",
                        "id": probe["id"] or new_id(info.id_shape if info else "ulid"),
                        "attributes": {**identifiers, "created": stamp, "updated": stamp},
                        "relationships": {},
                    }
                _merge_subscriptions(profile, consent_blocks(requested, subscribed=subscribed))
                tx.put(req.account, profile)
                touched.append({"type": "profile", "id": profile["id"]})
            if subscribed and isinstance(lists, dict) and lists.get("id"):
                target = tx.get(req.account, "list", str(lists["id"]))
                if target is not None:
                    rel = target.setdefault("relationships", {}).setdefault("profiles", {"many": True, "data": []})
                    rel["data"] += [ref for ref in touched if ref not in rel["data"]]
                    tx.put(req.account, target)
        return MockResponse(status, None)
