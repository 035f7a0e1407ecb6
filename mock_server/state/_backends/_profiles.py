"""Profiles: identifiers unique per account, and consent (the subscription bulk jobs and the
`subscriptions` blocks they leave on profiles, which Conversations checks before a reply may be sent)."""

from __future__ import annotations

import builtins
import datetime as dt
from typing import Any, ClassVar

from mock_server import MockRequest

from .._errors import MockError, invalid, not_found
from .._models import Outcome, Record, Ref, merge, now
from .._store import BatchingTx, StoreTx
from ._base import Backend, Call
from ._consent import apply_consent, consent_action, default_subscriptions, list_suppression, requested_channels
from ._jobs import JobsBackend
from ._lists import per_call_limit

__all__ = ["UNIQUE_IDENTIFIERS", "ConsentJobsBackend", "ConsentRequest", "ProfilesBackend"]

# Identifiers Klaviyo keeps unique per account (its docs, not the spec, say so): a second profile with
# one of them is a 409 `duplicate_profile` naming the existing profile.
UNIQUE_IDENTIFIERS = ("email", "phone_number", "external_id")
_GROUP_TYPES = ("list", "segment")


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

    def prefetch_existing(self, tx: BatchingTx, account: str, records: list[Record]) -> None:
        for key in UNIQUE_IDENTIFIERS:
            values = [v for r in records if (v := (r.get("attributes") or {}).get(key)) not in (None, "")]
            if values:
                tx.prefetch(account, "profile", key, values)

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
            profile["attributes"]["subscriptions"] = default_subscriptions(profile["attributes"], stamp)
            tx.put(account, profile)
        return profile

    def complete_attributes(self, attrs: dict[str, Any], props: dict[str, Any]) -> None:
        # Every way a profile is made (create, import job, seed) starts with the consent Klaviyo shows for
        # it, never with consent invented from the schema's examples.
        if "subscriptions" in props and not isinstance(attrs.get("subscriptions"), dict):
            # (the moment the completion just stamped, when it did: one clock reading per create)
            attrs["subscriptions"] = default_subscriptions(attrs, str(attrs.get("updated") or now()))

    def before_write(self, call: Call, tx: StoreTx, record: Record, *, created: bool) -> None:
        attrs = record.setdefault("attributes", {})
        if not isinstance(attrs.get("subscriptions"), dict):
            attrs["subscriptions"] = default_subscriptions(attrs, now())
        else:
            email = (attrs["subscriptions"].get("email") or {}).get("marketing")
            if isinstance(email, dict) and email.get("consent") == "NEVER_SUBSCRIBED" and not email.get("suppression"):
                email["can_receive_email_marketing"] = bool(attrs.get("email"))

    # -- a profile's lists and segments (membership is the lists backend's) -------------------------
    def get(self, call: Call) -> Outcome:
        outcome = super().get(call)
        return self._with_groups(call, outcome)

    def list(self, call: Call) -> Outcome:
        return self._with_groups(call, super().list(call))

    def _with_groups(self, call: Call, outcome: Outcome) -> Outcome:
        """`include=segments`: segments computed from their definitions name their members on each profile
        returned, so the renderer includes them like stored relationships."""
        included = set((call.req.query.get("include") or "").split(","))
        wanted = [rtype for rtype in _GROUP_TYPES if f"{rtype}s" in included]
        if not wanted or not outcome.records:
            return outcome
        shown = []
        with self.store.transaction(write=False) as tx:
            for record in outcome.records:
                # A copy: a collection's records may be the store's own (never written to here).
                rels = dict(record.get("relationships") or {})
                for rtype in wanted:
                    refs = self.backends.lists.groups_of(tx, call.account, rtype, record["id"])
                    rels[f"{rtype}s"] = {"many": True, "data": refs}
                shown.append({**record, "relationships": rels})
        outcome.records = shown
        return outcome

    def relationship_get(self, call: Call) -> Outcome:
        if call.op.related_type not in _GROUP_TYPES:
            return super().relationship_get(call)
        with self.store.transaction(write=False) as tx:
            self.stored(tx, call.account, "profile", call.rid)
            refs = self.backends.lists.groups_of(tx, call.account, str(call.op.related_type), call.rid)
        return Outcome(call.op.status, refs=refs, many=True)

    def related(self, call: Call) -> Outcome:
        if call.op.related_type not in _GROUP_TYPES:
            return super().related(call)
        lists = self.backends.lists
        with self.store.transaction(write=False) as tx:
            self.stored(tx, call.account, "profile", call.rid)
            refs = lists.groups_of(tx, call.account, str(call.op.related_type), call.rid)
            records = [r for ref in refs if (r := tx.get(call.account, ref["type"], ref["id"])) is not None]
            page = self.query(call, tx, records)
        return Outcome(
            call.op.status,
            page.records,
            many=True,
            links="page",
            next_cursor=page.next_cursor,
            prev_cursor=page.prev_cursor,
        )

    # -- consent: the subscription and suppression jobs -------------------------------------------
    @staticmethod
    def is_consent_job(job_type: str) -> bool:
        return consent_action(job_type) is not None

    def consent_job(self, req: MockRequest) -> Outcome:
        """A consent job that is not kept (subscribe/unsubscribe: 202, no body)."""
        request = ConsentRequest.parse(req.body, self.description_of(req.operation_id))
        with self.store.transaction() as tx:
            self.change_consent(tx, req.account, request)
        return Outcome(202)

    def description_of(self, operation_id: str) -> str:
        return self.backends.lists.description_by_id(operation_id)

    def change_consent(self, tx: StoreTx, account: str, request: ConsentRequest) -> builtins.list[Ref]:
        """Apply one consent job; the profiles it touched."""
        stamp = now()
        groups = []
        for rtype, gid in request.groups:
            group = tx.get(account, rtype, gid)
            if group is None:
                raise MockError(
                    404,
                    f"A {rtype} with id {gid} does not exist.",
                    code="not_found",
                    title="Not found.",
                    pointer=f"/data/relationships/{rtype}/data/id",
                )
            groups.append(group)
        target_list = next((g for g in groups if g["type"] == "list"), None)
        action = request.action
        double_opt_in = (
            action == "subscribe"
            and target_list is not None
            and (target_list.get("attributes") or {}).get("opt_in_process") == "double_opt_in"
            and not request.historical_import
        )
        profiles: builtins.list[Record] = []
        for item in request.items:
            profile = self._consent_profile(tx, account, item, create=action != "unsuppress")
            if profile is not None:
                profiles.append(profile)
        if action in ("suppress", "unsuppress"):
            # A list or segment named instead of profiles: all of its current members.
            for group in groups:
                for pid in self.backends.lists.members(tx, account, group):
                    member = tx.get(account, "profile", pid)
                    if member is not None:
                        profiles.append(member)
        touched: builtins.list[Ref] = []
        lists = self.backends.lists
        for profile in profiles:
            ref = {"type": "profile", "id": profile["id"]}
            if ref in touched:
                continue
            touched.append(ref)
            channels = requested_channels(request.subscriptions.get(profile["id"]))
            if double_opt_in:
                continue  # Klaviyo asks the profile to confirm first; the mock never receives that confirmation
            on_list = target_list is not None and lists.is_member(tx, account, target_list, profile)
            if action == "unsubscribe" and target_list is not None and on_list:
                list_suppression(profile, target_list["id"], stamp)
                tx.put(account, profile)
                lists.remove_members(tx, account, target_list, [ref])  # (after: it rewrites the stored profile)
                continue
            profile["attributes"] = merge(profile.get("attributes") or {}, request.profile_attributes)
            apply_consent(profile, action, channels, stamp, method_detail=request.custom_source)
            profile["attributes"]["updated"] = stamp
            tx.put(account, profile)
        if action == "subscribe" and target_list is not None and not double_opt_in:
            lists.add_members(tx, account, target_list, touched)
        if target_list is not None:
            tx.put(account, target_list)
        return touched

    def _consent_profile(self, tx: StoreTx, account: str, item: ConsentItem, *, create: bool) -> Record | None:
        profile = tx.get(account, "profile", item.rid) if item.rid else None
        if profile is None:
            probe = {"type": "profile", "id": "", "attributes": item.identifiers}
            profile = self.find_existing(tx, account, probe) if item.identifiers else None
        if profile is None:
            if item.rid and not item.identifiers:
                raise not_found("profile", item.rid)
            if not create or not item.identifiers:
                return None
            profile = self.find_or_create(tx, account, item.identifiers)
        attrs = profile.setdefault("attributes", {})
        for key, value in item.identifiers.items():
            if not attrs.get(key):
                attrs[key] = value  # "this will be set on the profile"
        item.bind(profile["id"])
        return profile


