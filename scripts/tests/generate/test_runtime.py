"""The runtime layer of the generated client, on the wire (httpx.MockTransport): auth, headers, names,
comma-joined lists, retries with a fake clock, Retry-After, pagination, typed errors. Uses the full pinned client."""

from __future__ import annotations

import email.utils
import inspect
import json
import random
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import pytest

JSON_API = "application/vnd.api+json"


def _profile(n: int) -> dict[str, Any]:
    return {"type": "profile", "id": f"P{n}", "attributes": {"email": f"p{n}@example.com"}, "links": {"self": "x"}}


def _page(items: list[dict[str, Any]], next_url: str | None) -> dict[str, Any]:
    links: dict[str, Any] = {"self": "https://a.klaviyo.com/api/profiles"}
    if next_url:
        links["next"] = next_url
    return {"data": items, "links": links}


class Recorder:
    """A MockTransport handler that records requests and plays back canned responses in order."""

    def __init__(self, *responses: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        if callable(item):
            return item(request)
        return item


def _ok(body: dict[str, Any] | None = None, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else _page([], None), headers=headers)


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def profiles(kc: ModuleType) -> ModuleType:
    from klaviyo_client.api.profiles import get_profiles

    return get_profiles


def _client(kc: ModuleType, handler: Recorder, **kwargs: Any) -> Any:
    return kc.KlaviyoClient(
        kwargs.pop("api_key", "pk_test"),
        transport=httpx.MockTransport(handler),
        async_transport=httpx.MockTransport(handler),
        retry=kwargs.pop("retry", None),
        **kwargs,
    )


# --- auth and headers ---------------------------------------------------------------------------------------------


def test_api_key_auth_accept_and_revision_headers(kc: ModuleType, profiles: ModuleType) -> None:
    handler = Recorder(_ok())
    profiles.sync(client=_client(kc, handler, api_key="pk_abc"))
    request = handler.requests[0]
    assert request.headers["Authorization"] == "Klaviyo-API-Key pk_abc"
    assert request.headers["Accept"] == JSON_API
    assert request.headers["revision"] == kc.REVISION == "2026-07-15"
    assert request.url.host == "a.klaviyo.com"


def test_oauth_token_sends_bearer(kc: ModuleType, profiles: ModuleType) -> None:
    handler = Recorder(_ok())
    client = kc.KlaviyoClient(oauth_token="tok", transport=httpx.MockTransport(handler), retry=None)
    profiles.sync(client=client)
    assert handler.requests[0].headers["Authorization"] == "Bearer tok"


def test_api_key_and_oauth_token_are_exclusive(kc: ModuleType) -> None:
    with pytest.raises(ValueError, match="either"):
        kc.KlaviyoClient("pk", oauth_token="tok")


def test_revision_set_once_on_the_client(kc: ModuleType, profiles: ModuleType) -> None:
    handler = Recorder(_ok())
    client = _client(kc, handler, revision="2026-04-15")
    profiles.sync(client=client)
    client.revision = "2026-01-15"  # also after the httpx client exists
    profiles.sync(client=client)
    other = client.with_revision("2025-10-15")
    profiles.sync(client=other)
    assert [r.headers["revision"] for r in handler.requests] == ["2026-04-15", "2026-01-15", "2025-10-15"]
    assert "revision" not in inspect.signature(profiles.sync).parameters


def test_request_body_is_json_api(kc: ModuleType) -> None:
    from klaviyo_client.api.profiles import create_profile
    from klaviyo_client.models import ProfileCreateQuery

    handler = Recorder(_ok({"data": _profile(1)}, status=201))
    body = ProfileCreateQuery.from_dict({"data": {"type": "profile", "attributes": {"email": "a@example.com"}}})
    result = create_profile.sync(client=_client(kc, handler), body=body)
    request = handler.requests[0]
    assert request.method == "POST"
    assert request.headers["Content-Type"] == JSON_API
    assert json.loads(request.content)["data"]["attributes"]["email"] == "a@example.com"
    assert result.data.id == "P1"


# --- names and comma-joined lists ------------------------------------------------------------------------------------


def test_readable_python_names(profiles: ModuleType) -> None:
    names = set(inspect.signature(profiles.sync).parameters)
    assert {"page_cursor", "page_size", "fields_profile", "additional_fields_profile", "filter_"} <= names
    assert not {"pagecursor", "fieldsprofile", "additional_fieldsprofile"} & names


def test_explode_false_lists_are_comma_joined(kc: ModuleType, profiles: ModuleType) -> None:
    handler = Recorder(_ok())
    profiles.sync(
        client=_client(kc, handler),
        fields_profile=["email", "first_name"],
        additional_fields_profile=["subscriptions"],
        filter_="equals(email,'a@example.com')",
        page_size=5,
    )
    params = handler.requests[0].url.params
    assert params.get_list("fields[profile]") == ["email,first_name"]
    assert params["additional-fields[profile]"] == "subscriptions"
    assert params["filter"] == "equals(email,'a@example.com')"
    assert params["page[size]"] == "5"
    assert "fields%5Bprofile%5D=email%2Cfirst_name" in str(handler.requests[0].url)


# --- errors ------------------------------------------------------------------------------------------------------


def test_error_answer_raises_typed_exception(kc: ModuleType, profiles: ModuleType) -> None:
    body = {
        "errors": [
            {
                "id": "e1",
                "status": 400,
                "code": "invalid",
                "title": "Invalid input.",
                "detail": "'page_size' must be <= 100",
                "source": {"pointer": "/data/attributes/page_size"},
            }
        ]
    }
    handler = Recorder(httpx.Response(400, json=body))
    with pytest.raises(kc.KlaviyoApiError) as caught:
        profiles.sync(client=_client(kc, handler))
    error = caught.value
    assert error.status_code == 400
    assert error.errors == [
        kc.ApiErrorDetail(
            status=400,
            code="invalid",
            title="Invalid input.",
            detail="'page_size' must be <= 100",
            source_pointer="/data/attributes/page_size",
            id="e1",
        )
    ]
    assert "invalid" in str(error) and "/data/attributes/page_size" in str(error)


def test_non_json_error_body_gives_empty_error_list(kc: ModuleType, profiles: ModuleType) -> None:
    handler = Recorder(httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(kc.KlaviyoApiError) as caught:
        profiles.sync(client=_client(kc, handler))
    assert caught.value.status_code == 502 and caught.value.errors == []


async def test_async_call_and_error(kc: ModuleType, profiles: ModuleType) -> None:
    handler = Recorder(_ok(_page([_profile(1)], None)), httpx.Response(404, json={"errors": []}))
    client = _client(kc, handler)
    page = await profiles.asyncio(client=client, fields_profile=["email"])
    assert [p.id for p in page.data] == ["P1"]
    with pytest.raises(kc.KlaviyoApiError):
        await profiles.asyncio(client=client)
    assert handler.requests[0].url.params["fields[profile]"] == "email"
    await client.aclose()


# --- pagination ---------------------------------------------------------------------------------------------------


def _three_pages() -> Recorder:
    base = "https://a.klaviyo.com/api/profiles/?page%5Bcursor%5D="
    return Recorder(
        _ok(_page([_profile(1), _profile(2)], base + "c2&fields%5Bprofile%5D=email")),
        _ok(_page([_profile(3)], base + "c3&fields%5Bprofile%5D=email")),
        _ok(_page([_profile(4)], None)),
    )


def test_paginate_follows_links_next(kc: ModuleType, profiles: ModuleType) -> None:
    handler = _three_pages()
    items = list(profiles.paginate(client=_client(kc, handler), fields_profile=["email"]))
    assert [p.id for p in items] == ["P1", "P2", "P3", "P4"]
    urls = [str(r.url) for r in handler.requests]
    assert len(urls) == 3 and "c2" in urls[1] and "c3" in urls[2]
    assert all(r.headers["revision"] == kc.REVISION for r in handler.requests)


async def test_paginate_async_follows_links_next(kc: ModuleType, profiles: ModuleType) -> None:
    handler = _three_pages()
    items = [p async for p in profiles.paginate_async(client=_client(kc, handler), fields_profile=["email"])]
    assert [p.id for p in items] == ["P1", "P2", "P3", "P4"]


def test_paginate_stops_on_a_repeated_link(kc: ModuleType, profiles: ModuleType) -> None:
    loop = "https://a.klaviyo.com/api/profiles/?page%5Bcursor%5D=same"
    handler = Recorder(_ok(_page([_profile(1)], loop)))
    assert len(list(profiles.paginate(client=_client(kc, handler)))) == 2  # first page + the looping one
    assert len(handler.requests) == 2


# --- retries --------------------------------------------------------------------------------------------------------


def _retrying(kc: ModuleType, handler: Recorder, clock: FakeClock, **policy: Any) -> httpx.Client:
    from klaviyo_client._retry import RetryTransport

    transport = RetryTransport(
        httpx.MockTransport(handler),
        kc.RetryPolicy(**policy),
        sleep=clock.sleep,
        clock=clock.time,
        rng=random.Random(7),
    )
    return httpx.Client(transport=transport, base_url="https://a.klaviyo.com")


@pytest.mark.parametrize("status", [429, 503, 504])
def test_retries_retryable_statuses_with_exponential_backoff(kc: ModuleType, status: int) -> None:
    clock = FakeClock()
    handler = Recorder(httpx.Response(status), httpx.Response(status), httpx.Response(status), _ok())
    response = _retrying(kc, handler, clock, max_attempts=4, backoff=1.0, max_delay=30).get("/api/profiles")
    assert response.status_code == 200
    assert len(handler.requests) == 4
    # Equal jitter: retry n waits within [d/2, d], d = 1, 2, 4.
    for wait, ceiling in zip(clock.sleeps, [1.0, 2.0, 4.0], strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_gives_up_after_max_attempts(kc: ModuleType) -> None:
    clock = FakeClock()
    handler = Recorder(httpx.Response(503))
    response = _retrying(kc, handler, clock, max_attempts=3).get("/api/profiles")
    assert response.status_code == 503
    assert len(handler.requests) == 3 and len(clock.sleeps) == 2


def test_backoff_is_capped_by_max_delay(kc: ModuleType) -> None:
    clock = FakeClock()
    handler = Recorder(httpx.Response(429))
    _retrying(kc, handler, clock, max_attempts=8, backoff=1.0, max_delay=3.0).get("/api/profiles")
    assert max(clock.sleeps) <= 3.0 and len(clock.sleeps) == 7


def test_retry_after_seconds_is_honoured(kc: ModuleType) -> None:
    clock = FakeClock()
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "7"}), _ok())
    assert _retrying(kc, handler, clock).get("/api/profiles").status_code == 200
    assert clock.sleeps == [7.0]


