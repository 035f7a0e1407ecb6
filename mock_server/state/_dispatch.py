"""Dispatch: which backend method answers an operation, and the one place errors become responses."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from kdk.spec import iter_operations
from mock_server import MockError, MockRequest, MockResponse, id_rules

from ._backends import Backends, Call, carries_events, consent_action, report_subject
from ._collections import QueryError
from ._index import Kind, OpInfo, ResourceIndex
from ._limits import DEFAULT_LIMITS, ResourceLimits
from ._models import Outcome
from ._render import Renderer
from ._schema import flatten, json_body_schema, success_response
from ._store import Store
from ._webhooks import WebhookSender

__all__ = ["Dispatcher"]

_CONVERSATION_MESSAGE_TYPE = "conversation-message"

_METHODS: dict[Kind, str] = {
    Kind.CREATE: "create",
    Kind.GET: "get",
    Kind.LIST: "list",
    Kind.UPDATE: "update",
    Kind.DELETE: "delete",
    Kind.REL_GET: "relationship_get",
    Kind.REL_ADD: "relationship_change",
    Kind.REL_REMOVE: "relationship_change",
    Kind.REL_REPLACE: "relationship_change",
    Kind.RELATED: "related",
    Kind.UPSERT: "upsert",
    Kind.ACTION: "action",
}


class Dispatcher:
    def __init__(
        self, index: ResourceIndex, store: Store, webhooks: WebhookSender, limits: ResourceLimits = DEFAULT_LIMITS
    ) -> None:
        self.index = index
        self.store = store
        self.backends = Backends(index, store, id_rules(index.spec), webhooks, limits)
        self.renderer = Renderer(index, store)
        # create_conversation_message has no readable collection, so it is not a CREATE in the index;
        # nor are the subscription bulk jobs (they can only be posted), which set consent.
        self._message_ops = index.posts_by_request_type.get(_CONVERSATION_MESSAGE_TYPE, frozenset())
        self._consent_ops = {
            op.operation_id
            for op in iter_operations(index.spec)
            if op.method == "post"
            and op.operation_id not in index.ops
            and _carries_consent(index, json_body_schema(index.spec, op.node.get("requestBody")))
        }

        # Queries answered from stored data (aggregates, reports), by the shape of their request body.
        self._query_ops: dict[str, tuple[Callable[[MockRequest, Any], MockResponse], Any]] = {}
        for op in iter_operations(index.spec):
            if op.method != "post" or op.operation_id in index.ops:
                continue
            schema = json_body_schema(index.spec, op.node.get("requestBody"))
            if self.backends.aggregates.answers(index.spec, schema):
                self._query_ops[op.operation_id] = (self.backends.aggregates.aggregate, schema)
            elif subject := report_subject(index.spec, schema, index.types):
                self._query_ops[op.operation_id] = (partial(self.backends.reports.report, subject=subject), schema)

        # Bulk event creates (a job, or the client's bulk entry) carry events a few levels down: by shape.
        self._event_ops = {
            op.operation_id
            for op in iter_operations(index.spec)
            if op.method == "post"
            and op.operation_id not in index.ops
            and carries_events(index.spec, json_body_schema(index.spec, op.node.get("requestBody")))
        }

        # Multipart uploads that store a resource (`upload_image_from_file`): the backend's `upload`.
        self._upload_ops: dict[str, str] = {}
        for op in iter_operations(index.spec):
            content = (op.node.get("requestBody") or {}).get("content") or {}
            if op.method == "post" and op.operation_id not in index.ops and "multipart/form-data" in content:
                rtype = _response_type(index, op.node)
                if rtype in index.types and index.types[rtype].get_op:
                    self._upload_ops[op.operation_id] = rtype

    def is_stateful(self, op: OpInfo, account: str) -> bool:
        info = self.index.types.get(op.resource_type)
        if info and info.creatable:
            return True
        if self.backends.for_type(op.resource_type).holds_state:
            return True  # a domain backend's type: an unknown id is a 404, not a generated resource
        with self.store.transaction(write=False) as tx:
            return op.resource_type in tx.types(account)

    def handle(self, req: MockRequest) -> MockResponse | None:
        """The stateful answer, or None to let the core answer with a schema-generated body."""
        try:
            return self._answer(req)
        except QueryError as exc:
            return _domain_rule(MockError(400, exc.detail, code="invalid", parameter=exc.parameter).response())
        except MockError as exc:
            return _domain_rule(exc.response())

    def _answer(self, req: MockRequest) -> MockResponse | None:
        if req.operation_id in self.index.oauth_only and req.auth_kind != "oauth":
            raise MockError(
                403,
                "The Conversations API accepts OAuth access tokens only; private API keys are not supported.",
                code="permission_denied",
            )
        if req.operation_id in self._message_ops:
            return self.backends.conversations.create_message(req)
        query = self._query_ops.get(req.operation_id)
        if query is not None:
            answer, schema = query
            return answer(req, schema)
        if req.operation_id in self._event_ops:
            self.backends.events.track_request(req)
            return MockResponse(202, None)
        if req.operation_id in self._consent_ops:
            outcome = self.backends.profiles.consent_job(req)
            return MockResponse(outcome.status, None)
        if req.operation_id in self._upload_ops:
            return self._upload(req, self._upload_ops[req.operation_id])
        op = self.index.ops.get(req.operation_id)
        if op is None:
            return None
        if "filter" in req.query and not op.filter_documented:
            # A filter the operation does not take is refused, never ignored (a single read, a to-one relationship).
            raise QueryError("filter", "Filtering is not supported on this endpoint.")
        if op.kind is Kind.RELATED and op.related_type == "conversation" and not op.data_is_list:
            return self.backends.conversations.conversation_for_profile(req, op)
        if not self.is_stateful(op, req.account):
            return None
        backend = self.backends.for_type(op.resource_type)
        if op.kind is Kind.ACTION and op.action not in backend.actions:
            return None  # an action no backend models yet: the schema-generated answer
        method: Callable[[Call], Outcome] = getattr(backend, _METHODS[op.kind])
        outcome = method(Call(req, op))
        return self.renderer.response(req, op, outcome)

    def _upload(self, req: MockRequest, rtype: str) -> MockResponse | None:
        backend = self.backends.for_type(rtype)
        upload: Callable[[Call], Outcome] | None = getattr(backend, "upload", None)
        get_op = self.index.ops[self.index.types[rtype].get_op or ""]
        if upload is None:
            return None
        return self.renderer.response(req, get_op, upload(Call(req, get_op)))


def _response_type(index: ResourceIndex, node: dict[str, Any]) -> str | None:
    """The single `data.type` a success response carries."""
    _status, response = success_response(index.spec, node)
    data = flatten(index.spec, ((response or {}).get("properties") or {}).get("data"))
    values = flatten(index.spec, (data.get("properties") or {}).get("type")).get("enum") or []
    return str(values[0]) if len(values) == 1 else None


def _carries_consent(index: ResourceIndex, body: dict[str, Any] | None) -> bool:
    """A consent request, by shape: its `data` names profiles (`attributes.profile(s)`) and a `list`
    relationship, and its type is a consent change (subscribe/unsubscribe jobs, the client subscription)."""
    data = flatten(index.spec, ((body or {}).get("properties") or {}).get("data"))
    props = data.get("properties") or {}
    attrs = flatten(index.spec, props.get("attributes")).get("properties") or {}
    rels = flatten(index.spec, props.get("relationships")).get("properties") or {}
    types = flatten(index.spec, props.get("type")).get("enum") or []
    return (
        bool({"profile", "profiles"} & set(attrs))
        and "list" in rels
        and len(types) == 1
        and consent_action(str(types[0])) is not None
    )


# Every request reaching this layer has passed the core's schema validation, so a 400 here enforces a rule the
# spec states beyond its schemas (in descriptions and the API overview). The header says so, for tools that
# judge requests by the schema alone (the contract suite's positive_data_acceptance exclusion).
DOMAIN_RULE_HEADER = "x-kdk-mock-rule"


def _domain_rule(response: MockResponse) -> MockResponse:
    if response.status == 400:
        response.headers = {**response.headers, DOMAIN_RULE_HEADER: "domain"}
    return response
