"""The generated client against the mock server, in process over ASGI (no sockets): the wire contract holds on
both sides, and every GET whose required arguments are plain strings parses the mock's schema-generated answer."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import httpx
import pytest

API_KEY = "pk_test_0123456789abcdef"


@pytest.fixture(scope="module")
def mock_app(kc: ModuleType) -> Any:
    import mock_server

    return mock_server.create_app()


@pytest.fixture
async def client(kc: ModuleType, mock_app: Any) -> AsyncIterator[Any]:
    client = kc.KlaviyoClient(
        API_KEY, base_url="http://mock", async_transport=httpx.ASGITransport(app=mock_app), retry=None
    )
    yield client
    await client.aclose()


async def test_list_call_with_comma_joined_fields(client: Any) -> None:
    from klaviyo_client.api.profiles import get_profiles

    page = await get_profiles.asyncio(client=client, fields_profile=["email", "first_name"], page_size=3)
    assert isinstance(page.data, list)
    # The mock echoes the request in links.self: one comma-joined value, as the spec's explode: false says.
    assert "fields%5Bprofile%5D=email%2Cfirst_name" in page.links.self_
    items = [item async for item in get_profiles.paginate_async(client=client, page_size=5)]
    assert all(item.type_ == "profile" for item in items)


async def test_create_with_json_api_body(client: Any) -> None:
    from klaviyo_client.api.profiles import create_profile
    from klaviyo_client.models import ProfileCreateQuery

    body = ProfileCreateQuery.from_dict({"data": {"type": "profile", "attributes": {"email": "a@example.com"}}})
    created = await create_profile.asyncio(client=client, body=body)
    assert created.data.type_ == "profile" and created.data.id


async def test_validation_error_is_parsed(kc: ModuleType, client: Any) -> None:
    from klaviyo_client.api.profiles import get_profiles

    with pytest.raises(kc.KlaviyoApiError) as caught:
        await get_profiles.asyncio(client=client, page_size=500)
    assert caught.value.status_code == 400
    error = caught.value.first
    assert error is not None and error.code == "invalid" and error.source_parameter == "page[size]"


async def test_missing_credentials_are_refused(kc: ModuleType, mock_app: Any) -> None:
    from klaviyo_client.api.lists import get_lists

    anonymous = kc.KlaviyoClient(base_url="http://mock", async_transport=httpx.ASGITransport(app=mock_app))
    with pytest.raises(kc.KlaviyoApiError) as caught:
        await get_lists.asyncio(client=anonymous)
    assert caught.value.status_code == 401
    await anonymous.aclose()


def _simple_gets(api: ModuleType) -> list[tuple[ModuleType, dict[str, str]]]:
    """GET endpoint modules whose required arguments are all `str` (ids), with a dummy value for each."""
    calls = []
    for info in pkgutil.walk_packages(api.__path__, api.__name__ + "."):
        module = importlib.import_module(info.name)
        if not hasattr(module, "asyncio") or '"method": "get"' not in inspect.getsource(module._get_kwargs):
            continue
        required = {
            name: param.annotation
            for name, param in inspect.signature(module.asyncio).parameters.items()
            if name != "client" and param.default is inspect.Parameter.empty
        }
        if all(annotation in ("str", str) for annotation in required.values()):
            calls.append((module, dict.fromkeys(required, "abc123")))
    return calls


async def test_every_simple_get_parses_the_mock_answer(kc: ModuleType, client: Any) -> None:
    import klaviyo_client.api

    calls = _simple_gets(klaviyo_client.api)
    assert len(calls) > 150
    failures = []
    for module, args in calls:
        try:
            await module.asyncio(client=client, **args)
        except Exception as exc:  # collect them all: one report beats 200 reruns
            failures.append(f"{module.__name__}: {type(exc).__name__}: {str(exc)[:200]}")
    assert failures == []


def test_sync_calls_and_pagination(kc: ModuleType, mock_app: Any) -> None:
    """Sync twin, through Starlette's test transport (a sync httpx transport driving the ASGI app)."""
    from klaviyo_client.api.profiles import get_profiles

    with mock_app.test_client(base_url="http://mock") as test_client:
        client = kc.KlaviyoClient(API_KEY, base_url="http://mock", transport=test_client._transport, retry=None)
        page = get_profiles.sync(client=client, fields_profile=["email"], page_size=2)
        assert "fields%5Bprofile%5D=email" in page.links.self_
        assert all(item.type_ == "profile" for item in get_profiles.paginate(client=client, page_size=2))
        with pytest.raises(kc.KlaviyoApiError):
            get_profiles.sync(client=client, page_size=0)


async def test_retries_the_mock_429_with_its_retry_after(kc: ModuleType, mock_app: Any) -> None:
    """The mock's fault injection (`Prefer: code=429` answers 429 + Retry-After: 1) drives the retry transport."""
    from klaviyo_client._retry import AsyncRetryTransport
    from klaviyo_client.api.profiles import get_profiles

    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = AsyncRetryTransport(httpx.ASGITransport(app=mock_app), kc.RetryPolicy(max_attempts=3), sleep=fake_sleep)
    client = kc.KlaviyoClient(
        API_KEY, base_url="http://mock", headers={"Prefer": "code=429"}, async_transport=transport, retry=None
    )
    with pytest.raises(kc.KlaviyoApiError) as caught:
        await get_profiles.asyncio(client=client)
    assert caught.value.status_code == 429
    assert caught.value.response is not None and caught.value.response.headers["Retry-After"] == "1"
    assert sleeps == [1.0, 1.0]
    await client.aclose()
