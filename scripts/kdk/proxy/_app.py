"""The proxy as an ASGI app: forward each request unchanged, answer with the upstream's bytes, then judge both.

The client gets exactly what the upstream sent (status, headers, body bytes; only hop-by-hop headers are
dropped, as any proxy must). The checks run after the answer is on its way, so drift never changes what
the client sees. `/__proxy__/report` serves the drift summary (Markdown; `?format=json` for JSON).
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import logging
import secrets
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx

from ._contract import Contract, MatchedOperation, Violation
from ._report import DriftReport
from ._specs import ContractError, Contracts

__all__ = ["DEFAULT_UPSTREAM", "ProxyApp", "ProxyOptions"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("kdk.proxy")
_MAX_PENDING = 64  # exchanges answered but not yet checked
DEFAULT_UPSTREAM = "https://a.klaviyo.com"
ADMIN_PREFIX = "/__proxy__/"
# RFC 9110 7.6.1: meaningful for one connection only, never forwarded. `host` is the upstream's own.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "proxy-authenticate",
        "proxy-authorization",
        "content-length",
    }
)


@dataclass
class ProxyOptions:
    upstream: str = DEFAULT_UPSTREAM
    spec: Path | None = None  # judge every request against this spec instead of its revision's
    source: str | None = None  # where other revisions are fetched from (default: KDK_SPEC_SOURCE, lock, GitHub)
    log: Path | None = None  # JSONL drift log
    record: Path | None = None  # cassette directory
    throttle: bool = False
    timeout: float = 60.0


@dataclass
class _Exchange:
    """One request and its answer, as they went over the wire (nothing masked yet)."""

    id: int
    started: datetime
    elapsed_ms: float
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    status: int
    response_headers: list[tuple[str, str]]
    raw: bytes


class ProxyApp:
    def __init__(self, options: ProxyOptions, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        from mock_server import Masker, open_recording

        self.options = options
        self.report = DriftReport(options.log)
        self.contracts = Contracts(spec=options.spec, source=options.source)
        self.recording = open_recording(options.record) if options.record else None
        self.masker = self.recording.masker if self.recording else Masker(secrets.token_bytes(16))
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._ids = itertools.count(self.recording.next_id() if self.recording else 1)
        self._throttle: Any = None
        self._preload: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._recording_lock = threading.Lock()
        if options.throttle:
            from ._throttle import Throttle

            self._throttle = Throttle()

    async def aclose(self) -> None:
        await self.flush()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.report.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] != "http":
            return
        elif scope["path"].startswith(ADMIN_PREFIX):
            await self._admin(scope, send)
        else:
            await self._proxy(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._preload = asyncio.create_task(self.contracts.preload())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _admin(self, scope: Scope, send: Send) -> None:
        await self.flush()
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if scope["path"].rstrip("/") != ADMIN_PREFIX + "report":
            await _send(send, 404, [(b"content-type", b"application/json")], b'{"error": "unknown proxy endpoint"}')
        elif query.get("format") == "json":
            body = json.dumps(self.report.to_json(), indent=1, ensure_ascii=False, default=str).encode()
            await _send(send, 200, [(b"content-type", b"application/json")], body)
        else:
            await _send(
                send, 200, [(b"content-type", b"text/markdown; charset=utf-8")], self.report.to_markdown().encode()
            )

    # -- one exchange ----------------------------------------------------------------------------------

    async def _proxy(self, scope: Scope, receive: Receive, send: Send) -> None:
        from mock_server import read_request_body

        body = await read_request_body(receive)
        method: str = scope["method"]
        path: str = scope["path"]
        query_string = scope.get("query_string", b"").decode("latin-1")
        raw_path = scope.get("raw_path")
        wire_path = raw_path.decode("latin-1").split("?", 1)[0] if raw_path else quote(path, safe="/:@!$&'()*+,;=-._~")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers") or ()]
        lowered = {k.lower(): v for k, v in headers}
        exchange_id = next(self._ids)
        query = parse_qsl(query_string, keep_blank_values=True)

        violations: list[Violation] = []
        contract, op = await self._operation(method, path, lowered.get("revision"), violations)
        if op is not None and self._throttle is not None:
            waited = await self._throttle.wait(op.operation_id, op.rate_limit, lowered.get("authorization", ""))
            if waited:
                self.report.waited(op.operation_id, op.rate_limit, waited)

        url = self.options.upstream.rstrip("/") + wire_path + (f"?{query_string}" if query_string else "")
        forwarded = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
        started = datetime.now(UTC)
        clock = time.perf_counter()
        try:
            upstream = await self._send_upstream(httpx.Request(method, url, headers=forwarded, content=body or None))
        except httpx.HTTPError as exc:
            detail = f"kdk proxy: the upstream {self.options.upstream} did not answer: {type(exc).__name__}: {exc}"
            error = {"errors": [{"status": "502", "code": "bad_gateway", "title": "Bad gateway.", "detail": detail}]}
            await _send(send, 502, [(b"content-type", b"application/vnd.api+json")], json.dumps(error).encode())
            self.report.add(self._summary(exchange_id, method, path, lowered, op, 502, 0.0, started), [])
            return
        status, response_headers, raw = upstream
        elapsed_ms = (time.perf_counter() - clock) * 1000
        out_headers = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in response_headers if k.lower() not in _HOP_BY_HOP
        ]
        out_headers.append((b"content-length", str(len(raw)).encode()))
        await _send(send, status, out_headers, raw)

        judged = _Exchange(
            exchange_id, started, elapsed_ms, method, path, query, headers, body, status, response_headers, raw
        )
        if len(self._pending) >= _MAX_PENDING:  # checks fall behind a flood: wait here rather than pile up
            await asyncio.wait(self._pending, return_when=asyncio.FIRST_COMPLETED)
        self._later(self._judge, judged, contract, op, violations)

    def _later(self, check: Callable[..., None], *args: Any) -> None:
        """Run the checks in a worker thread after the answer went out: never on the client's time."""

        async def run() -> None:
            try:
                await asyncio.to_thread(check, *args)
            except Exception:  # a bug in a check must not take the proxy down: say so, keep proxying
                log.exception("kdk proxy: checking an exchange failed")

        task = asyncio.create_task(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        """Wait until every exchange so far has been checked, logged and recorded."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def _judge(
        self, ex: _Exchange, contract: Contract | None, op: MatchedOperation | None, violations: list[Violation]
    ) -> None:
        lowered = {k.lower(): v for k, v in ex.headers}
        response_lowered = {k.lower(): v for k, v in ex.response_headers}
        decoded = _decoded(ex.raw, response_lowered.get("content-encoding", ""))
        if contract is not None and op is not None:
            violations += contract.check_request(op, ex.query, lowered, ex.body)
            if decoded is not None:
                violations += contract.check_response(op, ex.status, response_lowered, decoded)
            self.report.rate_limit(op.operation_id, op.rate_limit, ex.status, response_lowered)
        # Messages quote the offending value too (`'ann@x.com' is not ...`): masked like the value itself.
        masker = self.masker
        masked = [
            replace(v, value=masker.value(v.value), message=masker.text(v.message), pointer=masker.text(v.pointer))
            for v in violations
        ]
        summary = self._summary(ex.id, ex.method, ex.path, lowered, op, ex.status, ex.elapsed_ms, ex.started)
        self.report.add(summary, masked)
        if self.recording is not None:
            # Stored decoded (and masked). A body in an encoding we cannot undo is left out: unmasked bytes
            # must not reach a cassette.
            stored = decoded if decoded is not None else b""
            kept = [(k, v) for k, v in ex.response_headers if k.lower() != "content-encoding"]
            with self._recording_lock:
                self._record(ex, op, kept, stored, lowered.get("revision"))

    async def _operation(
        self, method: str, path: str, revision: str | None, violations: list[Violation]
    ) -> tuple[Contract | None, MatchedOperation | None]:
        # A missing `revision` is the operation's required header parameter (reported by `check_request`).
        unmatched = f"{method.upper()} {self.masker.text(path)}"
        try:
            contract = await self.contracts.for_revision(revision)
        except ContractError as exc:
            violations.append(
                Violation(unmatched, "request", "revision", "/header/revision", "", "", str(exc), revision)
            )
            return None, None
        op, allowed = contract.match(method, path)
        if op is None:
            message = (
                f"{method.upper()} is not an operation of this path (documented: {', '.join(allowed)})"
                if allowed
                else f"no operation of revision {contract.revision} matches this path"
            )
            violations.append(Violation(unmatched, "request", "operation", "", "#/paths", "", message))
        return contract, op

    async def _send_upstream(self, request: httpx.Request) -> tuple[int, list[tuple[str, str]], bytes]:
        if self._client is None:
            # follow_redirects off and `send` (not `request`): no default headers added, nothing rewritten.
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=self.options.timeout, follow_redirects=False
            )
        response = await self._client.send(request, stream=True)
        try:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        return response.status_code, list(response.headers.multi_items()), raw

    def _summary(
        self,
        exchange_id: int,
        method: str,
        path: str,
        headers: dict[str, str],
        op: MatchedOperation | None,
        status: int,
        elapsed_ms: float,
        started: datetime,
    ) -> dict[str, Any]:
        return {
            "id": exchange_id,
            "started": started.isoformat(),
            "method": method,
            "path": self.masker.text(path),
            "revision": headers.get("revision"),
            "operation": op.operation_id if op else None,
            "status": status,
            "elapsed_ms": round(elapsed_ms, 3),
        }

    def _record(
        self,
        ex: _Exchange,
        op: MatchedOperation | None,
        response_headers: list[tuple[str, str]],
        response_body: bytes,
        revision: str | None,
    ) -> None:
        from mock_server import CASSETTE_VERSION, body_text

        assert self.recording is not None
        masker = self.masker

        def masked_body(raw: bytes) -> tuple[str, str]:
            text, encoding = body_text(raw)
            return (masker.text(text), encoding) if encoding == "utf-8" else (text, encoding)

        request_body, request_encoding = masked_body(ex.body)
        response_text, response_encoding = masked_body(response_body)
        kept = [(k, v) for k, v in response_headers if k.lower() != "content-length"]
        self.recording.add(
            {
                "kdk_cassette": CASSETTE_VERSION,
                "id": ex.id,
                "operation": op.operation_id if op else None,
                "revision": revision,
                "request": {
                    "method": ex.method,
                    "path": masker.text(ex.path),
                    "query": [list(p) for p in masker.pairs(ex.query)],
                    "headers": [[k, masker.header(k, v)] for k, v in ex.headers if k.lower() not in _HOP_BY_HOP],
                    "body": request_body,
                    "body_encoding": request_encoding,
                },
                "response": {
                    "status": ex.status,
                    "headers": [[k, masker.header(k, v)] for k, v in kept if k.lower() not in _HOP_BY_HOP],
                    "body": response_text,
                    "body_encoding": response_encoding,
                },
                "timing": {"started": ex.started.isoformat(), "elapsed_ms": round(ex.elapsed_ms, 3)},
            }
        )


def _decoded(raw: bytes, encoding: str) -> bytes | None:
    """The body as the spec describes it; None for an encoding we cannot undo (then it is not checked)."""
    encoding = encoding.strip().lower()
    try:
        if encoding in ("", "identity"):
            return raw
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
    except (OSError, zlib.error, EOFError):
        return None
    return None


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
