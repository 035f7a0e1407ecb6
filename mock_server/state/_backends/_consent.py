"""Consent on a profile: the `subscriptions` blocks the subscription and suppression jobs change.

The rules are Klaviyo's documented ones (the operations' descriptions and the consent guide):
- subscribe sets the requested channels to SUBSCRIBED (method `API`; the job's `custom_source` is the
  email's `custom_method_detail`) and lifts the `UNSUBSCRIBE`, `SPAM_COMPLAINT`, `USER_SUPPRESSED` suppressions;
- unsubscribe from a list the profile is on removes it from that list only (an email list suppression);
  otherwise it unsubscribes globally: UNSUBSCRIBED, plus an `UNSUBSCRIBE` email suppression;
- suppress adds a `USER_SUPPRESSED` email suppression; unsuppress removes only that reason;
- `can_receive_email_marketing` is true while no global suppression remains (implicit consent).
"""

from __future__ import annotations

from typing import Any

from .._models import Record

__all__ = [
    "ConsentAction",
    "apply_consent",
    "consent_action",
    "default_subscriptions",
    "list_suppression",
    "requested_channels",
]

ConsentAction = str  # "subscribe" | "unsubscribe" | "suppress" | "unsuppress"

# The request's channel names -> the profile attribute's (`push` is `mobile_push` on a profile).
_CHANNELS = {"email": "email", "sms": "sms", "whatsapp": "whatsapp", "push": "mobile_push"}
_CAN_RECEIVE = {
    ("email", "marketing"): "can_receive_email_marketing",
    ("sms", "marketing"): "can_receive_sms_marketing",
    ("sms", "transactional"): "can_receive_sms_transactional",
    ("mobile_push", "marketing"): "can_receive_push_marketing",
}
_LIFTED_BY_SUBSCRIBE = {"UNSUBSCRIBE", "SPAM_COMPLAINT", "SPAM_REPORT", "USER_SUPPRESSED"}
NEVER = "NEVER_SUBSCRIBED"


def consent_action(job_type: str) -> ConsentAction | None:
    """Which consent change a job type makes, from its name's words (`profile-suppression-bulk-delete-job`);
    a single `subscription` (the client-side create) subscribes."""
    words = set(job_type.split("-"))
    if job_type == "subscription":
        return "subscribe"
    if not job_type.endswith("-job") or "profile" not in words:
        return None
    if "subscription" in words:
        return "unsubscribe" if "delete" in words else "subscribe"
    if "suppression" in words:
        return "unsuppress" if "delete" in words else "suppress"
    return None


def _can_receive_key(channel: str, kind: str) -> str:
    return _CAN_RECEIVE.get((channel, kind), "can_receive")


def default_subscriptions(attrs: dict[str, Any], stamp: str) -> dict[str, Any]:
    """What a profile nobody subscribed shows: never subscribed; email marketing implicitly allowed."""
    email: dict[str, Any] = {
        "consent": NEVER,
        "consent_timestamp": None,
        "last_updated": None,
        "method": None,
        "method_detail": None,
        "can_receive_email_marketing": bool(attrs.get("email")),
        "suppression": [],
        "list_suppressions": [],
    }
    sms = {"consent": NEVER, "can_receive_sms_marketing": False, "consent_timestamp": None, "last_updated": None}
    return {"email": {"marketing": email}, "sms": {"marketing": sms}}


def requested_channels(subscriptions: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(profile channel, kind, request detail) for each channel/kind a job names."""
    out = []
    for channel, kinds in (subscriptions or {}).items() if isinstance(subscriptions, dict) else ():
        name = _CHANNELS.get(channel)
        if not name or not isinstance(kinds, dict):
            continue
        for kind, detail in kinds.items():
            if isinstance(detail, dict):
                out.append((name, kind, detail))
    return out


def _block(profile: Record, channel: str, kind: str, stamp: str) -> dict[str, Any]:
    attrs = profile.setdefault("attributes", {})
    subs = attrs.get("subscriptions")
    if not isinstance(subs, dict):
        subs = attrs["subscriptions"] = default_subscriptions(attrs, stamp)
    block = subs.setdefault(channel, {}).setdefault(kind, {})
    if not isinstance(block, dict):
        block = subs[channel][kind] = {}
    block.setdefault("consent", NEVER)
    out: dict[str, Any] = block
    return out


def _email_suppressions(profile: Record, stamp: str) -> dict[str, Any]:
    block = _block(profile, "email", "marketing", stamp)
    block.setdefault("suppression", [])
    block.setdefault("list_suppressions", [])
    return block


def _refresh_email(block: dict[str, Any]) -> None:
    block["can_receive_email_marketing"] = not block.get("suppression") and block.get("consent") != "UNSUBSCRIBED"


def apply_consent(
    profile: Record,
    action: ConsentAction,
    channels: list[tuple[str, str, dict[str, Any]]],
    stamp: str,
    *,
    method_detail: str | None = None,
) -> None:
    """Change `profile`'s subscriptions in place (global consent; list membership is the caller's)."""
    if action in ("subscribe", "unsubscribe"):
        consent = "SUBSCRIBED" if action == "subscribe" else "UNSUBSCRIBED"
        for channel, kind, detail in channels:
            block = _block(profile, channel, kind, stamp)
            block.update(
                consent=consent,
                consent_timestamp=detail.get("consented_at") or stamp,
                last_updated=stamp,
                method="API",
                method_detail="",
            )
            block[_can_receive_key(channel, kind)] = action == "subscribe"
            if (channel, kind) == ("email", "marketing"):
                block["custom_method_detail"] = method_detail
                email = _email_suppressions(profile, stamp)
                if action == "subscribe":
                    email["suppression"] = [
                        s for s in email["suppression"] if s.get("reason") not in _LIFTED_BY_SUBSCRIBE
                    ]
                    email["list_suppressions"] = []
                elif not any(s.get("reason") == "UNSUBSCRIBE" for s in email["suppression"]):
                    email["suppression"].append({"reason": "UNSUBSCRIBE", "timestamp": stamp})
                _refresh_email(email)
        return
    email = _email_suppressions(profile, stamp)
    if action == "suppress":
        if not any(s.get("reason") == "USER_SUPPRESSED" for s in email["suppression"]):
            email["suppression"].append({"reason": "USER_SUPPRESSED", "timestamp": stamp})
    else:
        email["suppression"] = [s for s in email["suppression"] if s.get("reason") != "USER_SUPPRESSED"]
    email["last_updated"] = stamp
    _refresh_email(email)


def list_suppression(profile: Record, list_id: str, stamp: str) -> None:
    """Unsubscribed from one list only: Klaviyo records it as an email list suppression."""
    email = _email_suppressions(profile, stamp)
    if not any(s.get("list_id") == list_id for s in email["list_suppressions"]):
        email["list_suppressions"].append({"list_id": list_id, "reason": "UNSUBSCRIBE", "timestamp": stamp})
    email["last_updated"] = stamp
