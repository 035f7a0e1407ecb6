"""The seam to the stateful layer: behaviours see validated MockRequests; admin routes under /__mock__/."""

from __future__ import annotations

from typing import Any

import httpx

from mock_server import AdminRoute, MockRequest, MockResponse, account_id, error_response, mock_core

from .conftest import API_KEY, AUTH, JSON_API, REVISION, asgi_client


class Recorder:
    """Answers GET /api/lists/{id} itself; records everything it is offered."""

    def __init__(self) -> None:
        self.seen: list[MockRequest] = []

    async def handle(self, request: MockRequest) -> MockResponse | None:
        self.seen.append(request)
        if request.operation_id == "get_list" and request.path_params["id"] == "gone00":
            return error_response(404, "No list with id gone00.")
        if request.operation_id == "get_list":
            body = {"data": {"type": "list", "id": request.path_params["id"], "attributes": {"name": "From state"}}}
            return MockResponse(200, body, {"X-From": "behaviour"})
        return None

    def admin_routes(self) -> list[AdminRoute]:
        async def journal(request: MockRequest) -> MockResponse:
            return MockResponse(200, {"count": len(self.seen), "account": request.account})

        async def reset(request: MockRequest) -> MockResponse:
            self.seen.clear()
            return MockResponse(204)

        async def account(request: MockRequest) -> MockResponse:
            return MockResponse(200, {"account": request.path_params["name"], "body": request.body})

        return [
            AdminRoute("get", "/__mock__/journal", journal),
            AdminRoute("post", "/__mock__/reset", reset),
            AdminRoute("post", "/__mock__/accounts/{name}", account),
        ]


async def test_behaviour_answers_and_falls_through(mock_app_factory: Any) -> None:
    recorder = Recorder()
    async with asgi_client(mock_app_factory(behaviours=[recorder])) as client:
        own = await client.get("/api/lists/Y6nRLr/", headers=AUTH)
        assert own.status_code == 200
        assert own.json()["data"]["attributes"] == {"name": "From state"}
        assert own.headers["content-type"] == JSON_API
        assert own.headers["revision"] == REVISION
        assert own.headers["x-from"] == "behaviour"
        missing = await client.get("/api/lists/gone00", headers=AUTH)
        assert missing.status_code == 404
        assert missing.json()["errors"][0]["code"] == "not_found"
        generated = await client.get("/api/profiles?fields[profile]=email", headers=AUTH)
        assert generated.status_code == 200
        assert generated.json()["data"][0]["type"] == "profile"
    first = recorder.seen[0]
    assert first.operation_id == "get_list"
    assert first.method == "get"
    assert first.path_template == "/api/lists/{id}"
    assert first.path_params == {"id": "Y6nRLr"}
    assert first.account == account_id("api_key", API_KEY)  # an opaque id, never the key itself
    assert API_KEY not in first.account
    assert first.auth_kind == "api_key"
    assert first.revision == REVISION
    assert first.base_url == "http://mock.test"
    assert recorder.seen[2].query == {"fields[profile]": "email"}


async def test_behaviours_see_only_valid_requests(mock_app_factory: Any) -> None:
    recorder = Recorder()
    async with asgi_client(mock_app_factory(behaviours=[recorder])) as client:
        await client.get("/api/lists/Y6nRLr")  # no credentials
        await client.get("/api/lists?page[size]=0", headers=AUTH)
        await client.post("/api/lists", content=b"{", headers={**AUTH, "content-type": JSON_API})
    assert recorder.seen == []


async def test_tenants_per_credential(mock_app_factory: Any) -> None:
    recorder = Recorder()
    async with asgi_client(mock_app_factory(behaviours=[recorder])) as client:
        await client.get("/api/lists/a", headers={"revision": REVISION, "Authorization": "Klaviyo-API-Key pk_one"})
        await client.get("/api/lists/a", headers={"revision": REVISION, "Authorization": "Bearer tok"})
        body = {"data": {"type": "profile", "attributes": {"email": "a@b.co"}}}
        await client.post(
            "/client/profiles?company_id=PUB123", json=body, headers={"revision": REVISION, "content-type": JSON_API}
        )
    assert [(r.account, r.auth_kind) for r in recorder.seen] == [
        (account_id("api_key", "pk_one"), "api_key"),
        (account_id("oauth", "tok"), "oauth"),
        (account_id("company", "PUB123"), "none"),
    ]
    assert recorder.seen[2].body == body


