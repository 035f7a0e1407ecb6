"""Running the mock under uvicorn, answering the first request well under a second after start.

Importing Connexion alone takes ~1 s (it pulls in Flask, Jinja, requests, httpx, the test client...), so a
single-worker `kdk mock` starts answering API requests from the MockCore at once (it needs only the cached
compiled spec) while a background thread imports Connexion and builds the full AsyncApp for the rest (/ui,
which waits for the build). API, admin and spec paths stay with the core after the build too: it answers
every error itself in Klaviyo's envelope, so Connexion's layers around it would only add time to each request
(a guard here does their one remaining job, a 500 envelope for an error that escapes the core).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ._admin_access import AdminAccess
from ._compile import CompiledSpec, load_compiled
from ._core import DEFAULT_MAX_BODY_BYTES, MockCore, Receive, Scope, Send
from ._limits import HttpLimits
from ._types import Behaviour

__all__ = ["HttpLimits", "ServeOptions", "build_core", "serve", "uvicorn_kwargs", "worker_app"]

_OPTIONS_ENV = "KDK_MOCK_OPTIONS"
log = logging.getLogger("mock_server")


class ServeOptions(dict[str, Any]):
    """`kdk mock`'s options as one JSON-able dict (workers re-read it from the environment).

    Keys: spec (str|None), revisions (list of refs, or None for the pinned one only), max_body_bytes (int),
    replay (str|None), replay_match (str), inject_drift (list, test-only), and whatever the stateful layer takes
    (state, seed_data, rate_limits, workers, the journal/webhook bounds of `mock_server.state.ResourceLimits`),
    which is handed to `mock_server.state.behaviours_from_options`; admin_token (str|None) and
    insecure_open_admin (bool) are the `/__mock__/` access policy (`_admin_access.py`).
    """


def _spec_path(options: ServeOptions) -> Path:
    if options.get("spec"):
        return Path(options["spec"])
    from ._app import default_spec_path

    return default_spec_path()


def _compiled_revisions(options: ServeOptions) -> list[CompiledSpec]:
    """Every revision to serve, the default first: `--spec` or the pinned spec, or the `--revisions` listed.

    With `--revisions`, the pinned revision is the default if it is listed, else the newest listed one.
    """
    refs = [r for r in options.get("revisions") or [] if r]
    if not refs:
        return [load_compiled(_spec_path(options))]
    from ._sources import revision_spec_path

    compiled = [load_compiled(revision_spec_path(ref)) for ref in refs]
    default = next((c for c in compiled if c.revision == _pinned_revision()), max(compiled, key=lambda c: c.revision))
    return [default, *(c for c in compiled if c is not default)]


def _pinned_revision() -> str | None:
    from kdk import lock_path

    try:
        revision = json.loads(lock_path().read_text(encoding="utf-8")).get("info_version")
    except (OSError, ValueError, AttributeError):
        return None
    return revision if isinstance(revision, str) else None


def build_core(options: ServeOptions) -> MockCore:
    """The MockCore serving `options` (every revision, each with its own behaviours)."""
    compiled = _compiled_revisions(options)
    default = _behaviours(options, compiled[0])
    return MockCore(
        None,
        compiled=compiled[0],
        behaviours=default,
        max_body_bytes=int(options.get("max_body_bytes") or DEFAULT_MAX_BODY_BYTES),
        # One account whatever revision a client speaks: the other revisions' behaviours share the default's state.
        revisions=[(c, _behaviours(options, c, alongside=default)) for c in compiled[1:]],
        admin_access=AdminAccess(options.get("admin_token") or None, bool(options.get("insecure_open_admin"))),
    )


def _behaviours(options: ServeOptions, compiled: CompiledSpec, alongside: Sequence[Behaviour] = ()) -> list[Behaviour]:
    if not any(options.get(k) for k in ("state", "seed_data", "rate_limits")):
        return []  # stateless: do not pay for importing the stateful layer
    from .state import behaviours_from_options  # our own layer: a broken import is an error, never a stateless mock

    return list(behaviours_from_options(dict(options), compiled=compiled, alongside=alongside))


class _FastStartApp:
    """Core now, Connexion AsyncApp as soon as it is built (see module docstring)."""

    def __init__(self, options: ServeOptions, *, background: bool = True) -> None:
        self.core = build_core(options)
        self.compiled = self.core.compiled
        self.full: Any = None
        self.ready = threading.Event()
        self._build_lock = threading.Lock()
        self._build_started = not background
        if not background:  # a `--workers` process: nothing is served before it is built
            self._build()
            return
        _freeze_heap(collect=False)  # a full collection here would delay the first answer by ~30 ms
        # The build competes for the GIL, so it starts once the first request is answered (or after 1 s).
        self._builder = threading.Thread(target=self._build, name="kdk-mock-connexion", daemon=True)
        timer = threading.Timer(1.0, self._start_build)
        timer.daemon = True
        timer.start()

    def _start_build(self) -> None:
        with self._build_lock:
            if not self._build_started:
                self._build_started = True
                self._builder.start()

    def _build(self) -> None:
        try:
            from ._app import create_app

            self.full = create_app(core=self.core)
        except Exception:
            log.exception("building the Connexion app failed; serving the API from the core only")
        finally:
            _freeze_heap()
            self.ready.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.core.answers(scope["path"]):
            try:
                await self.core(scope, receive, send)
            except Exception:
                # What Connexion's ServerErrorMiddleware does: a 500 envelope (unless the answer has started),
                # then the error goes on to the server, which logs it.
                with contextlib.suppress(Exception):
                    await self.core.send_error(send, 500, "The mock server failed to answer this request.")
                raise
            if not self._build_started:
                self._start_build()
            return
        if self.full is not None:
            await self.full(scope, receive, send)
            return
        self._start_build()
        while not self.ready.is_set():
            await asyncio.sleep(0.01)
        await (self.full or self.core)(scope, receive, send)


def _freeze_heap(*, collect: bool = True) -> None:
    """Move the compiled spec and imported modules out of the collector's sight.

    The compiled spec is ~1M long-lived objects; every full collection would walk them all and show up as
    100+ ms p99 spikes under load. `gc.freeze()` parks them in the permanent generation.
    """
    if collect:
        gc.collect()
    gc.freeze()


def uvicorn_kwargs(host: str, port: int, log_level: str, limits: HttpLimits) -> dict[str, Any]:
    """How `kdk mock` runs uvicorn (protocol, loop, HTTP limits); benchmarks run a bare app the same way."""
    kwargs: dict[str, Any] = {"host": host, "port": port, "log_level": log_level, "access_log": False}
    try:  # the fast C parser and event loop when installed (uvicorn[standard]), with our connection limits
        import uvloop  # noqa: F401

        from ._http import configure, raise_open_files_limit

        raise_open_files_limit()
        kwargs.update(http=configure(limits), loop="uvloop")
    except ImportError:  # h11: only its header size cap (no header deadline, no connection cap)
        kwargs.update(http="h11", h11_max_incomplete_event_size=limits.max_header_bytes)
    return kwargs


def serve(
    options: ServeOptions,
    *,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "warning",
    limits: HttpLimits | None = None,
) -> None:
    import uvicorn

    kwargs = uvicorn_kwargs(host, port, log_level, limits or HttpLimits())
    if workers > 1:
        # Workers are separate processes: each builds the app from the same options (and shares the cache).
        _compiled_revisions(options)  # fetch and compile once here, not once per worker
        with _shared_rate_limits(options):
            os.environ[_OPTIONS_ENV] = json.dumps(options)
            uvicorn.run("mock_server._serve:worker_app", factory=True, workers=workers, lifespan="off", **kwargs)
        return
    uvicorn.run(_with_outer_layers(_FastStartApp(options), options), lifespan="off", **kwargs)


@contextlib.contextmanager
def _shared_rate_limits(options: ServeOptions) -> Iterator[None]:
    """Workers share rate-limit buckets: in the SQLite state file, else in a temporary file of this mock."""
    if not options.get("rate_limits") or str(options.get("state") or "").startswith("sqlite:"):
        yield
        return
    fd, path = tempfile.mkstemp(prefix="kdk-mock-rate-limits-", suffix=".db")
    os.close(fd)
    options["rate_limit_file"] = path
    try:
        yield
    finally:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(path + suffix).unlink()


def worker_app() -> Any:
    """uvicorn factory for `--workers N`."""
    options = ServeOptions(json.loads(os.environ.get(_OPTIONS_ENV, "{}")))
    return _with_outer_layers(_FastStartApp(options, background=False), options)


def _with_outer_layers(app: Any, options: ServeOptions) -> Any:
    """`--replay DIR` and the test-only `--inject-drift` around the whole app (see `_app.outer_layers`)."""
    from ._app import outer_layers

    layers = outer_layers(
        replay=options.get("replay"),
        replay_match=str(options.get("replay_match") or "strict"),
        inject_drift=tuple(options.get("inject_drift") or ()),
    )
    for layer in reversed(layers):
        app = layer(app)
    return app
