"""The WhatsApp opt-in sync of seeds/001 ("Connect Klaviyo to WhatsApp"), end to end against the default mock.

The automation, as the guide writes it: list the lists (revision 2025-01-15, trailing slashes, the guide's
headers), search the profile by email, create it when the search is empty, add it to the list (204, no body).
Run twice, the second run finds the profile, gets 204 again and creates nothing. The guide's troubleshooting
table is checked too: 401 for a wrong Authorization format, 400 for a flat body, 400 without `revision`, 403
for a key missing one of the four scopes the guide names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mock_server import create_app
from mock_server._compile import CompiledSpec
from mock_server.state import behaviours_from_options

KEY = "pk_wa_expert_0123456789abcdef"
GUIDE_HEADERS = {
    "Authorization": f"Klaviyo-API-Key {KEY}",
    "revision": "2025-01-15",
    "accept": "application/vnd.api+json",
}
WRITE_HEADERS = {**GUIDE_HEADERS, "Content-Type": "application/vnd.api+json"}


def _writing(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/vnd.api+json"}


CUSTOMER = {"email": "priya@example.com", "first_name": "Priya", "phone_number": "+919820000001"}
LIST_NAME = "WhatsApp Opt-Ins"


@pytest.fixture
async def default_mock(compiled: CompiledSpec) -> AsyncIterator[httpx.AsyncClient]:
    """The mock as `kdk mock` builds it by default (stateful, in memory), in-process."""
    app = create_app(compiled=compiled, behaviours=behaviours_from_options({"state": "memory"}, compiled=compiled))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock.test") as client:
        yield client


async def _setup_list(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """Made once in Klaviyo's UI in the guide; here through the API."""
    body = {"data": {"type": "list", "attributes": {"name": LIST_NAME}}}
    made = await client.post("/api/lists/", json=body, headers=_writing(headers))
    assert made.status_code == 201, made.text


