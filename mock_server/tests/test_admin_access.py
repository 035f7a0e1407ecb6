"""The admin policy at start: listening beyond loopback needs an admin token or `--insecure-open-admin`."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

import mock_server
from mock_server import (
    AdminAccess,
    AdminRoute,
    MockRequest,
    MockResponse,
    account_for_name,
    account_id,
    exposure_problem,
)
from mock_server._admin_access import is_loopback

from .conftest import asgi_client


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("mock.internal", False)],
)  # fmt: skip
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    problem = exposure_problem(host, AdminAccess())
    assert (problem is None) is loopback
    assert exposure_problem(host, AdminAccess("token")) is None
    assert exposure_problem(host, AdminAccess(open=True)) is None


def _kdk_mock(args: list[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None) -> Any:
    from kdk.cli import _register, app

    served: list[dict[str, Any]] = []
    monkeypatch.setattr(mock_server, "serve", lambda options, **kwargs: served.append({**options, **kwargs}))
    _register()
    result = CliRunner().invoke(app, ["mock", *args], env=env)
    return result, served


def test_non_loopback_without_a_token_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KDK_MOCK_ADMIN_TOKEN", raising=False)
    result, served = _kdk_mock(["--host", "0.0.0.0"], monkeypatch)
    assert result.exit_code == 2 and served == []
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--admin-token" in lines[0] and "--insecure-open-admin" in lines[0], result.output


def test_non_loopback_with_a_token_or_the_insecure_flag_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KDK_MOCK_ADMIN_TOKEN", raising=False)
    result, served = _kdk_mock(["--host", "0.0.0.0", "--admin-token", "t0k"], monkeypatch)
    assert result.exit_code == 0, result.output
    assert served[0]["admin_token"] == "t0k" and served[0]["host"] == "0.0.0.0"
    result, served = _kdk_mock(["--host", "0.0.0.0"], monkeypatch, env={"KDK_MOCK_ADMIN_TOKEN": "from-env"})
    assert result.exit_code == 0 and served[0]["admin_token"] == "from-env"
    result, served = _kdk_mock(["--host", "0.0.0.0", "--insecure-open-admin"], monkeypatch)
    assert result.exit_code == 0 and served[0]["insecure_open_admin"] is True
    # Example mode has no admin API to expose.
    result, served = _kdk_mock(["--host", "0.0.0.0", "--stateless"], monkeypatch)
    assert result.exit_code == 0 and served


def test_bounds_reach_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["--journal-entries", "10", "--journal-bytes", "5000", "--journal-body-bytes", "100"]
    result, served = _kdk_mock([*args, "--webhook-deliveries", "7", "--max-accounts", "3"], monkeypatch)
    assert result.exit_code == 0, result.output
    got = {k: served[0][k] for k in ("journal_entries", "journal_bytes", "journal_body_bytes", "webhook_deliveries")}
    assert got == {"journal_entries": 10, "journal_bytes": 5000, "journal_body_bytes": 100, "webhook_deliveries": 7}
    assert served[0]["max_accounts"] == 3


def test_account_ids_are_opaque_and_stable() -> None:
    key = "pk_0123456789abcdef0123456789abcdef01"
    opaque = account_id("api_key", key)
    assert opaque.startswith("acct_") and key not in opaque and len(opaque) == 25
    assert account_for_name(f"api_key:{key}") == opaque == account_for_name(opaque)
    assert account_id("oauth", key) != opaque != account_id("company", key)
    assert account_for_name("ci-7") is None and account_for_name("api_key:") is None


def test_a_private_key_sent_as_bearer_is_refused() -> None:
    """findings lists-1: Klaviyo answers 401 to `Bearer pk_...` (the wrong header for a private key)."""
    from mock_server._auth import credentials

    assert credentials("Bearer pk_wa_expert_0123456789abcdef") == (None, "invalid")
    assert credentials("Bearer oauth-token")[1] == "oauth"


async def test_create_app_takes_the_admin_policy(mock_app_factory: Any) -> None:
    async def everything(request: MockRequest) -> MockResponse:
        return MockResponse(200, {"admin": request.admin, "account": request.account})

    route = AdminRoute("get", "/__mock__/everything", everything)
    app = mock_app_factory(admin_routes=[route], admin_access=AdminAccess("t0k"))
    async with asgi_client(app) as client:
        assert (await client.get("/__mock__/everything", headers={"KDK-Admin-Token": "t0k"})).json()["admin"] is True
        assert (await client.get("/__mock__/everything")).json() == {"admin": False, "account": ""}
        assert (await client.get("/__mock__/everything", headers={"KDK-Admin-Token": "no"})).status_code == 403
