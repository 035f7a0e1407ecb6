"""pytest plugin `klaviyo_devkit` (a pytest11 entry point): a Klaviyo mock and a client for your tests.

Works in any project that installed klaviyo-devkit (README, "Use it in your project"):
- `klaviyo_mock`: a running `kdk mock` (stateful, in memory) on a free port for the project's pinned revision
  (its lock, found like `kdk` finds it), fetched into the spec cache when needed; one mock per revision,
  shared by the session; this test's account is reset (and seeded) before the test. `.base_url`,
  `.api_key`, `.revision`, `.request(...)`, `.journal()`, `.reset()`.
- `klaviyo_client`: a generated `klaviyo_client.KlaviyoClient` pointed at that mock (fast retries); the client
  is generated into the spec cache on first use unless `klaviyo_client` is importable already.
- `klaviyo_live_api_key`: `KLAVIYO_API_KEY` for tests marked `klaviyo_live`; such tests run only with
  `--live` and are skipped with the reason otherwise.

Choosing what the mock serves: `@pytest.mark.klaviyo(revision="2026-04-15", channel="stable",
seed="seed.yaml")` on a test, class or module, else `--klaviyo-revision` / `--klaviyo-seed`, else the lock.
A seed file is seed data as for `kdk mock --seed-data` (`accounts: {...}`, `settings: {...}`), or
`resources: [...]` (and `settings: {scopes: ..., features: ...}`) for the test's own account; a relative
marker path is taken from the test file's directory.

A setup problem (no lock, the spec cannot be fetched, the mock does not start, a bad seed, the client cannot
be generated) is an ERROR of the test with the fix in its message, never a skip: a suite that passes while
testing nothing is worse than one that fails.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from ._mock_process import MockProcess, MockStartError, running_mock

__all__ = ["klaviyo_client", "klaviyo_live_api_key", "klaviyo_mock"]

LIVE_ENV = "KLAVIYO_API_KEY"
MARKER = "klaviyo"


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
    group.addoption(
        "--klaviyo-revision",
        default=None,
        help="Klaviyo API revision the mock serves, e.g. 2026-04-15 (default: the project's lock).",
    )
    group.addoption(
        "--klaviyo-seed",
        default=None,
        help="Seed data (JSON/YAML) loaded into each test's account before the test.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "klaviyo_live: read-only check against the real Klaviyo API (runs only with --live)"
    )
    config.addinivalue_line(
        "markers",
        "klaviyo(revision=None, channel=None, seed=None): what klaviyo_mock serves to this test "
        "(default: --klaviyo-revision / --klaviyo-seed, else the project's pinned revision)",
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


def _setup_error(message: str) -> NoReturn:
    """Fail the fixture: the test is reported as an ERROR with this message (no traceback)."""
    pytest.fail(f"klaviyo-devkit: {message}", pytrace=False)


@dataclass(frozen=True)
class _Wanted:
    revision: str | None  # None: the pinned one
    channel: str | None
    seed: Path | None


def _wanted(request: pytest.FixtureRequest) -> _Wanted:
    marker = request.node.get_closest_marker(MARKER)
    kwargs = dict(marker.kwargs) if marker else {}
    unknown = set(kwargs) - {"revision", "channel", "seed"}
    if unknown:
        _setup_error(f"@pytest.mark.klaviyo got {sorted(unknown)}; it takes revision=, channel= and seed=")
    config = request.config
    revision = kwargs.get("revision") or config.getoption("--klaviyo-revision")
    seed: Path | None = None
    if kwargs.get("seed"):
        seed = Path(str(kwargs["seed"]))
        if not seed.is_absolute():
            seed = Path(str(request.node.path)).parent / seed
    elif config.getoption("--klaviyo-seed"):
        seed = Path(str(config.getoption("--klaviyo-seed"))).resolve()
    return _Wanted(str(revision) if revision else None, kwargs.get("channel"), seed)


class _Mocks:
    """The session's mocks, one per (revision, channel): started on first use, stopped at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.running: dict[tuple[str | None, str | None], MockProcess] = {}
        self.specs: dict[str, Path] = {}  # base URL -> the raw spec it serves (for generating the client)
        self.stack = contextlib.ExitStack()

    def get(self, revision: str | None, channel: str | None) -> MockProcess:
        key = (revision, channel)
        if key not in self.running:
            self.running[key] = self._start(revision, channel)
        return self.running[key]

    def _start(self, revision: str | None, channel: str | None) -> MockProcess:
        url = self.config.getoption("--klaviyo-mock-url")
        if url:
            from ._mock_process import _served_revision

            mock = MockProcess(base_url=str(url).rstrip("/"))
            mock.revision = _served_revision(mock)
            if revision and mock.revision and mock.revision != revision:
                _setup_error(f"--klaviyo-mock-url serves revision {mock.revision}, this test wants {revision}")
            return mock
        spec = _spec_path(revision, channel)
        try:
            mock = self.stack.enter_context(running_mock(extra_args=["--spec", str(spec)]))
        except MockStartError as exc:
            _setup_error(f"the mock did not start for {spec}: {exc}")
        self.specs[mock.base_url] = spec
        return mock


def _spec_path(revision: str | None, channel: str | None) -> Path:
    from kdk.spec import FetchError, ensure_spec

    try:
        return ensure_spec(revision, channel, require_lock=revision is None).path
    except FetchError as exc:
        if revision is None and "no lock file" in str(exc):
            _setup_error(
                f"{exc}. The mock serves your project's pinned revision: pin one with "
                "`kdk spec fetch --ref 2026-07-15` (commit klaviyo.lock.json), or choose one for the run with "
                "--klaviyo-revision REF or @pytest.mark.klaviyo(revision=REF)."
            )
        what = f"revision {revision}" if revision else "the pinned revision"
        _setup_error(
            f"cannot get the spec for {what}: {exc}. Check network access to raw.githubusercontent.com, or set "
            "KDK_SPEC_SOURCE to a mirror of github.com/klaviyo/openapi (a URL or a directory)."
        )


