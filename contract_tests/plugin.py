"""pytest plugin `klaviyo_devkit` (a pytest11 entry point): a Klaviyo mock and a client for your tests.

Fixtures:
- `klaviyo_mock`: a running `kdk mock` (stateful, in memory) on a free port, shared by the session; this
  test's account is reset before the test. `.base_url`, `.api_key`, `.request(...)`, `.journal()`, `.reset()`.
- `klaviyo_client`: the generated `klaviyo_client.KlaviyoClient` pointed at that mock (fast retries).
- `klaviyo_live_api_key`: `KLAVIYO_API_KEY` for tests marked `klaviyo_live`; such tests run only with
  `--live` and are skipped with the reason otherwise.

Options: `--live` (run `klaviyo_live` tests against the real API, read-only), `--klaviyo-mock-url URL` (use an
already running mock instead of starting one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from ._mock_process import MockProcess, running_mock

__all__ = ["klaviyo_client", "klaviyo_live_api_key", "klaviyo_mock"]

LIVE_ENV = "KLAVIYO_API_KEY"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("klaviyo", "klaviyo-devkit (mock, client, contract tests)")
    group.addoption(
        "--live",
        action="store_true",
        default=False,
        help="Run tests marked klaviyo_live against the real Klaviyo API (read-only; needs KLAVIYO_API_KEY).",
    )
    group.addoption(
        "--klaviyo-mock-url",
        default=os.environ.get("KDK_MOCK_URL"),
        help="Use this running mock (e.g. http://127.0.0.1:4010) instead of starting `kdk mock`.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "klaviyo_live: read-only check against the real Klaviyo API (runs only with --live)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live = bool(config.getoption("--live"))
    if live and os.environ.get(LIVE_ENV):
        return
    if live:
        reason = f"--live given but {LIVE_ENV} is not set: nothing to authenticate with"
    else:
        reason = f"live Klaviyo checks run only with --live and {LIVE_ENV} set (never in CI)"
    for item in items:
        if "klaviyo_live" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def _klaviyo_mock_server(pytestconfig: pytest.Config) -> Iterator[MockProcess]:
    url = pytestconfig.getoption("--klaviyo-mock-url")
    if url:
        mock = MockProcess(base_url=str(url).rstrip("/"))
        from ._mock_process import _served_revision

        mock.revision = _served_revision(mock)
        yield mock
        return
    from kdk.spec import LockError, pinned_spec_path

    try:
        pinned_spec_path()
    except LockError as exc:  # a test that needs the mock fails, never skips: say what to run
        pytest.fail(f"klaviyo_mock needs the pinned spec: {exc}", pytrace=False)
    with running_mock() as mock:
        yield mock


@pytest.fixture
def klaviyo_mock(_klaviyo_mock_server: MockProcess) -> MockProcess:
    """A running Klaviyo mock; this test's account starts empty (resources and journal reset)."""
    _klaviyo_mock_server.reset()
    return _klaviyo_mock_server


@pytest.fixture
def klaviyo_client(klaviyo_mock: MockProcess) -> Iterator[Any]:
    """A `klaviyo_client.KlaviyoClient` for `klaviyo_mock` (generated on first use if missing or stale)."""
    client_module = _import_client()
    kwargs: dict[str, Any] = {"base_url": klaviyo_mock.base_url}
    kwargs["retry"] = client_module.RetryPolicy(max_attempts=3, backoff=0.05, max_delay=0.5)
    if klaviyo_mock.revision:
        kwargs["revision"] = klaviyo_mock.revision
    with client_module.KlaviyoClient(klaviyo_mock.api_key, **kwargs) as client:
        yield client


@pytest.fixture
def klaviyo_live_api_key() -> str:
    key = os.environ.get(LIVE_ENV)
    if not key:
        pytest.skip(f"{LIVE_ENV} is not set")
    return key


def _import_client() -> Any:
    """`klaviyo_client` (generated into generated/ first when this checkout has not built it yet)."""
    import importlib

    try:
        return importlib.import_module("klaviyo_client")
    except ImportError:
        pass
    from kdk.generate import ensure_importable

    ensure_importable()
    return importlib.import_module("klaviyo_client")
