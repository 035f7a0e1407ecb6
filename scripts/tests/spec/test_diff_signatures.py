"""Generated-function signatures computed from the patched specs (for `kdk upgrade`'s report)."""

from __future__ import annotations

from kdk.spec.diff import signature_changes, signatures

from ._diff_helpers import base_spec


def test_signatures_follow_the_generator_conventions() -> None:
    sigs = signatures(base_spec())
    assert sigs["get_lists"].render() == (
        "get_lists(*, client: AuthenticatedClient, fields_list: list[str] | Unset = UNSET, "
        "page_size: int | Unset = UNSET, sort: str | Unset = UNSET)"
    )
    # path parameters are positional; the revision header is the client's business, not an argument
    assert sigs["delete_list"].render() == "delete_list(id: str, *, client: AuthenticatedClient)"
    # a referenced body is its model class; a required body comes before the optional arguments
    assert sigs["create_list"].render() == "create_list(*, client: AuthenticatedClient, body: ListCreateQuery)"


def test_signature_changes_kinds() -> None:
    old, new = base_spec(), base_spec()
    new["paths"].pop("/api/lists/{id}")
    new["paths"]["/api/lists"]["post"]["requestBody"]["required"] = False
    new["paths"]["/api/tags"] = {"get": {"operationId": "get_tags", "responses": {"200": {"description": "ok"}}}}
    changes = {c.operation_id: c for c in signature_changes(old, new)}
    assert {k: c.kind for k, c in changes.items()} == {
        "create_list": "changed",
        "delete_list": "removed",
        "get_tags": "added",
    }
    created = changes["create_list"]
    assert created.new is not None
    assert created.new.render().endswith("body: ListCreateQuery | Unset = UNSET)")


def test_moving_a_component_changes_no_signature_but_renaming_the_model_does() -> None:
    old, new = base_spec(), base_spec()
    new["paths"]["/api/lists"]["get"]["parameters"][0] = dict(new["components"]["parameters"]["Revision"])
    assert signature_changes(old, new) == []
    schemas = new["components"]["schemas"]
    schemas["ListCreateQueryV2"] = schemas.pop("ListCreateQuery")
    new["paths"]["/api/lists"]["post"]["requestBody"]["content"]["application/vnd.api+json"]["schema"] = {
        "$ref": "#/components/schemas/ListCreateQueryV2"
    }
    (change,) = signature_changes(old, new)
    assert change.operation_id == "create_list" and change.kind == "changed"
