"""Per-resource backends: each owns the Klaviyo rules of its types; the generic backend serves the rest.

To add a Klaviyo behaviour, change the backend of the type it is about (a new domain backend is a
`Backend` subclass naming its `types`, added to `Backends.domain`).
"""

from __future__ import annotations

from mock_server import IdRules, job_effect

from .._index import ResourceIndex
from .._store import Store
from .._webhooks import WebhookSender
from ._base import Backend, Call
from ._conversations import BODY_LIMITS, ConversationsBackend, has_consent
from ._events import EventsBackend, carries_events
from ._jobs import JobsBackend
from ._profiles import ProfilesBackend, consent_blocks

__all__ = [
    "BODY_LIMITS",
    "Backend",
    "Backends",
    "Call",
    "ConversationsBackend",
    "EventsBackend",
    "ProfilesBackend",
    "carries_events",
    "consent_blocks",
    "has_consent",
]


class Backends:
    """The backend of each resource type."""

    def __init__(self, index: ResourceIndex, store: Store, ids: IdRules, webhooks: WebhookSender) -> None:
        self.webhooks = webhooks
        self.generic = Backend(index, store, ids, self)
        self.jobs = JobsBackend(index, store, ids, self)
        self.profiles = ProfilesBackend(index, store, ids, self)
        self.conversations = ConversationsBackend(index, store, ids, self)
        self.events = EventsBackend(index, store, ids, self)
        self.domain: tuple[Backend, ...] = (self.profiles, self.conversations, self.events)
        self._by_type = {rtype: backend for backend in self.domain for rtype in backend.types}

    def for_type(self, resource_type: str) -> Backend:
        found = self._by_type.get(resource_type)
        if found is not None:
            return found
        return self.jobs if job_effect(resource_type) else self.generic
