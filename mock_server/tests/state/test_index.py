"""The resource index is derived from the spec's shapes: no endpoint is named in the code."""

from __future__ import annotations

from typing import Any

from mock_server.state import Kind, ResourceIndex, build_index


def test_kinds_of_the_profile_and_list_operations(index: ResourceIndex) -> None:
    expected = {
        "create_profile": (Kind.CREATE, "profile", None),
        "get_profile": (Kind.GET, "profile", None),
        "get_profiles": (Kind.LIST, "profile", None),
        "update_profile": (Kind.UPDATE, "profile", None),
        "delete_list": (Kind.DELETE, "list", None),
        "add_profiles_to_list": (Kind.REL_ADD, "list", "profile"),
        "remove_profiles_from_list": (Kind.REL_REMOVE, "list", "profile"),
        "get_profile_ids_for_list": (Kind.REL_GET, "list", "profile"),
        "get_profiles_for_list": (Kind.RELATED, "list", "profile"),
        "bulk_import_profiles": (Kind.CREATE, "profile-bulk-import-job", None),
        "get_bulk_import_profiles_job": (Kind.GET, "profile-bulk-import-job", None),
    }
    for op_id, (kind, rtype, related) in expected.items():
        op = index.ops[op_id]
        assert (op.kind, op.resource_type, op.related_type) == (kind, rtype, related), op_id
    assert index.types["profile"].id_shape == "ulid" and index.types["list"].id_shape == "short"
    profiles = index.ops["get_profiles"]
    assert profiles.page_default == 20 and profiles.page_max == 100
    assert "-created" in profiles.sorts and "equals" in profiles.filters["email"].single
    assert index.ops["get_profile"].includes >= {"lists", "segments"}
    assert index.ratelimits["create_profile"] == {"burst": "75/s", "steady": "750/m"}
    assert "create_conversation_message" in index.oauth_only
    assert index.posts_by_request_type["conversation-message"] == frozenset({"create_conversation_message"})


def test_most_operations_get_a_kind(index: ResourceIndex) -> None:
    assert len(index.ops) > 250
    assert sum(1 for t in index.types.values() if t.creatable) > 30


def test_filters_fall_back_to_the_description() -> None:
    """Older revisions have no `x-klaviyo-filters`: the parameter's description is parsed instead."""
    response = {
        "content": {
            "application/vnd.api+json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "data": {
                            "type": "array",
                            "items": {"type": "object", "properties": {"type": {"type": "string", "enum": ["widget"]}}},
                        }
                    },
                }
            }
        }
    }
    description = "Filtering<br>Allowed field(s)/operator(s):<br>`name`: `any`, `equals`<br>`created`: `greater-than`"
    spec: dict[str, Any] = {
        "openapi": "3.0.2",
        "paths": {
            "/api/widgets": {
                "get": {
                    "operationId": "get_widgets",
                    "parameters": [
                        {"name": "filter", "in": "query", "description": description, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": response},
                }
            }
        },
    }
    op = build_index(spec).ops["get_widgets"]
    assert op.kind is Kind.LIST and op.filter_documented
    assert op.filters["name"].single == frozenset({"any", "equals"})
    assert op.filters["created"].single == frozenset({"greater-than"})