def _read_seed(path: Path) -> dict[str, Any]:
    """A seed file's document, checked before any mock starts (a typo fails fast)."""
    import json

    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except OSError as exc:
        _setup_error(f"cannot read the seed file {path}: {exc.strerror or exc}")
    except (ValueError, yaml.YAMLError) as exc:
        _setup_error(f"the seed file {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}")
    if isinstance(doc, dict) and any(
        isinstance(doc.get(k), t) for k, t in (("resources", list), ("accounts", dict), ("settings", dict))
    ):
        return doc
    _setup_error(
        f"the seed file {path} needs `resources: [...]` (for the test's account) or `accounts: {{...}}` "
        "(as for `kdk mock --seed-data`), and/or `settings` (the key's scopes and features)"
    )


def _prepare(mock: MockProcess, seed: Path | None, doc: dict[str, Any] | None) -> None:
    """Reset the test's account (and any account the seed fills), then load the seed."""
    try:
        mock.reset()
        if doc is None:
            return
        own = "resources" in doc or ("accounts" not in doc and set(doc["settings"]) <= {"scopes", "features"})
        if own:  # the test's own account (`settings`: its key's scopes and features)
            body = {k: doc[k] for k in ("resources", "settings") if k in doc}
            response = mock.request("POST", "/__mock__/state", json=body)
        else:  # named accounts: other accounts' admin data needs the mock's admin token
            for account in {*(doc.get("accounts") or {}), *(doc.get("settings") or {})}:
                mock.request("POST", "/__mock__/reset", params={"account": str(account)}, admin=True)
            response = mock.request("POST", "/__mock__/state", json=doc, admin=True)
    except MockStartError as exc:
        _setup_error(str(exc))
    if response.status_code >= 400:
        _setup_error(f"the mock refused the seed file {seed}: {response.status_code} {response.text[:500]}")


@pytest.fixture(scope="session")
def _klaviyo_mocks(pytestconfig: pytest.Config) -> Iterator[_Mocks]:
    mocks = _Mocks(pytestconfig)
    with mocks.stack:
        yield mocks


@pytest.fixture
def klaviyo_mock(request: pytest.FixtureRequest, _klaviyo_mocks: _Mocks) -> MockProcess:
    """A running Klaviyo mock; this test's account starts empty, or with the seed data asked for."""
    wanted = _wanted(request)
    seed = _read_seed(wanted.seed) if wanted.seed else None
    mock = _klaviyo_mocks.get(wanted.revision, wanted.channel)
    _prepare(mock, wanted.seed, seed)
    return mock


@pytest.fixture
def klaviyo_client(klaviyo_mock: MockProcess, _klaviyo_mocks: _Mocks) -> Iterator[Any]:
    """A `klaviyo_client.KlaviyoClient` for `klaviyo_mock`, sending the revision the mock serves."""
    client_module = _import_client(klaviyo_mock, _klaviyo_mocks.specs.get(klaviyo_mock.base_url))
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


def _client_revision(module: Any) -> str:
    import importlib

    try:
        return str(importlib.import_module(f"{module.__name__}._version").REVISION)
    except (ImportError, AttributeError):
        return ""


def _import_client(mock: MockProcess, spec_path: Path | None) -> Any:
    """`klaviyo_client` for the mock's revision: the importable one (e.g. `kdk generate --output` into your
    project), else generated from the served spec into the spec cache (once per spec: cached by content)."""
    import importlib

    try:
        module = importlib.import_module("klaviyo_client")
    except ImportError:
        module = None
    if module is None:
        module = _generate_client(mock, spec_path)
    revision = _client_revision(module)
    if mock.revision and revision and revision != mock.revision:
        _setup_error(
            f"klaviyo_client at {Path(str(module.__file__)).parent} was generated for revision {revision}, the mock "
            f"serves {mock.revision}: regenerate it (`kdk generate --output DIR`), or run tests of other "
            "revisions in a separate pytest run (one process imports one klaviyo_client)"
        )
    return module


def _generate_client(mock: MockProcess, spec_path: Path | None) -> Any:
    import importlib

    import httpx

    from kdk import cache_dir
    from kdk.generate import GenerationIncompleteError, ensure_importable
    from kdk.spec import SpecLoadError, apply_overlay, load_spec

    try:
        if spec_path is not None:
            spec = apply_overlay(load_spec(spec_path), copy_spec=False).spec
        else:  # a mock at --klaviyo-mock-url: the (patched) spec it serves
            spec = httpx.get(mock.base_url + "/openapi.json", timeout=60).json()
    except (httpx.HTTPError, ValueError, SpecLoadError) as exc:
        _setup_error(f"cannot read the spec {spec_path or mock.base_url} to generate the client: {exc}")
    target = cache_dir() / "pytest-client" / (mock.revision or "pinned")
    try:
        ensure_importable(spec=spec, target=target)
    except GenerationIncompleteError as exc:
        _setup_error(f"the client for revision {mock.revision} could not be generated completely: {exc}")
    except (OSError, RuntimeError) as exc:
        _setup_error(f"cannot generate klaviyo_client into {target}: {exc}")
    return importlib.import_module("klaviyo_client")
