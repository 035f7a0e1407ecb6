"""Every exclusion from the contract suite, in one place, each with the reason it exists.

Rules, not lists of names where a rule exists: an exclusion chosen by the spec's shape keeps applying to
revisions nobody has looked at yet. An exclusion never hides a mock bug: "fix the mock, not the check".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EXAMPLES_PHASE_MAX_COMPOSITION_DEPTH",
    "EXCLUSIONS",
    "KNOWN_CLIENT_FAILURES",
    "Exclusion",
    "is_excluded_failure",
]


@dataclass(frozen=True)
class Exclusion:
    what: str  # the operations or checks concerned, as a rule or an operationId
    scope: str  # what is skipped for them: "examples phase", a check name, ...
    reason: str


# Request bodies nesting more composition layers than this skip schemathesis' examples and coverage phases
# (fuzzing and stateful phases still run on them). See contract_tests/_depth.py and README.md ("Contract tests"): the
# example walk of schemathesis 4.32 doubles per layer; on 2026-07-15 this selects create_flow and
# update_flow_action (13 layers, ~10 min each), and keeps create_template/update_template (10 layers, ~3 s)
# and the segment operations (7-8 layers, ~5 s).
EXAMPLES_PHASE_MAX_COMPOSITION_DEPTH = 11

EXCLUSIONS: list[Exclusion] = [
    Exclusion(
        what=f"operations whose request body nests more than {EXAMPLES_PHASE_MAX_COMPOSITION_DEPTH} oneOf/anyOf/"
        "nullable layers (2026-07-15: create_flow, update_flow_action)",
        scope="schemathesis examples and coverage phases",
        reason="schemathesis 4.32 walks every path through the body schema and every composed property twice "
        "(its own walk plus each alternative's), so example extraction doubles per nested layer and runs for "
        "~10 minutes per operation before the first request. Its coverage phase enumerates mutations of the "
        "same tree and took 166 s (stub app) to >290 s (mock) for create_flow alone. Fuzzing (every check) and "
        "the stateful phase still test these operations.",
    ),
    Exclusion(
        what="an empty sparse fieldset `fields[<type>]=` (every GET with `fields[...]`)",
        scope="negative_data_rejection",
        reason="The spec's `fields[...]` arrays have an enum of attribute names, so schemathesis counts an empty "
        "value as schema-violating and expects a 4xx; the real API accepts it (no attributes selected) and the "
        "mock does the same on purpose (mock issue: 'empty fields[x]= handled like the real API'). Only that "
        "case is dropped: any other invalid value in the same request still fails the check.",
    ),
    Exclusion(
        what="operations that document no 4xx response (no 4xx code, no 4XX range, no default; e.g. "
        "create_client_subscription on 2023-06-15, which documents only 202)",
        scope="negative_data_rejection",
        reason="The mock answers only documented statuses (status_code_conformance), so it cannot reject invalid "
        "data with a 4xx the operation does not document: it answers the documented status and names the error "
        "in `x-kdk-mock-undocumented-status` / `x-kdk-mock-error-detail`. The two checks cannot both pass on such "
        "an operation; the spec's own status list wins. As soon as a revision (or the overlay) documents a 4xx "
        "for the operation, this exclusion stops applying to it.",
    ),
    Exclusion(
        what="a create whose client-chosen id (`data.id`, or a `data.attributes` string an id is built from, such "
        "as a coupon's `external_id`; also in the resource objects a bulk job carries) holds a control character "
        "(U+0000-U+001F, U+007F-U+009F)",
        scope="positive_data_acceptance (a 400 answer only)",
        reason="The spec puts no pattern on these strings, so schemathesis generates NUL and other control "
        "characters as valid data; the stateful mock refuses them with a Klaviyo-style 400 pointing at the field, "
        "because such an id cannot round-trip through a URL path or be stored faithfully (issue 17). Ids in path "
        "parameters are not refused (they are looked up and answer 404, which the check accepts).",
    ),
    Exclusion(
        what="an event create (a body with a `profile` and a `metric` or `events`: create_event, bulk_create_events "
        "and their `/client/` twins) whose profile carries no identifier: no `id`, `email`, `phone_number` or "
        "`external_id`",
        scope="positive_data_acceptance",
        reason="The schema makes every profile attribute optional, so schemathesis counts `profile: {attributes: "
        "{}}` as valid, but the operation's description documents that 'at a minimum, profile ... objects should "
        "include at least one profile identifier' (create_event, bulk_create_events; the `/client/` twins create "
        "the same events and point to them); an event for nobody cannot be tracked, and the mock answers "
        "Klaviyo's 400 naming `/data/attributes/profile/data`. Only requests with no identifier anywhere in "
        "their profile are dropped.",
    ),
    Exclusion(
        what="a bulk event create whose batch is empty (`events-bulk-create.data: []`, `events.data: []`) on the "
        "same operations",
        scope="positive_data_acceptance",
        reason="The spec documents the batch's upper bound ('Accepts up to 1,000 events per request') and no "
        "`minItems`; a batch of nothing creates no events, and the stateful mock answers 400 ('The request "
        "carries no event to track.'), as the events backend chose (findings.md, fuzz 2026-12-01: to be "
        "confirmed against Klaviyo). Only requests whose every event list is empty are dropped.",
    ),
    Exclusion(
        what="a request the mock refuses with a 400 whose `source.pointer` names a member the request body leaves "
        "unfilled (absent from its object, or an empty list, string or object, or an object holding only empty "
        "values): a batch of no profiles, no "
        "`measurements`, a profile with no attribute, an `import_from_url` of ''",
        scope="positive_data_acceptance (a 400 answer only)",
        reason="The schemas set no minItems/minLength/minProperties on these members, so schemathesis counts them "
        "as valid, but the operations' descriptions need them filled (at least one profile, list or segment; the "
        "measurements to compute; a profile identifier; the URL to import), and Klaviyo answers a 400 naming the "
        "member. Only a refusal that points at a member which is empty in that very request is dropped: a 400 "
        "pointing anywhere else, or at a filled member, stays a failure.",
    ),
    Exclusion(
        what="a series report (a body with `interval` and `timeframe`) refused with a 400 at `/data/attributes/"
        "timeframe` because the timeframe is longer than its interval allows",
        scope="positive_data_acceptance (a 400 answer only)",
        reason="The limit is documented only in the prose of the `interval` member ('If monthly is used, the "
        "timeframe cannot be longer than 52 weeks'), so schemathesis pairs any timeframe with any interval; the "
        "mock reads the limit from that description and refuses as Klaviyo does. Only that refusal (its error "
        "says 'cannot be longer than') is dropped; any other timeframe refusal stays a failure.",
    ),
    Exclusion(
        what="a request refused with a 400 whose pointer names a `*url` string member (e.g. `import_from_url`) "
        "holding something that is not an absolute URL",
        scope="positive_data_acceptance (a 400 answer only)",
        reason="These members are plain strings in the schema (no `format: uri`), but their descriptions say what "
        "they hold ('An existing image url to import. Also accepts data URIs'); the mock refuses a value that is "
        "not one, as Klaviyo, which has to fetch it, does. A refusal of a value that is an absolute URL (or a "
        "data URI) stays a failure.",
    ),
    Exclusion(
        what="a request the stateful mock refuses with a 400 from a domain rule (`x-kdk-mock-rule: domain`: the "
        "request passed the mock's schema validation; a rule the spec states beyond its schemas refused it)",
        scope="positive_data_acceptance (a 400 answer only)",
        reason="schemathesis judges a request valid by its schema alone; Klaviyo's operations also state rules in "
        "prose (a report's `group_by` must include the flow and message ids, a timeframe's limit per interval, at "
        "least one profile or list, a filter's grammar, a profile identifier, ...), and the stateful mock "
        "enforces them as Klaviyo does. Those rules are tested per backend (mock_server/tests/state) and by the "
        "official SDK sessions. A refusal by the schema validation itself carries no such header and stays a "
        "failure, so the check still holds the mock's validation to the spec.",
    ),
    Exclusion(
        what="the stateless mock (in-process, no stateful behaviours): every operation with a DELETE",
        scope="use_after_free (stateful phase)",
        reason="A stateless mock answers every request from the spec, so a resource it 'deleted' is still served: "
        "that is what stateless means, not a defect. Whether a run hits it depends on the links schemathesis "
        "follows (the 2026-07-15.pre beta's brand-social-groups did; the pinned revision happened not to). The "
        "stateful mock (`--state`) remembers deletions and is held to this check; URL targets always are.",
    ),
]


def _documents_no_client_error(case: Any) -> bool:
    operation = getattr(case, "operation", None)
    responses = getattr(operation, "responses", None)
    codes = [str(code).upper() for code in getattr(responses, "status_codes", None) or ()]
    return bool(codes) and not any(code.startswith("4") or code == "DEFAULT" for code in codes)


def _empty_fieldsets(case: Any) -> list[str]:
    query = getattr(case, "query", None) or {}
    return [k for k, v in query.items() if str(k).startswith("fields[") and v in ("", [""], [], None)]


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _control_character_in_chosen_id(case: Any) -> bool:
    """Whether a resource object of the body (`data`, or one nested in it, as a bulk job's items) carries a control
    character in its id or in one of its attribute strings (an id may be built from them)."""
    body = getattr(case, "body", None)
    return _resource_with_control_character(body.get("data") if isinstance(body, dict) else None)


def _resource_with_control_character(node: Any) -> bool:
    if isinstance(node, list):
        return any(_resource_with_control_character(item) for item in node)
    if not isinstance(node, dict):
        return False
    attributes = node.get("attributes")
    if "type" in node:
        chosen = [node.get("id"), *(attributes.values() if isinstance(attributes, dict) else ())]
        if any(isinstance(value, str) and _CONTROL_CHARACTERS.search(value) for value in chosen):
            return True
    return any(_resource_with_control_character(child) for child in node.values())


_PROFILE_IDENTIFIERS = ("id", "email", "phone_number", "external_id")


def _carries_events(node: Any) -> bool:
    """Whether a request body tracks events (by shape: a `profile` with a `metric` or `events`, or a bulk job)."""
    if isinstance(node, dict):
        if ("profile" in node and ("metric" in node or "events" in node)) or "events-bulk-create" in node:
            return True
        return any(_carries_events(v) for v in node.values())
    if isinstance(node, list):
        return any(_carries_events(v) for v in node)
    return False


def _profiles_without_identifier(node: Any) -> bool:
    """Whether `node` holds a profile resource object with no identifier at all."""
    if isinstance(node, dict):
        if node.get("type") == "profile":
            found = node.get("attributes")
            attributes: dict[str, Any] = found if isinstance(found, dict) else {}
            if not node.get("id") and not any(attributes.get(k) for k in _PROFILE_IDENTIFIERS):
                return True
        return any(_profiles_without_identifier(v) for v in node.values())
    if isinstance(node, list):
        return any(_profiles_without_identifier(v) for v in node)
    return False


def _only_empty_event_lists(node: Any) -> bool:
    """Whether every event list (`data` arrays under the body's attributes) in `node` is empty."""
    lists: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                if key == "data" and isinstance(child, list):
                    lists.append(child)
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(node)
    return bool(lists) and not any(lists)


def _refused_series_timeframe(case: Any, response: Any) -> bool:
    """Whether a series report was refused because its timeframe exceeds the interval's documented maximum."""
    body = getattr(case, "body", None)
    attributes = (body.get("data") or {}).get("attributes") if isinstance(body, dict) else None
    if not isinstance(attributes, dict) or "interval" not in attributes or "timeframe" not in attributes:
        return False
    try:
        errors = response.json().get("errors") or []
    except (AttributeError, ValueError):
        return False
    return bool(errors) and all(
        isinstance(e, dict)
        and (e.get("source") or {}).get("pointer") == "/data/attributes/timeframe"
        and "cannot be longer than" in str(e.get("detail"))
        for e in errors
    )


def _refused_non_url(case: Any, response: Any) -> bool:
    """Whether the 400 names a `*url` string member whose value is not an absolute URL (nor a data URI)."""
    body = getattr(case, "body", None)
    pointers = _error_pointers(response)
    return bool(pointers) and all(
        p.rsplit("/", 1)[-1].lower().endswith("url")
        and isinstance(value := _resolve(body, p), str)
        and not re.match(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/]+|data:)", value)
        for p in pointers
    )


def _refused_by_domain_rule(response: Any) -> bool:
    """Whether the stateful mock's domain rules (not its schema validation) refused the request."""
    headers = getattr(response, "headers", None) or {}
    found = headers.get("x-kdk-mock-rule") if hasattr(headers, "get") else None
    return found in ("domain", ["domain"])


def _error_pointers(response: Any) -> list[str]:
    """The `source.pointer` of every error of a JSON:API error answer ([] when there is none to read)."""
    try:
        errors = response.json().get("errors") or []
    except (AttributeError, ValueError):
        return []
    sources = [e.get("source") for e in errors if isinstance(e, dict)]
    return [str(src["pointer"]) for src in sources if isinstance(src, dict) and isinstance(src.get("pointer"), str)]


def _refused_empty_member(case: Any, response: Any) -> bool:
    """Whether the 400 `response` names (by `source.pointer`) a member that is empty in the request body."""
    pointers = _error_pointers(response)
    body = getattr(case, "body", None)
    return bool(pointers) and all(_unfilled(body, p) for p in pointers)


def _unfilled(body: Any, pointer: str) -> bool:
    """Whether the member at `pointer` is empty, or absent from an object the request does hold."""
    value = _resolve(body, pointer)
    if value is _MISSING:
        parent = _resolve(body, pointer.rsplit("/", 1)[0]) if pointer.count("/") > 1 else _MISSING
        return isinstance(parent, dict)
    return _is_empty(value)


_MISSING = object()


def _resolve(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (RFC 6901), or `_MISSING`."""
    node = document
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _is_empty(value: Any) -> bool:
    if isinstance(value, str | list):
        return not value or (isinstance(value, list) and all(_is_empty(v) for v in value))
    if isinstance(value, dict):
        return all(_is_empty(v) for v in value.values())
    return False


def is_excluded_failure(
    failure: Any, case: Any, description: str, *, stateless_target: bool = False, response: Any = None
) -> bool:
    """Whether a check failure is one of the cases above (used by the runner's `filter_failure` hook, which also
    passes the response the check judged)."""
    if stateless_target and type(failure).__name__ == "UseAfterFree":
        return True
    body = getattr(case, "body", None)
    if type(failure).__name__ == "RejectedPositiveData":
        if getattr(failure, "status_code", None) == 400 and _refused_by_domain_rule(response):
            return True
        if getattr(failure, "status_code", None) == 400 and (
            _control_character_in_chosen_id(case)
            or (
                response is not None
                and (
                    _refused_empty_member(case, response)
                    or _refused_series_timeframe(case, response)
                    or _refused_non_url(case, response)
                )
            )
        ):
            return True
        return _carries_events(body) and (_profiles_without_identifier(body) or _only_empty_event_lists(body))
    if type(failure).__name__ != "AcceptedNegativeData":
        return False
    if _documents_no_client_error(case):
        return True
    empty = _empty_fieldsets(case)
    # schemathesis names the parameter whose value it made invalid; it must be one of the empty fieldsets
    return bool(empty) and any(name in description for name in empty)


# Known failures of the *generated client* found by the property tests; each must name what has to change.
# The tests check this list both ways: an entry that stops failing must be removed.
KNOWN_CLIENT_FAILURES: dict[str, str] = {}
