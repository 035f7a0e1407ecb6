"""Subscribe, unsubscribe, suppress, unsuppress: consent on the profile and list membership, as documented."""

from __future__ import annotations

from typing import Any

import httpx

from mock_server._compile import CompiledSpec
from mock_server.state import StatefulBehaviour, apply_seed

from .conftest import API_KEY, JSONAPI, list_body, profile_body, response_errors

H = {**API_KEY, **JSONAPI}
SUBS = {"additional-fields[profile]": "subscriptions"}


def consent_job(
    kind: str,
    profiles: list[dict[str, Any]],
    *,
    list_id: str | None = None,
    **attributes: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": kind,
        "attributes": {"profiles": {"data": [{"type": "profile", **p} for p in profiles]}, **attributes},
    }
    if list_id:
        data["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return {"data": data}


def email_consent(email: str, **extra: Any) -> dict[str, Any]:
    marketing = {"consent": "SUBSCRIBED", **extra}
    return {"attributes": {"email": email, "subscriptions": {"email": {"marketing": marketing}}}}


async def _email_marketing(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    found = await client.get("/api/profiles", params={"filter": f'equals(email,"{email}")', **SUBS}, headers=API_KEY)
    rows = found.json()["data"]
    assert len(rows) == 1, found.text
    marketing: dict[str, Any] = rows[0]["attributes"]["subscriptions"]["email"]["marketing"]
    return marketing


async def _list(client: httpx.AsyncClient, **attributes: Any) -> str:
    body = list_body("Newsletter")
    body["data"]["attributes"].update(attributes)
    made = await client.post("/api/lists", json=body, headers=H)
    assert made.status_code == 201, made.text
    return str(made.json()["data"]["id"])


async def _members(client: httpx.AsyncClient, lid: str) -> list[str]:
    got = await client.get(f"/api/lists/{lid}/relationships/profiles", headers=API_KEY)
    return [r["id"] for r in got.json()["data"]]


async def test_new_profile_shows_never_subscribed_only_on_request(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    made = await client.post("/api/profiles", json=profile_body(email="new@example.com"), headers=H)
    pid = made.json()["data"]["id"]
    assert "subscriptions" not in made.json()["data"]["attributes"]
    got = await client.get(f"/api/profiles/{pid}", params=SUBS, headers=API_KEY)
    assert response_errors(compiled, spec, "/api/profiles/{id}", "get", 200, got.json()) == []
    marketing = got.json()["data"]["attributes"]["subscriptions"]["email"]["marketing"]
    assert marketing["consent"] == "NEVER_SUBSCRIBED"
    assert marketing["can_receive_email_marketing"] is True  # implicit consent: no suppression
    assert marketing["suppression"] == []


async def test_subscribe_creates_profile_sets_consent_and_joins_the_list(client: httpx.AsyncClient) -> None:
    lid = await _list(client)
    job = consent_job(
        "profile-subscription-bulk-create-job",
        [email_consent("sub@example.com")],
        list_id=lid,
        custom_source="Spring pop-up",
    )
    for _ in range(2):  # the repeat changes nothing and creates nobody twice
        answer = await client.post("/api/profile-subscription-bulk-create-jobs", json=job, headers=H)
        assert (answer.status_code, answer.content) == (202, b"")
    marketing = await _email_marketing(client, "sub@example.com")
    assert marketing["consent"] == "SUBSCRIBED"
    assert marketing["method"] == "API"
    assert marketing["custom_method_detail"] == "Spring pop-up"
    assert marketing["can_receive_email_marketing"] is True
    assert marketing["consent_timestamp"] and marketing["last_updated"]
    all_profiles = (await client.get("/api/profiles", headers=API_KEY)).json()["data"]
    assert len(all_profiles) == 1
    assert await _members(client, lid) == [all_profiles[0]["id"]]


async def test_unsubscribe_from_a_list_member_only_leaves_the_list(client: httpx.AsyncClient) -> None:
    lid = await _list(client)
    subscribe = consent_job("profile-subscription-bulk-create-job", [email_consent("u@example.com")], list_id=lid)
    await client.post("/api/profile-subscription-bulk-create-jobs", json=subscribe, headers=H)
    unsubscribe = consent_job(
        "profile-subscription-bulk-delete-job",
        [
            {
                "attributes": {
                    "email": "u@example.com",
                    "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}},
                }
            }
        ],
        list_id=lid,
    )
    answer = await client.post("/api/profile-subscription-bulk-delete-jobs", json=unsubscribe, headers=H)
    assert answer.status_code == 202, answer.text
    assert await _members(client, lid) == []
    marketing = await _email_marketing(client, "u@example.com")
    assert marketing["consent"] == "SUBSCRIBED"  # "Profiles not in the specified list will be globally unsubscribed"
    assert [s["list_id"] for s in marketing["list_suppressions"]] == [lid]
    # Not on the list (any more): a global unsubscribe, with Klaviyo's UNSUBSCRIBE suppression.
    await client.post("/api/profile-subscription-bulk-delete-jobs", json=unsubscribe, headers=H)
    marketing = await _email_marketing(client, "u@example.com")
    assert marketing["consent"] == "UNSUBSCRIBED"
    assert marketing["can_receive_email_marketing"] is False
    assert [s["reason"] for s in marketing["suppression"]] == ["UNSUBSCRIBE"]
    # Subscribing again lifts the UNSUBSCRIBE suppression.
    await client.post("/api/profile-subscription-bulk-create-jobs", json=subscribe, headers=H)
    marketing = await _email_marketing(client, "u@example.com")
    assert (marketing["consent"], marketing["suppression"], marketing["can_receive_email_marketing"]) == (
        "SUBSCRIBED",
        [],
        True,
    )


async def test_suppress_and_unsuppress_keep_a_readable_job(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    await client.post("/api/profiles", json=profile_body(email="s@example.com"), headers=H)
    suppress = consent_job("profile-suppression-bulk-create-job", [{"attributes": {"email": "s@example.com"}}])
    made = await client.post("/api/profile-suppression-bulk-create-jobs", json=suppress, headers=H)
    assert made.status_code == 202, made.text
    path = "/api/profile-suppression-bulk-create-jobs"
    assert response_errors(compiled, spec, path, "post", 202, made.json()) == []
    job = (await client.get(f"{path}/{made.json()['data']['id']}", headers=API_KEY)).json()["data"]["attributes"]
    assert (job["status"], job["total_count"], job["completed_count"]) == ("complete", 1, 1)
    marketing = await _email_marketing(client, "s@example.com")
    assert [s["reason"] for s in marketing["suppression"]] == ["USER_SUPPRESSED"]
    assert marketing["can_receive_email_marketing"] is False
    assert marketing["consent"] == "NEVER_SUBSCRIBED"  # suppression is not a consent change
    unsuppress = consent_job("profile-suppression-bulk-delete-job", [{"attributes": {"email": "s@example.com"}}])
    done = await client.post("/api/profile-suppression-bulk-delete-jobs", json=unsuppress, headers=H)
    assert done.status_code == 202, done.text
    marketing = await _email_marketing(client, "s@example.com")
    assert (marketing["suppression"], marketing["can_receive_email_marketing"]) == ([], True)
    # Unsuppressing is not deleting: the profile is still there.
    assert len((await client.get("/api/profiles", headers=API_KEY)).json()["data"]) == 1


async def test_unsuppress_lifts_only_user_suppressed(client: httpx.AsyncClient) -> None:
    unsubscribe = consent_job(
        "profile-subscription-bulk-delete-job",
        [
            {
                "attributes": {
                    "email": "x@example.com",
                    "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}},
                }
            }
        ],
    )
    await client.post("/api/profile-subscription-bulk-delete-jobs", json=unsubscribe, headers=H)
    suppress = consent_job("profile-suppression-bulk-create-job", [{"attributes": {"email": "x@example.com"}}])
    await client.post("/api/profile-suppression-bulk-create-jobs", json=suppress, headers=H)
    reasons = [s["reason"] for s in (await _email_marketing(client, "x@example.com"))["suppression"]]
    assert reasons == ["UNSUBSCRIBE", "USER_SUPPRESSED"]
    suppress["data"]["type"] = "profile-suppression-bulk-delete-job"
    await client.post("/api/profile-suppression-bulk-delete-jobs", json=suppress, headers=H)
    marketing = await _email_marketing(client, "x@example.com")
    assert [s["reason"] for s in marketing["suppression"]] == ["UNSUBSCRIBE"]
    assert marketing["can_receive_email_marketing"] is False


async def test_suppress_a_whole_list(client: httpx.AsyncClient) -> None:
    lid = await _list(client)
    ids = []
    for n in range(2):
        made = await client.post("/api/profiles", json=profile_body(email=f"m{n}@example.com"), headers=H)
        ids.append(made.json()["data"]["id"])
    await client.post(
        f"/api/lists/{lid}/relationships/profiles",
        json={"data": [{"type": "profile", "id": i} for i in ids]},
        headers=H,
    )
    job = {
        "data": {
            "type": "profile-suppression-bulk-create-job",
            "attributes": {},
            "relationships": {"list": {"data": {"type": "list", "id": lid}}},
        }
    }
    made = await client.post("/api/profile-suppression-bulk-create-jobs", json=job, headers=H)
    assert made.status_code == 202, made.text
    assert made.json()["data"]["attributes"]["total_count"] == 2
    for n in range(2):
        assert (await _email_marketing(client, f"m{n}@example.com"))["can_receive_email_marketing"] is False


async def test_documented_refusals(client: httpx.AsyncClient) -> None:
    at = "2024-01-01T00:00:00+00:00"
    without_flag = consent_job(
        "profile-subscription-bulk-create-job", [email_consent("h@example.com", consented_at=at)]
    )
    refused = await client.post("/api/profile-subscription-bulk-create-jobs", json=without_flag, headers=H)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["source"]["pointer"].startswith("/data/attributes/profiles/data/0")
    historical = consent_job(
        "profile-subscription-bulk-create-job", [email_consent("h@example.com")], historical_import=True
    )
    assert (
        await client.post("/api/profile-subscription-bulk-create-jobs", json=historical, headers=H)
    ).status_code == 400
    future = consent_job(
        "profile-subscription-bulk-create-job",
        [email_consent("h@example.com", consented_at="2999-01-01T00:00:00+00:00")],
        historical_import=True,
    )
    assert (await client.post("/api/profile-subscription-bulk-create-jobs", json=future, headers=H)).status_code == 400
    historical["data"]["attributes"]["profiles"]["data"][0]["attributes"]["subscriptions"]["email"]["marketing"][
        "consented_at"
    ] = at
    assert (
        await client.post("/api/profile-subscription-bulk-create-jobs", json=historical, headers=H)
    ).status_code == 202
    assert (await _email_marketing(client, "h@example.com"))["consent_timestamp"].startswith("2024-01-01")
    # "Maximum number of profiles per call: 100" (unsubscribe), read from the description.
    many = consent_job(
        "profile-subscription-bulk-delete-job",
        [
            {
                "attributes": {
                    "email": f"p{n}@example.com",
                    "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}},
                }
            }
            for n in range(101)
        ],
    )
    too_many = await client.post("/api/profile-subscription-bulk-delete-jobs", json=many, headers=H)
    assert too_many.status_code == 400 and "100" in too_many.json()["errors"][0]["detail"]
    unknown_list = consent_job(
        "profile-subscription-bulk-create-job", [email_consent("z@example.com")], list_id="NOPE00"
    )
    missing = await client.post("/api/profile-subscription-bulk-create-jobs", json=unknown_list, headers=H)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["source"]["pointer"] == "/data/relationships/list/data/id"


async def test_double_opt_in_list_waits_for_confirmation(client: httpx.AsyncClient) -> None:
    lid = await _list(client, opt_in_process="double_opt_in")
    job = consent_job("profile-subscription-bulk-create-job", [email_consent("d@example.com")], list_id=lid)
    assert (await client.post("/api/profile-subscription-bulk-create-jobs", json=job, headers=H)).status_code == 202
    assert await _members(client, lid) == []
    assert (await _email_marketing(client, "d@example.com"))["consent"] == "NEVER_SUBSCRIBED"
    job["data"]["attributes"]["historical_import"] = True  # consent already collected: no confirmation needed
    job["data"]["attributes"]["profiles"]["data"][0]["attributes"]["subscriptions"]["email"]["marketing"][
        "consented_at"
    ] = "2024-01-01T00:00:00+00:00"
    assert (await client.post("/api/profile-subscription-bulk-create-jobs", json=job, headers=H)).status_code == 202
    assert len(await _members(client, lid)) == 1


def client_subscription(email: str, list_id: str) -> dict[str, Any]:
    profile = {"type": "profile", "attributes": {"email": email, "first_name": "Cy"}}
    return {
        "data": {
            "type": "subscription",
            "attributes": {"custom_source": "Footer form", "profile": {"data": profile}},
            "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
        }
    }


async def test_client_subscription_subscribes_to_the_companys_list(
    client: httpx.AsyncClient, behaviour: StatefulBehaviour
) -> None:
    public = {"revision": API_KEY["revision"], **JSONAPI}
    company = {"company_id": "XyZ123"}
    unknown = await client.post(
        "/client/subscriptions", params=company, json=client_subscription("c@example.com", "Y6nRLr"), headers=public
    )
    assert unknown.status_code == 404, unknown.text  # no such list in the company's account
    # The company's account gets its list (as `--seed-data` would load it), then a site form subscribes.
    await client.post("/client/profiles", params=company, json=profile_body(email="first@example.com"), headers=public)
    (account,) = behaviour.store.accounts()
    with behaviour.store.transaction() as tx:
        tx.put(account, {"type": "list", "id": "Y6nRLr", "attributes": {"name": "Footer"}, "relationships": {}})
    done = await client.post(
        "/client/subscriptions", params=company, json=client_subscription("c@example.com", "Y6nRLr"), headers=public
    )
    assert (done.status_code, done.content) == (202, b"")
    with behaviour.store.transaction(write=False) as tx:
        profile = tx.find(account, "profile", "email", "c@example.com")
        footer = tx.get(account, "list", "Y6nRLr")
        assert footer is not None
        members = behaviour.dispatcher.backends.lists.members(tx, account, footer)
    assert profile is not None
    assert profile["attributes"]["first_name"] == "Cy"  # the profile's attributes are set too
    marketing = profile["attributes"]["subscriptions"]["email"]["marketing"]
    assert (marketing["consent"], marketing["custom_method_detail"]) == ("SUBSCRIBED", "Footer form")
    assert profile["attributes"]["subscriptions"]["sms"]["marketing"]["consent"] == "NEVER_SUBSCRIBED"  # no phone
    assert list(members) == [profile["id"]]


async def test_imported_and_seeded_profiles_start_never_subscribed(
    client: httpx.AsyncClient, behaviour: StatefulBehaviour
) -> None:
    job = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {"profiles": {"data": [{"type": "profile", "attributes": {"email": "imp@example.com"}}]}},
        }
    }
    assert (await client.post("/api/profile-bulk-import-jobs", json=job, headers=H)).status_code == 202
    marketing = await _email_marketing(client, "imp@example.com")
    assert (marketing["consent"], marketing["suppression"]) == ("NEVER_SUBSCRIBED", [])
    (account,) = behaviour.store.accounts()
    seed = {"accounts": {account: [{"type": "profile", "attributes": {"email": "seed@example.com"}}]}}
    assert apply_seed(behaviour.index, behaviour.store, seed) == 1  # what `--seed-data` does
    marketing = await _email_marketing(client, "seed@example.com")
    assert marketing["consent"] == "NEVER_SUBSCRIBED"


async def test_every_channel_subscribed_reads_back_schema_valid(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    channels = {
        "email": {"marketing": {"consent": "SUBSCRIBED"}},
        "sms": {"marketing": {"consent": "SUBSCRIBED"}, "transactional": {"consent": "SUBSCRIBED"}},
        "whatsapp": {"marketing": {"consent": "SUBSCRIBED"}},
    }
    item = {"attributes": {"email": "all@example.com", "phone_number": "+15005550006", "subscriptions": channels}}
    job = consent_job("profile-subscription-bulk-create-job", [item])
    assert (await client.post("/api/profile-subscription-bulk-create-jobs", json=job, headers=H)).status_code == 202
    suppress = consent_job("profile-suppression-bulk-create-job", [{"attributes": {"email": "all@example.com"}}])
    assert (await client.post("/api/profile-suppression-bulk-create-jobs", json=suppress, headers=H)).status_code == 202
    (row,) = (await client.get("/api/profiles", params=SUBS, headers=API_KEY)).json()["data"]
    got = await client.get(f"/api/profiles/{row['id']}", params=SUBS, headers=API_KEY)
    assert response_errors(compiled, spec, "/api/profiles/{id}", "get", 200, got.json()) == []
    subs = got.json()["data"]["attributes"]["subscriptions"]
    assert subs["sms"]["marketing"]["can_receive_sms_marketing"] is True
    assert subs["sms"]["transactional"]["can_receive_sms_transactional"] is True
    assert (subs["whatsapp"]["marketing"]["consent"], subs["whatsapp"]["marketing"]["can_receive"]) == (
        "SUBSCRIBED",
        True,
    )
    assert subs["email"]["marketing"]["can_receive_email_marketing"] is False  # suppressed, though subscribed
