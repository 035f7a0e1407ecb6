"""Every rule the diff can report, with its severity and message.

Ids and severities follow oasdiff's breaking-changes checks (github.com/oasdiff/oasdiff, checker/) so the
report reads the same as oasdiff's to anyone who knows it. Deviations, each because this report is for SDK
maintainers regenerating a client rather than for API servers:
- `api-operation-id-removed` is breaking: the generated function is named after the operationId.
- `api-removed-with-deprecation` is a warning (oasdiff: info): the generated function still disappears.
Rules oasdiff has no counterpart for read Klaviyo's extensions: `api-ratelimit-*` (x-klaviyo-ratelimit),
`api-scope-*` (x-klaviyo-scopes) and `api-stability-*` (x-klaviyo-pre-release).
"""

from __future__ import annotations

from ._model import Rule, Severity

__all__ = ["RULES", "rule"]

B, W, I = Severity.BREAKING, Severity.WARNING, Severity.INFO  # noqa: E741 - short names keep the table readable

_ALL = [
    # operations
    Rule("endpoint-added", I, "endpoint added", "a new operation"),
    Rule("api-removed-without-deprecation", B, "api removed without deprecation", "an operation disappeared"),
    Rule("api-removed-with-deprecation", W, "api removed with deprecation", "a deprecated operation disappeared"),
    Rule("endpoint-deprecated", I, "endpoint deprecated", "an operation became deprecated"),
    Rule("endpoint-reactivated", I, "endpoint reactivated", "an operation is no longer deprecated"),
    Rule(
        "api-operation-id-removed",
        B,
        "api operation id {old} removed and replaced with {new}",
        "the operationId (and so the generated function's name) changed",
    ),
    Rule("api-stability-decreased", B, "endpoint stability level decreased from {old} to {new}", "GA -> beta"),
    Rule("api-stability-increased", I, "endpoint stability level increased from {old} to {new}", "beta -> GA"),
    # Klaviyo extensions on the operation
    Rule("api-ratelimit-decreased", W, "rate limit lowered from {old} to {new}", "x-klaviyo-ratelimit went down"),
    Rule("api-ratelimit-increased", I, "rate limit raised from {old} to {new}", "x-klaviyo-ratelimit went up"),
    Rule(
        "api-ratelimit-changed",
        W,
        "rate limit changed from {old} to {new}",
        "x-klaviyo-ratelimit: some windows up, some down",
    ),
    Rule("api-scope-added", B, "the scope {value} is now required", "x-klaviyo-scopes gained a scope"),
    Rule("api-scope-removed", I, "the scope {value} is no longer required", "x-klaviyo-scopes lost a scope"),
    # parameters
    Rule("new-required-request-parameter", B, "added the new required {where} request parameter {name}", ""),
    Rule("new-optional-request-parameter", I, "added the new optional {where} request parameter {name}", ""),
    Rule("request-parameter-removed", W, "deleted the {where} request parameter {name}", ""),
    Rule("request-parameter-became-required", B, "the {where} request parameter {name} became required", ""),
    Rule("request-parameter-became-optional", I, "the {where} request parameter {name} became optional", ""),
    Rule(
        "request-parameter-type-changed",
        B,
        "for the {where} request parameter {name}, the type/format was changed from {old} to {new}",
        "",
    ),
    Rule(
        "request-parameter-enum-value-removed",
        B,
        "removed the enum value {value} from the {where} request parameter {name}",
        "",
    ),
    Rule(
        "request-parameter-enum-value-added",
        I,
        "added the new enum value {value} to the {where} request parameter {name}",
        "",
    ),
    Rule(
        "request-parameter-became-enum",
        B,
        "the {where} request parameter {name} was restricted to a list of enum values",
        "",
    ),
    # request body
    Rule("request-body-added-required", B, "added required request body", ""),
    Rule("request-body-added-optional", I, "added optional request body", ""),
    Rule("request-body-removed", B, "removed the request body", ""),
    Rule("request-body-became-required", B, "request body became required", ""),
    Rule("request-body-became-optional", I, "request body became optional", ""),
    Rule("request-body-media-type-removed", B, "removed the media type {media} from the request body", ""),
    Rule("request-body-media-type-added", I, "added the media type {media} to the request body", ""),
    Rule("new-required-request-property", B, "added the new required request property {name}", ""),
    Rule("new-optional-request-property", I, "added the new optional request property {name}", ""),
    Rule("request-property-removed", W, "removed the request property {name}", ""),
    Rule("request-property-became-required", B, "the request property {name} became required", ""),
    Rule("request-property-became-optional", I, "the request property {name} became optional", ""),
    Rule("request-property-type-changed", B, "the request property {name} type/format changed from {old} to {new}", ""),
    Rule("request-property-enum-value-removed", B, "removed the enum value {value} of the request property {name}", ""),
    Rule("request-property-enum-value-added", I, "added the new {value} enum value to the request property {name}", ""),
    Rule("request-property-became-enum", B, "request property {name} was restricted to a list of enum values", ""),
    Rule("request-property-became-not-nullable", B, "the request property {name} became not nullable", ""),
    Rule("request-property-became-nullable", I, "the request property {name} became nullable", ""),
    Rule("request-property-one-of-removed", B, "removed the alternative {value} from the request property {name}", ""),
    Rule("request-property-one-of-added", I, "added the alternative {value} to the request property {name}", ""),
    # responses
    Rule("response-success-status-removed", B, "removed the success response with the status {status}", ""),
    Rule("response-success-status-added", I, "added the success response with the status {status}", ""),
    Rule("response-non-success-status-removed", I, "removed the non-success response with the status {status}", ""),
    Rule("response-non-success-status-added", I, "added the non-success response with the status {status}", ""),
    Rule(
        "response-media-type-removed", B, "removed the media type {media} for the response with the status {status}", ""
    ),
    Rule("response-media-type-added", I, "added the media type {media} for the response with the status {status}", ""),
    Rule(
        "response-required-property-removed",
        B,
        "removed the required property {name} from the response with the {status} status",
        "",
    ),
    Rule(
        "response-optional-property-removed",
        W,
        "removed the optional property {name} from the response with the {status} status",
        "",
    ),
    Rule(
        "response-required-property-added",
        I,
        "added the required property {name} to the response with the {status} status",
        "",
    ),
    Rule(
        "response-optional-property-added",
        I,
        "added the optional property {name} to the response with the {status} status",
        "",
    ),
    Rule(
        "response-property-became-optional",
        B,
        "the response property {name} became optional for the status {status}",
        "",
    ),
    Rule(
        "response-property-became-required",
        I,
        "the response property {name} became required for the status {status}",
        "",
    ),
    Rule(
        "response-property-became-nullable",
        B,
        "the response property {name} became nullable for the status {status}",
        "",
    ),
    Rule(
        "response-property-became-not-nullable",
        I,
        "the response property {name} became not nullable for the status {status}",
        "",
    ),
    Rule(
        "response-property-type-changed",
        B,
        "the {status} response's property {name} type/format changed from {old} to {new}",
        "",
    ),
    Rule(
        "response-property-enum-value-added",
        W,
        "added the new {value} enum value to the {name} response property for the response status {status}",
        "a client may meet a value it does not know",
    ),
    Rule(
        "response-property-enum-value-removed",
        I,
        "removed the {value} enum value from the {name} response property for the response status {status}",
        "",
    ),
    Rule(
        "response-property-one-of-added",
        W,
        "added the alternative {value} to the {name} response property for the response status {status}",
        "a client may meet a shape it does not know",
    ),
    Rule(
        "response-property-one-of-removed",
        I,
        "removed the alternative {value} from the {name} response property for the response status {status}",
        "",
    ),
]

RULES: dict[str, Rule] = {r.id: r for r in _ALL}
assert len(RULES) == len(_ALL), "duplicate rule id"


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