async def test_json_body_reaches_the_behaviour(mock_app_factory: Any) -> None:
    recorder = Recorder()
    body = {"data": {"type": "list", "attributes": {"name": "VIP"}}}
    async with asgi_client(mock_app_factory(behaviours=[recorder])) as client:
        response = await client.post("/api/lists", json=body, headers={**AUTH, "content-type": JSON_API})
    assert response.status_code == 201
    assert recorder.seen[0].body == body


async def test_admin_routes(mock_app_factory: Any) -> None:
    recorder = Recorder()
    async with asgi_client(mock_app_factory(behaviours=[recorder])) as client:
        await client.get("/api/lists/x", headers=AUTH)
        journal = await client.get("/__mock__/journal", headers={"Authorization": "Klaviyo-API-Key pk_one"})
        assert journal.json() == {"count": 1, "account": account_id("api_key", "pk_one")}
        assert (await client.post("/__mock__/reset")).status_code == 204
        assert (await client.get("/__mock__/journal")).json() == {"count": 0, "account": ""}
        named = await client.post("/__mock__/accounts/ci-7", json={"x": 1})
        assert named.json() == {"account": "ci-7", "body": {"x": 1}}
        wrong = await client.delete("/__mock__/journal")
        assert wrong.status_code == 405
        assert wrong.headers["allow"] == "GET"
        assert (await client.get("/__mock__/nothing")).status_code == 404


async def test_extra_admin_routes_and_generated_response(mock_app_factory: Any) -> None:
    async def ping(request: MockRequest) -> MockResponse:
        return MockResponse(200, {"pong": True})

    app = mock_app_factory(admin_routes=[AdminRoute("get", "/__mock__/ping", ping)])
    async with asgi_client(app) as client:
        assert (await client.get("/__mock__/ping")).json() == {"pong": True}
    core = mock_core(app)
    request = MockRequest(
        operation_id="get_profile",
        method="get",
        path_template="/api/profiles/{id}",
        path_params={"id": "01GMTZY2TEKN4KFRP30JZ59KGB"},
        query={},
        headers={},
        body=None,
        account="api_key:pk",
        auth_kind="api_key",
        revision=REVISION,
        base_url="http://x",
    )
    generated = core.generated_response(request)
    assert generated.status == 200
    assert generated.body["data"]["id"] == "01GMTZY2TEKN4KFRP30JZ59KGB"
    assert generated.body["data"]["links"]["self"] == "http://x/api/profiles/01GMTZY2TEKN4KFRP30JZ59KGB/"


async def test_a_failing_behaviour_is_an_envelope_not_a_traceback(mock_app_factory: Any) -> None:
    class Broken:
        async def handle(self, request: MockRequest) -> MockResponse | None:
            raise RuntimeError("boom")

    async with asgi_client(mock_app_factory(behaviours=[Broken()])) as client:
        response = await client.get("/api/profiles", headers=AUTH)
    assert response.status_code == 500
    assert response.headers["content-type"] == JSON_API
    assert "boom" not in response.text and "Traceback" not in response.text
    assert response.json()["errors"][0]["code"] == "error"


async def test_httpx_client_fixture(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/accounts", headers=AUTH)).status_code == 200


async def test_generated_response_without_content(mock_app: Any) -> None:
    request = MockRequest(
        operation_id="delete_list",
        method="delete",
        path_template="/api/lists/{id}",
        path_params={"id": "Y6nRLr"},
        query={},
        headers={},
        body=None,
        account="api_key:pk",
        auth_kind="api_key",
        revision=REVISION,
        base_url="http://x",
    )
    generated = mock_core(mock_app).generated_response(request)
    assert (generated.status, generated.body) == (204, None)