def test_retry_after_http_date_is_honoured(kc: ModuleType) -> None:
    clock = FakeClock()
    when = email.utils.formatdate(clock.now + 12, usegmt=True)
    handler = Recorder(httpx.Response(503, headers={"Retry-After": when}), _ok())
    assert _retrying(kc, handler, clock).get("/api/profiles").status_code == 200
    assert clock.sleeps == [pytest.approx(12.0, abs=1.0)]


def test_retry_after_longer_than_max_delay_returns_the_answer(kc: ModuleType) -> None:
    clock = FakeClock()
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "3600"}), _ok())
    response = _retrying(kc, handler, clock, max_delay=30).get("/api/profiles")
    assert response.status_code == 429 and clock.sleeps == [] and len(handler.requests) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
        ("Fri, 15 Jan 2027 08:00:10 GMT", 10.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(kc: ModuleType, value: str | None, expected: float | None) -> None:
    from klaviyo_client._retry import parse_retry_after

    now = email.utils.parsedate_to_datetime("Fri, 15 Jan 2027 08:00:00 GMT").timestamp()
    assert parse_retry_after(value, now=now) == expected


def test_post_is_not_retried_on_503_or_after_sending(kc: ModuleType) -> None:
    clock = FakeClock()
    handler = Recorder(httpx.Response(503))
    assert _retrying(kc, handler, clock).post("/api/profiles", json={}).status_code == 503
    assert len(handler.requests) == 1
    handler = Recorder(httpx.ReadError("connection reset"))
    with pytest.raises(httpx.ReadError):
        _retrying(kc, handler, clock).post("/api/profiles", json={})
    assert len(handler.requests) == 1


def test_post_is_retried_on_429_and_on_connect_errors(kc: ModuleType) -> None:
    clock = FakeClock()
    handler = Recorder(httpx.Response(429), httpx.ConnectError("refused"), _ok(status=201))
    assert _retrying(kc, handler, clock).post("/api/profiles", json={"a": 1}).status_code == 201
    assert len(handler.requests) == 3
    assert all(json.loads(r.content) == {"a": 1} for r in handler.requests)


def test_get_is_retried_on_read_errors(kc: ModuleType) -> None:
    clock = FakeClock()
    handler = Recorder(httpx.ReadError("reset"), httpx.RemoteProtocolError("closed"), _ok())
    assert _retrying(kc, handler, clock).get("/api/profiles").status_code == 200
    assert len(handler.requests) == 3


def test_connection_errors_give_up_after_max_attempts(kc: ModuleType) -> None:
    clock = FakeClock()
    handler = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(httpx.ConnectError):
        _retrying(kc, handler, clock, max_attempts=2).get("/api/profiles")
    assert len(handler.requests) == 2


async def test_async_retry_transport(kc: ModuleType) -> None:
    from klaviyo_client._retry import AsyncRetryTransport

    clock = FakeClock()
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "2"}), _ok())
    policy = kc.RetryPolicy()
    transport = AsyncRetryTransport(httpx.MockTransport(handler), policy, sleep=clock.asleep, clock=clock.time)
    async with httpx.AsyncClient(transport=transport, base_url="https://a.klaviyo.com") as client:
        assert (await client.get("/api/profiles")).status_code == 200
    assert clock.sleeps == [2.0]


def test_client_retries_through_its_transport(kc: ModuleType, profiles: ModuleType) -> None:
    """KlaviyoClient wraps its transport in the retry transport (default policy, real sleep kept tiny)."""
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "0"}), _ok())
    client = kc.KlaviyoClient("pk", transport=httpx.MockTransport(handler))
    profiles.sync(client=client)
    assert len(handler.requests) == 2


def test_retry_policy_validates(kc: ModuleType) -> None:
    with pytest.raises(ValueError):
        kc.RetryPolicy(max_attempts=0)