async def _run_automation(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """Steps 2-5 of the guide; what the automation stores (profile_id, list_id) and the answers it saw."""
    seen: dict[str, Any] = {}
    lists = await client.get("/api/lists/", headers=headers)
    assert lists.status_code == 200, lists.text
    list_id = next(item["id"] for item in lists.json()["data"] if item["attributes"]["name"] == LIST_NAME)
    search = await client.get(
        "/api/profiles/", params={"filter": f'equals(email,"{CUSTOMER["email"]}")'}, headers=headers
    )
    assert search.status_code == 200, search.text
    seen["search"] = search.json()["data"]
    if seen["search"]:
        profile_id = seen["search"][0]["id"]
        seen["profile_name"] = seen["search"][0]["attributes"]["first_name"]
    else:
        create = await client.post(
            "/api/profiles/", json={"data": {"type": "profile", "attributes": CUSTOMER}}, headers=_writing(headers)
        )
        assert create.status_code == 201, create.text
        seen["created"] = create.json()["data"]
        profile_id = create.json()["data"]["id"]
    subscribe = await client.post(
        f"/api/lists/{list_id}/relationships/profiles/",
        json={"data": [{"type": "profile", "id": profile_id}]},
        headers=_writing(headers),
    )
    seen.update(list_id=list_id, profile_id=profile_id, subscribe=(subscribe.status_code, subscribe.content))
    return seen


async def _check_sync(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    await _setup_list(client, headers)
    first = await _run_automation(client, headers)
    assert first["search"] == []  # "If data is empty, the profile does not exist yet"
    assert first["created"]["attributes"]["email"] == CUSTOMER["email"]
    assert first["created"]["attributes"]["first_name"] == "Priya"
    assert first["subscribe"] == (204, b"")  # "HTTP 204 No Content (empty body = success)"

    second = await _run_automation(client, headers)
    assert "created" not in second  # the search finds the profile: nothing is created twice
    assert second["profile_id"] == first["profile_id"]
    assert second["profile_name"] == "Priya"
    assert second["subscribe"] == (204, b"")  # "If already subscribed, Klaviyo returns 204 again"

    members = await client.get(f"/api/lists/{first['list_id']}/relationships/profiles/", headers=headers)
    assert [m["id"] for m in members.json()["data"]] == [first["profile_id"]]
    counted = await client.get(
        f"/api/lists/{first['list_id']}/", params={"additional-fields[list]": "profile_count"}, headers=headers
    )
    assert counted.json()["data"]["attributes"]["profile_count"] == 1
    everyone = await client.get("/api/profiles/", headers=headers)
    assert [p["id"] for p in everyone.json()["data"]] == [first["profile_id"]]
    # An automation that skips the search and creates again is told who already has the email.
    again = await client.post(
        "/api/profiles/", json={"data": {"type": "profile", "attributes": CUSTOMER}}, headers=_writing(headers)
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["meta"]["duplicate_profile_id"] == first["profile_id"]


async def test_whatsapp_opt_in_sync_runs_twice_with_the_same_answers(default_mock: httpx.AsyncClient) -> None:
    await _check_sync(default_mock, GUIDE_HEADERS)


@pytest.mark.parametrize(
    "authorization",
    [
        None,  # no header at all
        f"api-key {KEY}",  # "Not Bearer, not api-key"
        f"Klaviyo-API-Key{KEY}",  # "Ensure there is a space between Klaviyo-API-Key and the key value"
    ],
)
async def test_troubleshooting_401(default_mock: httpx.AsyncClient, authorization: str | None) -> None:
    headers = {k: v for k, v in GUIDE_HEADERS.items() if k != "Authorization"}
    if authorization is not None:
        headers["Authorization"] = authorization
    answer = await default_mock.get("/api/lists/", headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.json()["errors"][0]["status"] == 401


async def test_troubleshooting_401_for_a_private_key_sent_as_bearer(default_mock: httpx.AsyncClient) -> None:
    headers = {**GUIDE_HEADERS, "Authorization": f"Bearer {KEY}"}
    assert (await default_mock.get("/api/lists/", headers=headers)).status_code == 401


async def test_troubleshooting_400s(default_mock: httpx.AsyncClient) -> None:
    flat = await default_mock.post("/api/profiles/", json=CUSTOMER, headers=WRITE_HEADERS)
    assert flat.status_code == 400  # "A flat JSON body returns 400"
    assert flat.json()["errors"][0]["source"]
    no_revision = {k: v for k, v in GUIDE_HEADERS.items() if k != "revision"}
    missing = await default_mock.get("/api/lists/", headers=no_revision)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["source"] == {"parameter": "revision"}
    # Nothing of the refused create was stored: the search is still empty.
    search = await default_mock.get(
        "/api/profiles/", params={"filter": f'equals(email,"{CUSTOMER["email"]}")'}, headers=GUIDE_HEADERS
    )
    assert search.json()["data"] == []


async def test_whatsapp_opt_in_sync_over_http(klaviyo_mock: Any) -> None:
    """The same automation against `kdk mock` running as a process (the pytest plugin's `klaviyo_mock`
    fixture, as an integrator's suite would use it), over real HTTP with the plugin's key."""
    headers = {**GUIDE_HEADERS, "Authorization": f"Klaviyo-API-Key {klaviyo_mock.api_key}"}
    async with httpx.AsyncClient(base_url=klaviyo_mock.base_url, timeout=30) as client:
        await _check_sync(client, headers)


async def test_troubleshooting_403_missing_required_scopes(compiled: CompiledSpec, tmp_path: Any) -> None:
    """ "403 Forbidden: Missing required scopes on the API key. The private key needs profiles:read,
    profiles:write, lists:read, lists:write." A custom key made without lists:write, the list made in
    Klaviyo's UI (here: the seed file), then the automation: the search and the create work, the list
    subscription is refused with the scope it lacks; a key made with all four runs the whole sync."""
    import yaml

    without = "pk_wa_expert_missing_lists_write"
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        yaml.safe_dump(
            {
                "accounts": {f"api_key:{without}": [{"type": "list", "attributes": {"name": LIST_NAME}}]},
                "settings": {
                    f"api_key:{without}": {"scopes": ["profiles:read", "profiles:write", "lists:read"]},
                    f"api_key:{KEY}": {"scopes": ["profiles:read", "profiles:write", "lists:read", "lists:write"]},
                },
            }
        )
    )
    options = {"state": "memory", "seed_data": str(seed)}
    app = create_app(compiled=compiled, behaviours=behaviours_from_options(options, compiled=compiled))
    headers = {**GUIDE_HEADERS, "Authorization": f"Klaviyo-API-Key {without}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock.test") as client:
        lists = (await client.get("/api/lists/", headers=headers)).json()["data"]
        list_id = lists[0]["id"]
        search = await client.get(
            "/api/profiles/", params={"filter": f'equals(email,"{CUSTOMER["email"]}")'}, headers=headers
        )
        assert search.status_code == 200 and search.json()["data"] == []
        create = await client.post(
            "/api/profiles/", json={"data": {"type": "profile", "attributes": CUSTOMER}}, headers=_writing(headers)
        )
        assert create.status_code == 201, create.text
        subscribe = await client.post(
            f"/api/lists/{list_id}/relationships/profiles/",
            json={"data": [{"type": "profile", "id": create.json()["data"]["id"]}]},
            headers=_writing(headers),
        )
        assert subscribe.status_code == 403, subscribe.text
        (error,) = subscribe.json()["errors"]
        assert error["code"] == "permission_denied" and error["status"] == 403
        assert "lists:write" in error["detail"] and "profiles:write" not in error["detail"]
        members = await client.get(f"/api/lists/{list_id}/relationships/profiles/", headers=headers)
        assert members.json()["data"] == []  # the refused subscription changed nothing
        journal = (await client.get("/__mock__/journal", headers=headers)).json()["requests"]
        assert [(e["operation_id"], e["status"]) for e in journal][-2:] == [
            ("add_profiles_to_list", 403),
            ("get_profile_ids_for_list", 200),
        ]
        # The key made as the guide says (Custom Key with the four scopes) runs the whole sync.
        await _check_sync(client, GUIDE_HEADERS)
