"""Per-resource backends: each owns the Klaviyo rules of its types; the generic backend serves the rest.

To add a Klaviyo behaviour, change the backend of the type it is about (a new domain backend is a
`Backend` subclass naming its `types`, added to `Backends.domain`).
"""

from __future__ import annotations

from mock_server import IdRules, job_effect

from .._index import ResourceIndex
from .._limits import DEFAULT_LIMITS, ResourceLimits
from .._store import Store
from .._webhooks import WebhookSender
from ._aggregates import ROLLUPS, AggregatesBackend
from ._base import Backend, Call
from ._campaigns import CampaignsBackend
from ._catalogs import CatalogsBackend
from ._consent import apply_consent, consent_action
from ._conversations import BODY_LIMITS, ConversationsBackend, has_consent
from ._coupons import CouponsBackend
from ._events import EventsBackend, carries_events
from ._flows import FlowsBackend, expand_definition
from ._images import ImagesBackend
from ._jobs import JobsBackend
from ._lists import ListsBackend
from ._profiles import ConsentJobsBackend, ProfilesBackend
from ._reporting import ReportsBackend, report_subject
from ._tags import TagsBackend
from ._templates import TemplatesBackend

__all__ = [
    "BODY_LIMITS",
    "ROLLUPS",
    "AggregatesBackend",
    "Backend",
    "Backends",
    "Call",
    "CampaignsBackend",
    "CatalogsBackend",
    "ConversationsBackend",
    "CouponsBackend",
    "EventsBackend",
    "FlowsBackend",
    "ImagesBackend",
    "ListsBackend",
    "ProfilesBackend",
    "ReportsBackend",
    "TagsBackend",
    "TemplatesBackend",
    "apply_consent",
    "carries_events",
    "consent_action",
    "expand_definition",
    "has_consent",
    "report_subject",
]


class Backends:
    """The backend of each resource type."""

    def __init__(
        self,
        index: ResourceIndex,
        store: Store,
        ids: IdRules,
        webhooks: WebhookSender,
        limits: ResourceLimits = DEFAULT_LIMITS,
    ) -> None:
        self.webhooks = webhooks
        self.limits = limits
        self.generic = Backend(index, store, ids, self)
        self.jobs = JobsBackend(index, store, ids, self)
        self.profiles = ProfilesBackend(index, store, ids, self)
        self.conversations = ConversationsBackend(index, store, ids, self)
        self.events = EventsBackend(index, store, ids, self)
        self.campaigns = CampaignsBackend(index, store, ids, self)
        self.flows = FlowsBackend(index, store, ids, self)
        self.templates = TemplatesBackend(index, store, ids, self)
        self.catalogs = CatalogsBackend(index, store, ids, self)
        self.coupons = CouponsBackend(index, store, ids, self)
        self.aggregates = AggregatesBackend(index, store, ids, self)
        self.reports = ReportsBackend(index, store, ids, self)
        self.lists = ListsBackend(index, store, ids, self)
        self.consent_jobs = ConsentJobsBackend(index, store, ids, self)
        self.images = ImagesBackend(index, store, ids, self)
        self.tags = TagsBackend(index, store, ids, self)
        self.domain: tuple[Backend, ...] = (
            self.profiles,
            self.conversations,
            self.events,
            self.campaigns,
            self.flows,
            self.templates,
            self.catalogs,
            self.coupons,
            self.aggregates,
            self.lists,
            self.images,
            self.tags,
        )
        self._by_type: dict[str, Backend] = {rtype: backend for backend in self.domain for rtype in backend.types}
        # Consent jobs the spec keeps (readable back) are found by shape, not listed.
        for rtype in index.types:
            if self.profiles.is_consent_job(rtype):
                self._by_type.setdefault(rtype, self.consent_jobs)

    def for_type(self, resource_type: str) -> Backend:
        found = self._by_type.get(resource_type)
        if found is not None:
            return found
        return self.jobs if job_effect(resource_type) else self.generic
