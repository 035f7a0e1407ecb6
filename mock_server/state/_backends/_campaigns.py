"""Campaigns, their messages, and the jobs that send them or estimate their audience.

Klaviyo's lifecycle, as the spec's descriptions and Klaviyo's docs give it:
- a new campaign is a `Draft` (its inline `campaign-messages` are created with it; `send_strategy` defaults to
  `immediate`, as the create schema says);
- `POST /api/campaign-send-jobs` (id = the campaign's) queues it: the job is `queued`, the campaign `Scheduled`
  until the send time of its strategy (static/throttled `datetime`, smart-send `date`), or `Sending` when that
  time is now or past; `scheduled_at` is when it was queued, `send_time` (and its messages' `send_times`) when it
  goes out. Once the send time has passed, reads find the campaign `Sent` and its job `complete` (the mock sends
  at once: no real recipients);
- `PATCH /api/campaign-send-jobs/{id}` with `cancel` makes it `Cancelled` (for good), with `revert` a `Draft`
  again (its send times cleared); the job is `cancelled` either way. A campaign already sent can be neither;
- only a draft can be edited (`update_campaign`, `update_campaign_message`, assigning a template) or sent:
  anything else is a 400, as Klaviyo answers;
- a recipient estimation counts the distinct profiles of the included lists/segments, less the excluded ones,
  that the campaign's channel can reach (an email address / a phone number; not unsubscribed or suppressed).
  It is worked out when the campaign is created and again by each `campaign-recipient-estimation-job`;
- `campaign-clone` copies a campaign and its messages as a new draft.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from .._errors import MockError, invalid, not_found
from .._models import Outcome, Record, ref, refs_of
from .._store import StoreTx
from ._base import Backend, Call
from ._copies import copy_record, new_name

__all__ = ["CampaignsBackend"]

CAMPAIGN = "campaign"
MESSAGE = "campaign-message"
SEND_JOB = "campaign-send-job"
ESTIMATION_JOB = "campaign-recipient-estimation-job"
ESTIMATION = "campaign-recipient-estimation"
MESSAGES = "campaign-messages"  # the campaign's relationship to its messages

DRAFT, SCHEDULED, SENDING, SENT, CANCELLED = "Draft", "Scheduled", "Sending", "Sent", "Cancelled"
_ON_ITS_WAY = (SCHEDULED, SENDING)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def parse_time(value: Any, pointer: str) -> dt.datetime:
    """An ISO 8601 date or date-time (UTC when it names no offset); a clear 400 otherwise."""
    text = str(value)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"'{text[:60]}' is not an ISO 8601 date-time.", pointer=pointer) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def planned_send(strategy: Any) -> dt.datetime | None:
    """When a send strategy sends (None: immediately)."""
    if not isinstance(strategy, dict):
        return None
    pointer = "/data/attributes/send_strategy"
    if strategy.get("datetime"):
        return parse_time(strategy["datetime"], f"{pointer}/datetime")
    if strategy.get("date"):
        return parse_time(f"{strategy['date']}T00:00:00+00:00", f"{pointer}/date")
    return None


class CampaignsBackend(Backend):
    types: ClassVar[tuple[str, ...]] = (CAMPAIGN, MESSAGE, SEND_JOB, ESTIMATION_JOB, ESTIMATION)
    holds_state: ClassVar[bool] = True
    actions: ClassVar[frozenset[str]] = frozenset({"clone", "assign-template"})

    # -- completion --------------------------------------------------------------------------------
    def complete(self, record: Record, op: Any) -> None:
        attrs = record.setdefault("attributes", {})
        if record["type"] == CAMPAIGN:
            if not attrs.get("send_strategy"):
                attrs["send_strategy"] = {"method": "immediate"}  # "Defaults to 'Immediate' send strategy."
            for name in ("scheduled_at", "send_time"):
                attrs.setdefault(name, None)  # not yet sent by a send job
            attrs.setdefault("archived", False)
            # Klaviyo's name for a new campaign's state, also on revisions whose schema gives no enum for it.
            attrs.setdefault("status", DRAFT)
        super().complete(record, op)

    def after_write(self, call: Call, tx: StoreTx, record: Record, *, created: bool) -> None:
        if record["type"] == CAMPAIGN and created:
            self.store_estimation(tx, call.account, record)

    # -- the lifecycle -----------------------------------------------------------------------------
    def settle(self, tx: StoreTx, account: str, campaign: Record) -> Record:
        """The campaign as it is now: once its send time has passed, it is sent and its job complete."""
        if not _due(campaign, _utcnow()):
            return campaign
        campaign["attributes"]["status"] = SENT
        tx.put(account, campaign)
        job = tx.get(account, SEND_JOB, campaign["id"])
        if job is not None:
            job["attributes"]["status"] = "complete"
            tx.put(account, job)
        return campaign

    def settle_all(self, account: str) -> None:
        """Bring every campaign whose send time has passed to `Sent` (a write only when one has)."""
        stamp = _utcnow()
        with self.store.transaction(write=False) as tx:
            due = [r["id"] for r in tx.scan(account, CAMPAIGN) if _due(r, stamp)]
        if not due:
            return
        with self.store.transaction() as tx:
            for rid in due:
                found = tx.get(account, CAMPAIGN, rid)
                if found is not None:
                    self.settle(tx, account, found)

    def campaign(self, tx: StoreTx, account: str, rid: str) -> Record:
        return self.settle(tx, account, self.stored(tx, account, CAMPAIGN, rid))

    def campaign_of(self, tx: StoreTx, account: str, message: Record) -> Record | None:
        parents = refs_of(message, "campaign")
        return self.campaign(tx, account, parents[0]["id"]) if parents else None

    @staticmethod
    def require_draft(campaign: Record, doing: str) -> None:
        status = (campaign.get("attributes") or {}).get("status")
        if status != DRAFT:
            raise invalid(
                f"Campaign {campaign['id']} cannot be {doing}: its status is '{status}' and only a draft campaign "
                f"can be {doing} (revert a scheduled send to make it a draft again).",
                pointer="/data/id",
            )

    # -- reads see the lifecycle as of now ---------------------------------------------------------
    def get(self, call: Call) -> Outcome:
        self.settle_all(call.account)
        if call.op.resource_type == ESTIMATION:
            return self.estimation(call)
        return super().get(call)

    def list(self, call: Call) -> Outcome:
        self.settle_all(call.account)
        return super().list(call)

    def related(self, call: Call) -> Outcome:
        self.settle_all(call.account)
        return super().related(call)

    # -- writes ------------------------------------------------------------------------------------
    def create(self, call: Call) -> Outcome:
        if call.op.resource_type == SEND_JOB:
            return self.send(call)
        if call.op.resource_type == ESTIMATION_JOB:
            return self.estimate(call)
        return super().create(call)

    def update(self, call: Call) -> Outcome:
        rtype = call.op.resource_type
        if rtype == SEND_JOB:
            return self.cancel_or_revert(call)
        with self.store.transaction() as tx:
            if rtype == CAMPAIGN:
                self.require_draft(self.campaign(tx, call.account, call.rid), "updated")
            elif rtype == MESSAGE:
                parent = self.campaign_of(tx, call.account, self.stored(tx, call.account, MESSAGE, call.rid))
                if parent is not None:
                    self.require_draft(parent, "updated")
        return super().update(call)

    def remove(self, tx: StoreTx, account: str, record: Record) -> None:
        if record["type"] == CAMPAIGN:
            for message in refs_of(record, MESSAGES):
                tx.delete(account, MESSAGE, message["id"])
            for rtype in (SEND_JOB, ESTIMATION_JOB, ESTIMATION):  # they share the campaign's id
                tx.delete(account, rtype, record["id"])
        super().remove(tx, account, record)

    def send(self, call: Call) -> Outcome:
        cid = call.resource().id or ""
        with self.store.transaction() as tx:
            campaign = self.campaign(tx, call.account, cid)
            self.require_draft(campaign, "sent")
            attrs = campaign["attributes"]
            stamp = _utcnow()
            planned = planned_send(attrs.get("send_strategy"))
            goes_now = planned is None or planned <= stamp
            attrs["status"] = SENDING if goes_now else SCHEDULED
            attrs["scheduled_at"] = _iso(stamp)
            attrs["send_time"] = _iso(stamp if goes_now or planned is None else planned)
            attrs["updated_at"] = _iso(stamp)
            tx.put(call.account, campaign)
            self.set_send_times(tx, call.account, campaign)
            job: Record = {"type": SEND_JOB, "id": cid, "attributes": {"status": "queued"}, "relationships": {}}
            tx.put(call.account, job)
        return Outcome(call.op.status, [job], links="resource")

    def cancel_or_revert(self, call: Call) -> Outcome:
        action = call.resource().attributes.get("action")
        with self.store.transaction() as tx:
            job = self.stored(tx, call.account, SEND_JOB, call.rid)
            campaign = self.campaign(tx, call.account, call.rid)
            attrs = campaign["attributes"]
            if attrs.get("status") not in _ON_ITS_WAY:
                raise invalid(
                    f"Campaign {call.rid} is '{attrs.get('status')}': only a scheduled or sending campaign can be "
                    "cancelled or reverted.",
                    pointer="/data/id",
                )
            if action == "revert":
                attrs.update(status=DRAFT, scheduled_at=None, send_time=None)
            else:
                attrs["status"] = CANCELLED
            attrs["updated_at"] = _iso(_utcnow())
            self.set_send_times(tx, call.account, campaign)
            job["attributes"]["status"] = "cancelled"
            tx.put(call.account, campaign)
            tx.put(call.account, job)
        return Outcome(call.op.status)

    def set_send_times(self, tx: StoreTx, account: str, campaign: Record) -> None:
        """Each message's `send_times`: when its campaign goes out (cleared when it is reverted to a draft)."""
        attrs = campaign["attributes"]
        strategy = attrs.get("send_strategy") if isinstance(attrs.get("send_strategy"), dict) else {}
        is_local = bool(((strategy or {}).get("options") or {}).get("is_local"))
        times = [{"datetime": attrs["send_time"], "is_local": is_local}] if attrs.get("send_time") else None
        for message_ref in refs_of(campaign, MESSAGES):
            message = tx.get(account, MESSAGE, message_ref["id"])
            if message is not None:
                message.setdefault("attributes", {})["send_times"] = times
                tx.put(account, message)

    # -- recipient estimation ----------------------------------------------------------------------
    def estimate(self, call: Call) -> Outcome:
        cid = call.resource().id or ""
        with self.store.transaction() as tx:
            campaign = self.campaign(tx, call.account, cid)
            self.store_estimation(tx, call.account, campaign)
            job: Record = {"type": ESTIMATION_JOB, "id": cid, "attributes": {"status": "complete"}, "relationships": {}}
            tx.put(call.account, job)
        return Outcome(call.op.status, [job], links="resource")

    def estimation(self, call: Call) -> Outcome:
        with self.store.transaction() as tx:
            found = tx.get(call.account, ESTIMATION, call.rid)
            if found is None:
                campaign = tx.get(call.account, CAMPAIGN, call.rid)
                if campaign is None:
                    raise not_found(ESTIMATION, call.rid)
                found = self.store_estimation(tx, call.account, campaign)
        return Outcome(call.op.status, [found])

    def store_estimation(self, tx: StoreTx, account: str, campaign: Record) -> Record:
        count = len(self.recipients(tx, account, campaign))
        record: Record = {
            "type": ESTIMATION,
            "id": campaign["id"],
            "attributes": {"estimated_recipient_count": count},
            "relationships": {},
        }
        tx.put(account, record)
        return record

    def recipients(self, tx: StoreTx, account: str, campaign: Record) -> set[str]:
        audiences = (campaign.get("attributes") or {}).get("audiences") or {}
        channel = self.channel(tx, account, campaign)
        included = self.members(tx, account, audiences.get("included"))
        excluded = self.members(tx, account, audiences.get("excluded"))
        out = set()
        for pid in included - excluded:
            profile = tx.get(account, "profile", pid)
            if profile is not None and _reachable(profile, channel):
                out.add(pid)
        return out

    def members(self, tx: StoreTx, account: str, audience_ids: Any) -> set[str]:
        """The profiles of the lists/segments named (any type with a `profiles` relationship)."""
        holders = {
            op.resource_type for op in self.index.ops.values() if op.relationship == "profiles" and op.related_type
        }
        out: set[str] = set()
        for aid in audience_ids if isinstance(audience_ids, list) else []:
            for rtype in sorted(holders):
                holder = tx.get(account, rtype, str(aid))
                # The lists backend knows the members (a segment's may be computed from its definition).
                if holder is not None:
                    out |= set(self.backends.lists.members(tx, account, holder))
        return out

    @staticmethod
    def channel(tx: StoreTx, account: str, campaign: Record) -> str:
        for message_ref in refs_of(campaign, MESSAGES):
            message = tx.get(account, MESSAGE, message_ref["id"])
            definition = ((message or {}).get("attributes") or {}).get("definition") or {}
            if isinstance(definition, dict) and definition.get("channel"):
                return str(definition["channel"])
        return "email"

    # -- actions -----------------------------------------------------------------------------------
    def action(self, call: Call) -> Outcome:
        if call.op.action == "clone":
            return self.clone(call)
        return self.assign_template(call)

    def clone(self, call: Call) -> Outcome:
        incoming = call.resource()
        with self.store.transaction() as tx:
            source = self.stored(tx, call.account, CAMPAIGN, incoming.id or "")
            name = new_name(incoming.attributes, source, "new_name", "name")
            made = copy_record(source, self.ids.rule(CAMPAIGN).new(), name=name)
            get_op = self.index.ops.get(self.index.types[CAMPAIGN].get_op or "")
            messages = []
            for message_ref in refs_of(source, MESSAGES):
                message = tx.get(call.account, MESSAGE, message_ref["id"])
                if message is None:
                    continue
                twin = copy_record(message, self.ids.rule(MESSAGE).new())
                twin["relationships"]["campaign"] = {"many": False, "data": [ref(made)]}
                for kept in ("template", "image"):
                    if kept in (message.get("relationships") or {}):
                        twin["relationships"][kept] = message["relationships"][kept]
                self.complete(twin, self.index.ops.get(self.index.types[MESSAGE].get_op or ""))
                tx.put(call.account, twin)
                messages.append(ref(twin))
            made["relationships"][MESSAGES] = {"many": True, "data": messages}
            if "tags" in (source.get("relationships") or {}):
                made["relationships"]["tags"] = source["relationships"]["tags"]
            self.complete(made, get_op)
            tx.put(call.account, made)
            self.store_estimation(tx, call.account, made)
        return Outcome(call.op.status, [made], links="resource")

    def assign_template(self, call: Call) -> Outcome:
        """ "Creates a non-reusable version of the template and assigns it to the message.\""""
        incoming = call.resource()
        template_refs = (incoming.relationships.get("template") or {}).get("data") or []
        if not template_refs:
            raise invalid("Name the template to assign.", pointer="/data/relationships/template")
        with self.store.transaction() as tx:
            message = self.stored(tx, call.account, MESSAGE, incoming.id or "")
            parent = self.campaign_of(tx, call.account, message)
            if parent is not None:
                self.require_draft(parent, "given a template")
            template = self.stored(tx, call.account, "template", template_refs[0]["id"])
            version = copy_record(template, self.ids.rule("template").new())
            templates = self.backends.for_type("template")
            templates.complete(version, self.index.ops.get(self.index.types["template"].get_op or ""))
            tx.put(call.account, version)
            message.setdefault("relationships", {})["template"] = {"many": False, "data": [ref(version)]}
            tx.put(call.account, message)
        return Outcome(call.op.status, [message])


def _due(campaign: Record, stamp: dt.datetime) -> bool:
    attrs = campaign.get("attributes") or {}
    if attrs.get("status") not in _ON_ITS_WAY or not attrs.get("send_time"):
        return False
    try:
        return parse_time(attrs["send_time"], "/data/attributes/send_time") <= stamp
    except MockError:
        return False


def _reachable(profile: Record, channel: str) -> bool:
    """Can a campaign on `channel` reach this profile (an address for it; not unsubscribed or suppressed)?"""
    attrs = profile.get("attributes") or {}
    address = {"email": "email", "sms": "phone_number"}.get(channel)
    if address and not attrs.get(address):
        return False
    consent = ((attrs.get("subscriptions") or {}).get(channel) or {}).get("marketing") or {}
    if consent.get("consent") == "UNSUBSCRIBED" or consent.get("suppression"):
        return False
    return channel != "sms" or consent.get("consent") == "SUBSCRIBED"
