"""The SDK surface of the generated client (issue 14): resource namespaces on `Klaviyo`/`AsyncKlaviyo`, the error
hierarchy, page objects, `with_options`, raw responses, env-var logging. On the wire through httpx.MockTransport,
with the full pinned client."""

from __future__ import annotations

import inspect
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from kdk.spec import iter_operations
from kdk.spec._pinned import load_pinned_spec

Handler = Callable[[httpx.Request], httpx.Response]
BASE = "https://a.klaviyo.com/api/profiles"


def _profile(n: int) -> dict[str, Any]:
    return {"type": "profile", "id": f"P{n}", "attributes": {"email": f"p{n}@example.com"}, "links": {"self": "x"}}


def _pages(count: int, per_page: int = 2) -> Handler:
    """Answers `count` pages of profiles, page k linking to page k+1 with a cursor (the last with next: null)."""

    def handler(request: httpx.Request) -> httpx.Response:
        k = int(request.url.params.get("page[cursor]", "1"))
        items = [_profile((k - 1) * per_page + i + 1) for i in range(per_page)]
        next_url = f"{BASE}?page%5Bcursor%5D={k + 1}&fields%5Bprofile%5D=email" if k < count else None
        return httpx.Response(200, json={"data": items, "links": {"self": str(request.url), "next": next_url}})

    return handler


def _error(status: int, headers: dict[str, str] | None = None) -> Handler:
    body = {"errors": [{"id": "err-1", "status": str(status), "code": "c", "title": "T", "detail": "d"}]}
    return lambda request: httpx.Response(status, json=body, headers=headers)


def _sync(kc: ModuleType, handler: Handler, **kwargs: Any) -> Any:
    kwargs.setdefault("retry", None)
    return kc.Klaviyo(kwargs.pop("api_key", "pk_test"), transport=httpx.MockTransport(handler), **kwargs)


def _async(kc: ModuleType, handler: Handler, **kwargs: Any) -> Any:
    kwargs.setdefault("retry", None)
    return kc.AsyncKlaviyo(kwargs.pop("api_key", "pk_test"), async_transport=httpx.MockTransport(handler), **kwargs)


# --- namespaces -----------------------------------------------------------------------------------------------------


def test_one_namespace_per_tag_and_one_typed_method_per_operation(kc: ModuleType) -> None:
    """Every operation of the pinned spec is a method of `Klaviyo.<tag>` and `AsyncKlaviyo.<tag>`, with the
    endpoint's own parameters and annotations (the spec decides the count, not this test)."""
    spec = load_pinned_spec()
    import klaviyo_client.api as api_package

    api_dir = Path(api_package.__file__).parent
    expected = {}
    for op in iter_operations(spec):
        found = sorted(api_dir.glob(f"*/{op.operation_id}.py"))
        assert found, op.operation_id
        expected[op.operation_id] = found[0].parent.name
    client, aclient = kc.Klaviyo("pk"), kc.AsyncKlaviyo("pk")
    for operation, tag in expected.items():
        import importlib

        module = importlib.import_module(f"klaviyo_client.api.{tag}.{operation}")
        method = getattr(getattr(client, tag), operation)
        amethod = getattr(getattr(aclient, tag), operation)
        assert inspect.iscoroutinefunction(amethod) and not inspect.iscoroutinefunction(method)
        wanted = [p for p in inspect.signature(module.sync).parameters.values() if p.name != "client"]
        for bound in (method, amethod, getattr(getattr(client, tag).with_raw_response, operation)):
            got = list(inspect.signature(bound).parameters.values())
            assert [(p.name, p.annotation, p.default, p.kind) for p in got] == [
                (p.name, p.annotation, p.default, p.kind) for p in wanted
            ], operation
    assert client.profiles is client.profiles  # made once per client


