"""The mock as the proxy's upstream, in process: client -> ProxyApp -> (ASGI transport) -> mock app.

No network and no ports: both hops are httpx ASGI transports, so the tests run wherever the suite runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kdk.proxy import ProxyApp, ProxyOptions
from mock_server import CompiledSpec, create_app, load_compiled

REVISION = "2026-07-15"
API_KEY = "pk_live0123456789abcdef"
AUTH = {"Authorization": f"Klaviyo-API-Key {API_KEY}", "revision": REVISION}
JSON_API = "application/vnd.api+json"
UPSTREAM = "http://upstream.test"


@pytest.fixture(scope="session")
def compiled() -> CompiledSpec:
    from kdk.spec._pinned import pinned_spec_path

    return load_compiled(pinned_spec_path())


@pytest.fixture
def mock_factory(compiled: CompiledSpec) -> Callable[..., Any]:
    """`mock_factory(stateful=True, seed=None, rate_limits=False, **create_app kwargs)`: a fresh mock app."""

    def build(*, stateful: bool = True, seed: Path | None = None, rate_limits: bool = False, **kwargs: Any) -> Any:
        from mock_server.state import behaviours_from_options

        options = {"state": "memory" if stateful else None, "seed_data": str(seed) if seed else None}
        behaviours = behaviours_from_options({**options, "rate_limits": rate_limits}, compiled=compiled)
        return create_app(compiled=compiled, behaviours=behaviours, **kwargs)

    return build


def asgi_client(app: Any, base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


def proxy_for(upstream_app: Any, **options: Any) -> ProxyApp:
    return ProxyApp(ProxyOptions(upstream=UPSTREAM, **options), transport=httpx.ASGITransport(app=upstream_app))
