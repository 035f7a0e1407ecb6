"""`create_app`: the Connexion AsyncApp serving the mock.

The middleware stack is Connexion's own outer layers with the mock core in place of Connexion's spec-driven
routing/security/validation (see `_core.py` for why):

    ServerErrorMiddleware (our envelope handler) -> ExceptionMiddleware (our envelope handlers)
    -> MockCore (/api, /client, /__mock__, /openapi.json) -> AsyncApp router (/ui) -> 404 envelope

so whatever goes wrong, the client sees Klaviyo's JSON:API error envelope and never problem+json.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._admin_access import AdminAccess
from ._compile import CompiledSpec, compile_patched, load_compiled
from ._core import DEFAULT_MAX_BODY_BYTES, JSON_API, MockCore
from ._errors import error_object
from ._types import AdminRoute, Behaviour

if TYPE_CHECKING:
    from kdk.spec import PatchedSpec

__all__ = ["create_app", "default_spec_path", "mock_core", "outer_layers"]


def default_spec_path() -> Path:
    """The pinned spec (raw; the overlay is applied when compiling).

    Fast path for start-up: the lock is a small JSON file naming the cached spec by sha256, read here
    directly; anything unusual (no lock, spec not cached) goes through kdk.spec for its errors.
    """
    from kdk import cache_dir, lock_path

    try:
        sha = json.loads(lock_path().read_text(encoding="utf-8"))["sha256"]
        cached = cache_dir() / "specs" / f"{sha}.json"
        if isinstance(sha, str) and cached.is_file():
            return cached
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from kdk.spec import pinned_spec_path

    return pinned_spec_path()


def create_app(
    spec_path: str | Path | None = None,
    *,
    behaviours: Sequence[Behaviour] = (),
    admin_routes: Sequence[AdminRoute] = (),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    compiled: CompiledSpec | None = None,
    spec: PatchedSpec | None = None,
    revisions: Sequence[str | Path] = (),
    core: MockCore | None = None,
    replay: str | Path | None = None,
    replay_match: str = "strict",
    inject_drift: Sequence[str] = (),
    admin_access: AdminAccess | None = None,
) -> Any:
    """A connexion.AsyncApp serving `spec` (a `kdk.spec.PatchedSpec`), or the raw spec at `spec_path`
    (default: the pinned one), or an already `compiled` one.

    `behaviours` are offered every validated request in order (the stateful layer); `admin_routes` and each
    behaviour's `admin_routes()` are served under /__mock__/. `mock_core(app)` returns the core, whose
    `generated_response()` gives the schema-generated answer for a request. `revisions` are more raw specs
    served by the same app, each chosen by the request's `revision` header (the first spec is the default).
    `core` is an already built MockCore to serve (what `kdk mock` builds before Connexion is imported).
    `replay` (a `kdk proxy --record` directory) answers recorded requests first (`_replay.py`); `inject_drift`
    is test-only (`_drift.py`). `admin_access` is the `/__mock__/` admin token policy (`_admin_access.py`).
    """
    import warnings

    # Connexion imports Starlette's TestClient at import time, which warns about httpx on every start.
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    from connexion import AsyncApp
    from connexion.middleware.exceptions import ExceptionMiddleware
    from connexion.middleware.server_error import ServerErrorMiddleware
    from starlette.exceptions import HTTPException

    from ._ui import add_swagger_ui

    if core is not None:
        compiled = core.compiled
    elif compiled is None and spec is not None:
        compiled = compile_patched(spec)
    if compiled is None:
        compiled = load_compiled(Path(spec_path) if spec_path else default_spec_path())
    others = [(load_compiled(Path(path)), ()) for path in revisions]
    core_factory: Any = (
        functools.partial(_adopt, core)
        if core is not None
        else functools.partial(
            MockCore,
            compiled=compiled,
            behaviours=behaviours,
            admin_routes=admin_routes,
            max_body_bytes=max_body_bytes,
            revisions=others,
            admin_access=admin_access,
        )
    )
    envelope = functools.partial(_envelope_handler, revision=compiled.revision)
    middlewares = [
        functools.partial(ServerErrorMiddleware, handler=envelope),
        ExceptionMiddleware,
        *outer_layers(replay=replay, replay_match=replay_match, inject_drift=inject_drift),
        core_factory,
    ]
    app = AsyncApp(__name__, middlewares=middlewares)
    app.add_error_handler(HTTPException, envelope)
    app.add_error_handler(Exception, envelope)
    add_swagger_ui(app, compiled.title)
    app.mock_compiled = compiled
    return app


def _adopt(core: MockCore, app: Any) -> MockCore:
    """Use a built core as the middleware in front of `app`."""
    core.app = app
    return core


def mock_core(app: Any) -> MockCore:
    """The MockCore inside an app from `create_app` (built on first use, like the rest of the stack)."""
    middleware = app.middleware
    if middleware.middleware_stack is None:
        middleware.app, middleware.middleware_stack = middleware._build_middleware_stack()
    for layer in middleware.middleware_stack:
        if isinstance(layer, MockCore):
            return layer
    raise LookupError("no MockCore in this app")


def _envelope_handler(request: Any, exc: Exception, *, revision: str) -> Any:
    """Connexion/Starlette errors outside the core (unknown paths, /ui misuse, crashes) in Klaviyo's envelope."""
    from connexion.lifecycle import ConnexionResponse

    status = int(getattr(exc, "status_code", 500) or 500)
    headers = {**dict(getattr(exc, "headers", None) or {}), "revision": revision}
    if status == 404:
        detail = f"No route matches {request.url.path}."
    elif status == 405:
        detail = f'Method "{request.method}" not allowed.'
    elif status >= 500:
        logging.getLogger("mock_server").error("unhandled error on %s", request.url.path, exc_info=exc)
        detail = "The mock server failed to answer this request."
    else:
        detail = str(getattr(exc, "detail", "") or exc)
    body = json.dumps({"errors": [error_object(status, detail)]}).encode()
    return ConnexionResponse(status_code=status, body=body, mimetype=JSON_API, content_type=JSON_API, headers=headers)


def outer_layers(
    *, replay: str | Path | None = None, replay_match: str = "strict", inject_drift: Sequence[str] = ()
) -> list[Any]:
    """Middlewares in front of the core, outermost first: cassette replay, then (test-only) drift injection."""
    layers: list[Any] = []
    if replay:
        from ._replay import ReplayMiddleware

        layers.append(functools.partial(ReplayMiddleware, directory=replay, match=replay_match))
    if inject_drift:
        from ._drift import DriftInjector

        layers.append(functools.partial(DriftInjector, kinds=inject_drift))
    return layers