def test_api_key_is_read_from_the_environment(kc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _pages(1)(request)

    monkeypatch.setenv("KLAVIYO_API_KEY", "pk_from_env")
    client = kc.Klaviyo(transport=httpx.MockTransport(handler))
    client.profiles.get_profiles()
    assert seen[0].headers["Authorization"] == "Klaviyo-API-Key pk_from_env"
    explicit = kc.Klaviyo("pk_given", transport=httpx.MockTransport(handler))
    explicit.profiles.get_profiles()
    assert seen[1].headers["Authorization"] == "Klaviyo-API-Key pk_given"
    monkeypatch.delenv("KLAVIYO_API_KEY")
    kc.Klaviyo(transport=httpx.MockTransport(handler)).profiles.get_profiles()
    assert "Authorization" not in seen[2].headers  # client-side endpoints need no key


def test_sync_namespace_call_with_a_body(kc: ModuleType) -> None:
    from klaviyo_client.models import ListCreateQuery

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        data = {"type": "list", "id": "L1", "attributes": {"name": "VIP"}, "links": {"self": "x"}}
        return httpx.Response(201, json={"data": data})

    body = ListCreateQuery.from_dict({"data": {"type": "list", "attributes": {"name": "VIP"}}})
    created = _sync(kc, handler).lists.create_list(body=body)
    assert created.data.id == "L1" and seen[0].method == "POST" and seen[0].url.path == "/api/lists"


async def test_async_namespace_call(kc: ModuleType) -> None:
    from klaviyo_client.models import ListCreateQuery

    def handler(request: httpx.Request) -> httpx.Response:
        data = {"type": "list", "id": "L2", "attributes": {"name": "VIP"}, "links": {"self": "x"}}
        return httpx.Response(201, json={"data": data})

    body = ListCreateQuery.from_dict({"data": {"type": "list", "attributes": {"name": "VIP"}}})
    async with _async(kc, handler) as client:
        created = await client.lists.create_list(body=body)
    assert created.data.id == "L2"


# --- errors ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (403, "PermissionDeniedError"),
        (404, "NotFoundError"),
        (405, "MethodNotAllowedError"),
        (409, "ConflictError"),
        (413, "PayloadTooLargeError"),
        (415, "UnsupportedMediaTypeError"),
        (429, "RateLimitError"),
        (500, "InternalServerError"),
        (503, "InternalServerError"),
        (418, "KlaviyoApiError"),
    ],
)
def test_status_errors_have_a_class_per_status(kc: ModuleType, status: int, name: str) -> None:
    handler = _error(status, {"x-klaviyo-request-id": "req-9", "Retry-After": "7"})
    with pytest.raises(kc.APIStatusError) as caught:
        _sync(kc, handler).profiles.get_profile(id="P1")
    error = caught.value
    assert type(error) is getattr(kc, name)
    assert isinstance(error, kc.KlaviyoError) and isinstance(error, kc.KlaviyoApiError)
    assert error.status_code == status and error.request_id == "req-9"
    assert error.errors[0].code == "c" and error.response.status_code == status
    if status == 429:
        assert error.retry_after == 7.0


def test_request_id_falls_back_to_the_error_id(kc: ModuleType) -> None:
    with pytest.raises(kc.NotFoundError) as caught:
        _sync(kc, _error(404)).profiles.get_profile(id="P1")
    assert caught.value.request_id == "err-1"


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (httpx.ConnectError("refused"), "APIConnectionError"),
        (httpx.ReadError("reset"), "APIConnectionError"),
        (httpx.RemoteProtocolError("closed"), "APIConnectionError"),
        (httpx.ConnectTimeout("slow"), "APITimeoutError"),
        (httpx.ReadTimeout("slow"), "APITimeoutError"),
    ],
)
async def test_transport_errors_never_leak_as_httpx_exceptions(
    kc: ModuleType, raised: Exception, expected: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    with pytest.raises(getattr(kc, expected)) as caught:
        _sync(kc, handler).profiles.get_profiles()
    assert isinstance(caught.value, kc.APIConnectionError) and caught.value.__cause__ is raised
    assert not isinstance(caught.value, httpx.HTTPError)
    with pytest.raises(getattr(kc, expected)):
        await _async(kc, handler).profiles.get_profiles()
    # the free functions underneath behave the same
    from klaviyo_client.api.profiles import get_profiles

    with pytest.raises(getattr(kc, expected)):
        get_profiles.sync(client=_sync(kc, handler))


# --- pages ----------------------------------------------------------------------------------------------------------


def test_page_object_iterates_its_items_and_all_pages(kc: ModuleType) -> None:
    client = _sync(kc, _pages(3))
    page = client.profiles.get_profiles(fields_profile=["email"])
    assert isinstance(page, kc.SyncPage)
    assert [p.id for p in page.data] == ["P1", "P2"]
    assert page.has_next_page()
    second = page.next_page()
    assert [p.id for p in second.data] == ["P3", "P4"] and second.has_next_page()
    third = second.next_page()
    assert not third.has_next_page()
    with pytest.raises(RuntimeError, match="no next page"):
        third.next_page()
    assert [p.id for p in page] == [f"P{n}" for n in range(1, 7)]  # every item across pages
    assert [len(p.data) for p in page.iter_pages()] == [2, 2, 2]
    assert page.model.links.self_.startswith(BASE)  # the whole typed answer


async def test_async_page_object(kc: ModuleType) -> None:
    client = _async(kc, _pages(3))
    page = await client.profiles.get_profiles()
    assert isinstance(page, kc.AsyncPage)
    assert [p.id for p in page.data] == ["P1", "P2"] and page.has_next_page()
    second = await page.next_page()
    assert [p.id for p in second.data] == ["P3", "P4"]
    assert [p.id async for p in page] == [f"P{n}" for n in range(1, 7)]


def test_a_repeated_next_link_ends_the_walk(kc: ModuleType) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"data": [_profile(1)], "links": {"self": "s", "next": f"{BASE}?page%5Bcursor%5D=same"}}
        return httpx.Response(200, json=body)

    page = _sync(kc, handler).profiles.get_profiles()
    assert len(list(page)) == 2  # the first page, then the looping page once


