"""The pytest plugin's fixtures, and the client's runtime (retries, pagination) against a running mock."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _create_profile(klaviyo_client: Any, email: str) -> Any:
    from klaviyo_client.api.profiles import create_profile
    from klaviyo_client.models import ProfileCreateQuery

    body = ProfileCreateQuery.from_dict({"data": {"type": "profile", "attributes": {"email": email}}})
    return create_profile.sync(client=klaviyo_client, body=body)


def test_readme_example(klaviyo_client: Any, klaviyo_mock: Any) -> None:
    """The plugin example in README.md ("In your own tests"), as written there."""
    created = _create_profile(klaviyo_client, "ada@example.com")
    assert created.data.attributes.email == "ada@example.com"
    assert [r["method"] for r in klaviyo_mock.journal()][-1:] == ["POST"]


def test_mock_fixture_answers_and_records_the_journal(klaviyo_mock: Any) -> None:
    response = klaviyo_mock.request("GET", "/api/profiles")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.api+json")
    journal = klaviyo_mock.journal()
    assert [(r["method"], r["operation_id"]) for r in journal] == [("GET", "get_profiles")]


def test_state_is_reset_between_tests(klaviyo_client: Any, klaviyo_mock: Any) -> None:
    from klaviyo_client.api.profiles import get_profiles

    _create_profile(klaviyo_client, "grace@example.com")
    assert len(get_profiles.sync(client=klaviyo_client).data) == 1
    klaviyo_mock.reset()  # what the fixture does before every test
    assert klaviyo_mock.journal() == []
    assert get_profiles.sync(client=klaviyo_client).data == []


@pytest.mark.klaviyo(seed="klaviyo-scoped-seed.yaml")
def test_a_seed_gives_the_tests_key_its_scopes(klaviyo_mock: Any) -> None:
    """A plugin seed's `settings`: the test's key reads, its writes are Klaviyo's 403 for a missing scope."""
    assert klaviyo_mock.request("GET", "/api/lists/Y6nRLr").status_code == 200
    body = {"data": {"type": "profile", "attributes": {"email": "ro@example.com"}}}
    refused = klaviyo_mock.request(
        "POST", "/api/profiles", json=body, headers={"content-type": "application/vnd.api+json"}
    )
    assert refused.status_code == 403 and "profiles:write" in refused.json()["errors"][0]["detail"]
    assert klaviyo_mock.request("GET", "/__mock__/settings").json()["features"]["sms"] is False


def test_the_next_test_has_full_access_again(klaviyo_mock: Any) -> None:
    assert klaviyo_mock.request("GET", "/__mock__/settings").json()["scopes"] == "full"


def test_pagination_follows_links_next_across_pages(klaviyo_client: Any, klaviyo_mock: Any) -> None:
    from klaviyo_client.api.profiles import get_profiles

    emails = {f"user{n}@example.com" for n in range(7)}
    for email in sorted(emails):
        _create_profile(klaviyo_client, email)
    klaviyo_mock.clear_journal()
    seen = [p.attributes.email for p in get_profiles.paginate(client=klaviyo_client, page_size=3)]
    assert sorted(seen) == sorted(emails)  # every item once, none twice
    pages = [r for r in klaviyo_mock.journal() if r["operation_id"] == "get_profiles"]
    assert len(pages) == 3  # 3 + 3 + 1
    assert all("page[cursor]" in r["query"] for r in pages[1:])


class _CountingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)


def test_injected_429_is_retried_after_retry_after(client_package: Any, klaviyo_mock: Any) -> None:
    from klaviyo_client import KlaviyoApiError, RetryPolicy
    from klaviyo_client.api.profiles import get_profiles

    transport = _CountingTransport()
    client = client_package.KlaviyoClient(
        klaviyo_mock.api_key,
        base_url=klaviyo_mock.base_url,
        revision=klaviyo_mock.revision,
        retry=RetryPolicy(max_attempts=2, backoff=0.0, max_delay=5.0),
        transport=transport,
        headers={"Prefer": "code=429"},
    )
    started = time.monotonic()
    with client, pytest.raises(KlaviyoApiError) as info:
        get_profiles.sync(client=client)
    waited = time.monotonic() - started
    assert info.value.status_code == 429
    assert info.value.response is not None and info.value.response.headers["Retry-After"] == "1"
    assert len(transport.requests) == 2  # the first try and one retry
    assert waited >= 1.0  # the retry waited for Retry-After (backoff alone would not wait at all)


def test_429_then_success_is_transparent(client_package: Any, klaviyo_mock: Any) -> None:
    """A 429 on the first try and a normal answer on the retry: the caller sees only the typed model."""
    from klaviyo_client import RetryPolicy
    from klaviyo_client.api.profiles import get_profiles

    class FirstTryThrottled(_CountingTransport):
        sent_prefer: list[str | None] = []

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if self.requests:  # the retry resends the same request object: answer it normally this time
                request.headers.pop("Prefer", None)
            else:
                request.headers["Prefer"] = "code=429"
            self.sent_prefer.append(request.headers.get("Prefer"))
            return super().handle_request(request)

    transport = FirstTryThrottled()
    client = client_package.KlaviyoClient(
        klaviyo_mock.api_key,
        base_url=klaviyo_mock.base_url,
        revision=klaviyo_mock.revision,
        retry=RetryPolicy(max_attempts=3, backoff=0.0, max_delay=5.0),
        transport=transport,
    )
    with client:
        page = get_profiles.sync(client=client)
    assert page.data == []
    assert transport.sent_prefer == ["code=429", None]


@pytest.mark.klaviyo_live
def test_live_read_only_contract(klaviyo_live_api_key: str) -> None:
    """--live: the read-only schemathesis checks against the real API (GET operations, valid data only)."""
    from contract_tests import ContractOptions, run_contract

    result = run_contract(
        ContractOptions(target="https://a.klaviyo.com", read_only=True, api_key=klaviyo_live_api_key, profile="smoke")
    )
    print(result.summary())
    assert result.ok, result.summary()