def _with_default_channels(item: dict[str, Any]) -> dict[str, Any]:
    """ "If a subscriptions object is not provided, subscriptions are defaulted to MARKETING" (per identifier)."""
    attrs = _obj(item.get("attributes"))
    if isinstance(attrs.get("subscriptions"), dict):
        return item
    channels = {
        channel: {"marketing": {"consent": "SUBSCRIBED"}}
        for channel, key in (("email", "email"), ("sms", "phone_number"))
        if attrs.get(key)
    }
    return {**item, "attributes": {**attrs, "subscriptions": channels}}


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class ConsentItem:
    """One profile a consent job names: its id and/or identifiers, and the channels it asks for."""

    def __init__(self, rid: str, identifiers: dict[str, Any], subscriptions: Any, owner: ConsentRequest) -> None:
        self.rid = rid
        self.identifiers = identifiers
        self.subscriptions = subscriptions
        self._owner = owner

    def bind(self, profile_id: str) -> None:
        self._owner.subscriptions[profile_id] = self.subscriptions


class ConsentRequest:
    """A consent job's body, checked: Klaviyo's 400s for what its descriptions rule out."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.items: list[ConsentItem] = []
        self.groups: list[tuple[str, str]] = []
        self.historical_import = False
        self.custom_source: str | None = None
        self.subscriptions: dict[str, Any] = {}
        self.profile_attributes: dict[str, Any] = {}  # what a client subscription also sets on the profile

    @classmethod
    def parse(cls, body: Any, description: str) -> ConsentRequest:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise invalid("The request body must be a JSON:API document with `data`.", pointer="/data")
        action = consent_action(str(data.get("type") or ""))
        if action is None:
            raise invalid(f"`{data.get('type')}` is not a consent job type.", pointer="/data/type")
        request = cls(action)
        attrs = _obj(data.get("attributes"))
        request.historical_import = attrs.get("historical_import") is True
        source = attrs.get("custom_source")
        request.custom_source = source if isinstance(source, str) else None
        raw_items = _obj(attrs.get("profiles")).get("data")
        items: list[Any] = raw_items if isinstance(raw_items, list) else []
        single = _obj(attrs.get("profile")).get("data")
        if isinstance(single, dict):  # the client-side subscription: one profile, its channels by default
            items = [_with_default_channels(single)]
            request.profile_attributes = {
                k: v for k, v in _obj(single.get("attributes")).items() if k != "subscriptions" and v is not None
            }
        limit = per_call_limit(description)
        if limit is not None and len(items) > limit:
            raise invalid(
                f"At most {limit} profiles may be sent per call; {len(items)} were sent.",
                pointer="/data/attributes/profiles/data",
            )
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            # The pointer names the request's own place: `profile.data` (client) or `profiles.data/n` (jobs).
            pointer = (
                "/data/attributes/profile/data" if isinstance(single, dict) else f"/data/attributes/profiles/data/{n}"
            )
            item_attrs = _obj(item.get("attributes"))
            subscriptions = item_attrs.get("subscriptions")
            request._check_consented_at(subscriptions, pointer)
            identifiers = {k: item_attrs[k] for k in ("email", "phone_number") if isinstance(item_attrs.get(k), str)}
            identifiers = {k: v for k, v in identifiers.items() if v}
            rid = str(item.get("id") or "")
            if not rid and not identifiers:
                raise invalid("Each profile needs an id, an email or a phone number.", pointer=f"{pointer}/attributes")
            request.items.append(ConsentItem(rid, identifiers, subscriptions, request))
        for rel in _obj(data.get("relationships")).values():
            target = rel.get("data") if isinstance(rel, dict) else None
            if isinstance(target, dict) and target.get("id") and target.get("type") in _GROUP_TYPES:
                request.groups.append((str(target["type"]), str(target["id"])))
        if not request.items and not request.groups:
            # Point at the member left unfilled: the profiles' `data` when `profiles` is there, else `profiles`.
            where = (
                "/data/attributes/profiles/data"
                if isinstance(attrs.get("profiles"), dict)
                else "/data/attributes/profiles"
            )
            raise invalid("Name at least one profile, or a list or segment.", pointer=where)
        return request

    def _check_consented_at(self, subscriptions: Any, pointer: str) -> None:
        """`consented_at` only with `historical_import` (then required and in the past), as documented."""
        for _channel, _kind, detail in requested_channels(subscriptions):
            at = detail.get("consented_at")
            where = f"{pointer}/attributes/subscriptions"
            if at is not None and not self.historical_import:
                raise invalid("`consented_at` may only be sent with `historical_import: true`.", pointer=where)
            if self.historical_import and self.action == "subscribe":
                if at is None:
                    raise invalid("`historical_import` requires `consented_at` for each consent.", pointer=where)
                try:
                    when = dt.datetime.fromisoformat(str(at).replace("Z", "+00:00"))
                except ValueError:
                    raise invalid(f"`consented_at` is not a date-time: {str(at)[:40]!r}.", pointer=where) from None
                if when.tzinfo is None:
                    when = when.replace(tzinfo=dt.UTC)
                if when > dt.datetime.now(dt.UTC):
                    raise invalid("`consented_at` must be in the past.", pointer=where)


class ConsentJobsBackend(JobsBackend):
    """Consent jobs that are kept and can be read back (the suppression jobs): their profiles' consent
    changes as the job type says, never the generic create/delete of the profiles they carry."""

    types: ClassVar[tuple[str, ...]] = ()  # the consent job types the spec keeps, found by shape

    def run(self, call: Call, tx: StoreTx, job: Record) -> None:
        description = self.backends.lists.description_by_id(call.op.operation_id)
        request = ConsentRequest.parse(call.req.body, description)
        touched = self.backends.profiles.change_consent(tx, call.account, request)
        attrs = job.setdefault("attributes", {})
        attrs.pop("profiles", None)
        for name in ("total_count", "completed_count"):
            attrs[name] = len(touched)
        attrs["skipped_count"] = 0
        rels = job.setdefault("relationships", {})
        for rtype, gid in request.groups:
            rels[f"{rtype}s"] = {"many": True, "data": [{"type": rtype, "id": gid}]}