# --- options, raw responses, logging ------------------------------------------------------------------------------


def test_with_options_per_call(kc: ModuleType) -> None:
    seen: list[httpx.Request] = []
    statuses = iter([429, 429, 200, 429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = next(statuses)
        if status == 429:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return _pages(1)(request)

    client = _sync(kc, handler, retry=kc.RetryPolicy(max_attempts=1))
    client.with_options(max_retries=2).profiles.get_profiles()  # 429, 429, 200
    assert len(seen) == 3
    with pytest.raises(kc.RateLimitError):
        client.profiles.get_profiles()  # the original client did not change: no retry
    other = client.with_options(revision="2025-01-15", timeout=4.5, max_retries=1)
    other.profiles.get_profiles()
    assert seen[-1].headers["revision"] == "2025-01-15" and seen[0].headers["revision"] == kc.REVISION
    assert seen[-1].extensions["timeout"]["read"] == 4.5
    assert isinstance(other, kc.Klaviyo) and other.get_httpx_client() is client.get_httpx_client()  # one pool
    with pytest.raises(ValueError):
        client.with_options(max_retries=-1)


def test_raw_response_for_any_call(kc: ModuleType) -> None:
    client = _sync(kc, _pages(2))
    raw = client.profiles.with_raw_response.get_profiles()
    assert isinstance(raw, kc.Response) and raw.status_code == 200 and b'"P1"' in raw.content
    assert raw.parsed is not None and [p.id for p in raw.parsed.data] == ["P1", "P2"]
    with pytest.raises(kc.NotFoundError):
        _sync(kc, _error(404)).profiles.with_raw_response.get_profile(id="x")


def test_logging_is_switched_on_by_klaviyo_log(full_client: tuple[Path, Any]) -> None:
    code = (
        "import httpx, klaviyo_client as kc\n"
        "h = lambda r: httpx.Response(429, headers={'Retry-After': '0'}) if 'retry' not in r.headers "
        "else httpx.Response(200, json={'data': [], 'links': {'self': 's'}})\n"
        "n = iter(range(9))\n"
        "def h2(r):\n"
        "    return httpx.Response(429, headers={'Retry-After': '0'}) if next(n) == 0 else "
        "httpx.Response(200, json={'data': [], 'links': {'self': 's'}})\n"
        "kc.Klaviyo('pk', transport=httpx.MockTransport(h2)).profiles.get_profiles()\n"
    )
    root = str(full_client[0].parent)
    for level, expected in (("debug", ["Retrying GET", "HTTP GET"]), ("info", ["Retrying GET"]), ("", [])):
        env = {"KLAVIYO_LOG": level, "PATH": "/usr/bin:/bin"}
        proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        for text in ("Retrying GET", "HTTP GET"):
            assert (text in proc.stderr) == (text in expected), (level, proc.stderr)


def test_logger_is_the_standard_one(kc: ModuleType) -> None:
    assert logging.getLogger("klaviyo_client") is sys.modules["klaviyo_client._logs"].logger


def test_base_url_is_read_from_the_environment(kc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLAVIYO_BASE_URL", "http://127.0.0.1:4010")
    assert kc.Klaviyo("pk").base_url == "http://127.0.0.1:4010"
    assert kc.Klaviyo("pk", base_url="http://other").base_url == "http://other"
    monkeypatch.delenv("KLAVIYO_BASE_URL")
    assert kc.Klaviyo("pk").base_url == "https://a.klaviyo.com"


def test_a_copy_states_only_what_differs_from_the_pool(kc: ModuleType) -> None:
    """The original client's requests carry no per-request options; a `with_options` copy's carry its own, and
    setting `client.revision` after the pool exists still changes the header."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _pages(1)(request)

    client = _sync(kc, handler)
    client.profiles.get_profiles()
    client.revision = "2026-01-15"
    client.profiles.get_profiles()
    client.with_options(retry=kc.RetryPolicy(max_attempts=2)).profiles.get_profiles()
    assert [r.headers["revision"] for r in seen] == [kc.REVISION, "2026-01-15", "2026-01-15"]
    assert "klaviyo_retry" not in seen[0].extensions and seen[2].extensions["klaviyo_retry"].max_attempts == 2
