"""Drift tolerance (issue 14, item 6): the default client keeps what the live API really sends; strict mode reports it.

A hypothesis property draws a valid answer for any GET operation of the pinned spec, mutates it the ways the live
API is known to deviate (unknown enum value, extra property, null where the spec forbids it, a number for a string
and the reverse) and shows the default parser never raises, while the strict one raises nothing but
`ResponseValidationError`. Example tests show the values are kept.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from contract_tests._strategies import values_for
from kdk.generate._prepare import prepare_spec
from kdk.spec import deref, iter_operations
from kdk.spec._pinned import load_pinned_spec

Path_ = tuple[str | int, ...]
MUTATIONS = ("unknown_enum", "extra_property", "null", "number_for_string", "string_for_number")


@pytest.fixture(scope="module")
def client_spec() -> dict[str, Any]:
    return prepare_spec(load_pinned_spec()).spec


@pytest.fixture(scope="module")
def json_gets(kc: ModuleType, client_spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(endpoint module, 200 JSON schema) of every GET whose 200 answer is a JSON document."""
    import klaviyo_client.api as api

    api_dir = Path(api.__file__).parent
    found = []
    for op in iter_operations(client_spec):
        if op.method != "get":
            continue
        answer = deref(client_spec, (op.node.get("responses") or {}).get("200") or {})
        content = answer.get("content") or {}
        schema = next((holder.get("schema") for holder in content.values() if holder.get("schema")), None)
        modules = sorted(api_dir.glob(f"*/{op.operation_id}.py"))
        if schema is not None and modules:
            found.append((f"klaviyo_client.api.{modules[0].parent.name}.{op.operation_id}", schema))
    assert len(found) > 100
    return found


def _paths(value: Any, prefix: Path_ = ()) -> list[tuple[Path_, Any]]:
    found: list[tuple[Path_, Any]] = [(prefix, value)]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


def _set(document: Any, path: Path_, value: Any) -> None:
    holder = document
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value


def _mutate(document: Any, kind: str, draw: Any) -> str | None:
    """Apply one mutation of `kind` somewhere in `document` (never the root); what was done, or None if it
    had no place to go."""
    nodes = [(path, value) for path, value in _paths(document) if path]
    if kind == "extra_property":
        nodes = [(p, v) for p, v in _paths(document) if isinstance(v, dict)]
    elif kind in ("unknown_enum", "number_for_string"):
        nodes = [(p, v) for p, v in nodes if isinstance(v, str)]
    elif kind == "string_for_number":
        nodes = [(p, v) for p, v in nodes if isinstance(v, int | float) and not isinstance(v, bool)]
    if not nodes:
        return None
    path, value = draw(st.sampled_from(nodes))
    if kind == "extra_property":
        value["unexpected_new_property"] = {"nested": [1, "two"]}
    elif kind == "unknown_enum":
        _set(document, path, "a_value_added_after_this_revision")
    elif kind == "null":
        _set(document, path, None)
    elif kind == "number_for_string":
        _set(document, path, 90210)
    else:
        _set(document, path, str(value))
    return f"{kind} at {'/'.join(map(str, path))}"


def _parse(module: ModuleType, body: Any, *, strict: bool) -> Any:
    from klaviyo_client._drift import parse_with

    response = httpx.Response(200, json=body, request=httpx.Request("GET", "https://a.klaviyo.com/api/x"))
    return parse_with(strict, lambda: module._parse_response(response=response))


# No shrinking: the documents are large and the first failure, with its note, says enough.
@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
@given(data=st.data())
def test_default_parsing_never_raises_on_known_deviations(
    data: st.DataObject, kc: ModuleType, client_spec: dict[str, Any], json_gets: list[tuple[str, dict[str, Any]]]
) -> None:
    from klaviyo_client import ResponseValidationError

    module_name, schema = data.draw(st.sampled_from(json_gets))
    module = importlib.import_module(module_name)
    document = data.draw(values_for(client_spec, schema))
    _parse(module, document, strict=True)  # the valid answer is valid for strict parsing too
    done = [
        _mutate(document, kind, data.draw)
        for kind in data.draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3))
    ]
    note(f"{module_name}: {done}")
    assert _parse(module, document, strict=False) is not None
    try:
        _parse(module, document, strict=True)
    except ResponseValidationError as exc:
        assert exc.deviations
    # strict mode raises nothing else: any other exception fails the test here


# --- the values are kept ---------------------------------------------------------------------------------------------


def _profile_page(**attributes: Any) -> dict[str, Any]:
    profile = {"type": "profile", "id": "P1", "attributes": {"email": "a@example.com", **attributes}}
    profile["links"] = {"self": "https://a.klaviyo.com/api/profiles/P1"}
    return {"data": [profile], "links": {"self": "https://a.klaviyo.com/api/profiles", "next": None}}


def _client(kc: ModuleType, body: dict[str, Any], **kwargs: Any) -> Any:
    handler = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    return kc.Klaviyo("pk", transport=handler, retry=None, **kwargs)


def test_a_zip_code_sent_as_a_number_is_kept(kc: ModuleType) -> None:
    body = _profile_page(location={"zip": 90210, "city": "Beverly Hills"})
    page = _client(kc, body).profiles.get_profiles()
    location = page.data[0].attributes.location
    assert location.zip_ == 90210 and location.city == "Beverly Hills"
    with pytest.raises(kc.ResponseValidationError, match=r"zip.*expected string, got int"):
        _client(kc, body, strict=True).profiles.get_profiles()


def test_an_unknown_enum_value_and_null_where_forbidden_are_kept(kc: ModuleType) -> None:
    body = _profile_page()
    body["data"][0]["type"] = "profile_v2"
    body["data"][0]["attributes"]["email"] = None
    page = _client(kc, body).profiles.get_profiles()
    assert page.data[0].type_ == "profile_v2"
    with pytest.raises(kc.ResponseValidationError) as caught:
        _client(kc, body, strict=True).profiles.get_profiles()
    assert any("profile_v2" in d for d in caught.value.deviations)


def test_an_extra_property_is_kept(kc: ModuleType) -> None:
    body = _profile_page(brand_new={"x": 1})
    body["links"]["brand_new_link"] = "https://example.com"
    page = _client(kc, body).profiles.get_profiles()
    attributes = page.data[0].attributes
    kept = getattr(attributes, "additional_properties", None) or attributes.unknown_properties
    assert kept["brand_new"] == {"x": 1}
    links = page.model.links
    assert (getattr(links, "additional_properties", None) or links.unknown_properties)["brand_new_link"]


def test_kept_values_are_sent_back_by_to_dict(kc: ModuleType) -> None:
    body = _profile_page(location={"zip": 90210}, created=1767322800)
    body["data"][0]["type"] = "profile_v2"
    item = _client(kc, body).profiles.get_profiles().data[0]
    sent = item.to_dict()
    assert sent["type"] == "profile_v2" and sent["attributes"]["location"]["zip"] == 90210
    assert sent["attributes"]["created"] == 1767322800


def test_links_next_null_ends_pagination(kc: ModuleType) -> None:
    page = _client(kc, _profile_page()).profiles.get_profiles()
    assert not page.has_next_page() and [p.id for p in page] == ["P1"]


def test_strict_is_a_client_option(kc: ModuleType) -> None:
    client = kc.Klaviyo("pk")
    assert not client.strict and client.with_options(strict=True).strict
