"""`kdk mock --replay DIR`: answer recorded requests with the recorded responses, the mock answers the rest.

An ASGI middleware in front of the mock. A request matches a cassette by `match`:

    strict       method, path, query and body (JSON compared by value)    (default)
    ignore-body  method, path and query
    path         method and path

The incoming request is masked with the recording's salt before it is compared, so a client replaying the
session it recorded (real emails, real key) matches the masked cassettes. Several cassettes with one key are
played in recorded order, the last one repeating (a list read before and after a create answers both ways).

Everything else falls through to the mock. `replay_seed` turns the recorded resources into seed data for the
recorded credentials' accounts, and fallback requests act on the recording's account (their credential is
swapped for the recorded one), so reading, listing or updating a recorded id works whatever key replays it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ._auth import credentials
from ._body import read_all
from ._cassette import Recording, body_bytes, load_recording

__all__ = ["MATCH_MODES", "ReplayMiddleware", "credential_account", "prepare_replay", "replay_seed"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MATCH_MODES = ("strict", "ignore-body", "path")
# A cassette keeps `content-encoding` only when its body is still encoded (the proxy stores bodies decoded).
_NOT_REPLAYED = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_Key = tuple[Any, ...]


def credential_account(authorization: str) -> str | None:
    """The mock's account id for an Authorization header (see README, "Accounts")."""
    return credentials(authorization)[0]


def _canonical_body(text: str) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text


def _key(mode: str, method: str, path: str, query: list[tuple[str, str]], body: str) -> _Key:
    base: _Key = (method.upper(), path.rstrip("/") or "/")
    if mode == "path":
        return base
    base += (tuple(sorted(query)),)
    if mode == "ignore-body":
        return base
    return (*base, _canonical_body(body) if body else "")


class ReplayMiddleware:
    def __init__(self, app: ASGIApp, *, directory: str | Path, match: str = "strict") -> None:
        if match not in MATCH_MODES:
            raise ValueError(f"--replay-match must be one of {', '.join(MATCH_MODES)}, not {match!r}")
        self.app = app
        self.recording: Recording = load_recording(Path(directory))
        self.match = match
        self._masker = self.recording.masker
        self._played: dict[_Key, list[dict[str, Any]]] = {}
        self._next: dict[_Key, int] = {}
        for exchange in self.recording.exchanges:
            request = exchange["request"]
            body = body_bytes(str(request.get("body") or ""), str(request.get("body_encoding") or "utf-8"))
            query = [(str(k), str(v)) for k, v in request.get("query") or []]
            text = body.decode("utf-8", "replace")
            self._played.setdefault(_key(match, request["method"], request["path"], query, text), []).append(exchange)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/api/", "/client/")):
            await self.app(scope, receive, send)
            return
        raw = await read_all(receive)
        masker = self._masker
        query = masker.pairs(
            parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True)
        )
        key = _key(
            self.match, scope["method"], masker.text(scope["path"]), query, masker.text(raw.decode("utf-8", "replace"))
        )
        played = self._played.get(key)
        if played:
            turn = self._next.get(key, 0)
            self._next[key] = turn + 1
            await _send_recorded(send, played[min(turn, len(played) - 1)])
            return
        await self.app(self._as_recorded_account(scope), _replaying(raw), send)

    def _as_recorded_account(self, scope: Scope) -> Scope:
        headers = list(scope.get("headers") or ())
        for i, (name, value) in enumerate(headers):
            if name.lower() != b"authorization":
                continue
            scheme = value.decode("latin-1").strip().partition(" ")[0].lower()
            recorded = next((c for c in self.recording.credentials if c.partition(" ")[0].lower() == scheme), None)
            if recorded is not None:
                headers[i] = (name, recorded.encode("latin-1"))
                return {**scope, "headers": headers}
        return scope


def _replaying(raw: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return receive


async def _send_recorded(send: Send, exchange: dict[str, Any]) -> None:
    response = exchange["response"]
    body = body_bytes(str(response.get("body") or ""), str(response.get("body_encoding") or "utf-8"))
    headers = [
        (str(k).lower().encode("latin-1"), str(v).encode("latin-1"))
        for k, v in response.get("headers") or []
        if str(k).lower() not in _NOT_REPLAYED
    ]
    headers += [(b"content-length", str(len(body)).encode()), (b"x-kdk-replayed", str(exchange["id"]).encode())]
    await send({"type": "http.response.start", "status": int(response["status"]), "headers": headers})
    await send({"type": "http.response.body", "body": body})


def replay_seed(directory: str | Path) -> dict[str, Any]:
    """Seed data (`{"accounts": {account: [resources]}}`, see mock_server.state) with every resource the
    recorded 2xx answers returned, in each recorded credential's account; the last version of a resource
    wins and resources the recording deleted are left out."""
    recording = load_recording(Path(directory))
    accounts: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for exchange in recording.exchanges:
        request, response = exchange["request"], exchange["response"]
        auth = next((str(v) for k, v in request.get("headers") or [] if str(k).lower() == "authorization"), "")
        account = credential_account(auth)
        status = int(response["status"])
        if account is None or not 200 <= status < 300:
            continue
        resources = accounts.setdefault(account, {})
        if request["method"].upper() == "DELETE":
            deleted = request["path"].rstrip("/").rsplit("/", 1)[-1]
            for key in [k for k in resources if k[1] == deleted]:
                del resources[key]
            continue
        try:
            document = json.loads(body_bytes(str(response.get("body") or ""), str(response.get("body_encoding") or "")))
        except ValueError:
            continue
        for item in _resources(document):
            resources.pop((item["type"], item["id"]), None)  # re-inserted: the latest version, in order
            resources[(item["type"], item["id"])] = item
    return {"accounts": {account: list(found.values()) for account, found in accounts.items() if found}}


def _resources(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    found = []
    for member in ("data", "included"):
        value = document.get(member)
        for item in value if isinstance(value, list) else [value]:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("type"), str)
                or not isinstance(item.get("id"), str)
            ):
                continue
            if not isinstance(item.get("attributes"), dict):
                continue  # a bare relationship identifier: nothing to seed
            resource: dict[str, Any] = {"type": item["type"], "id": item["id"], "attributes": item["attributes"]}
            relationships = {
                name: {"data": rel["data"]}
                for name, rel in (item.get("relationships") or {}).items()
                if isinstance(rel, dict) and "data" in rel and _identifiers(rel["data"])
            }
            if relationships:
                resource["relationships"] = relationships
            found.append(resource)
    return found


def _identifiers(data: Any) -> bool:
    items = data if isinstance(data, list) else [data]
    return all(isinstance(i, dict) and isinstance(i.get("type"), str) and isinstance(i.get("id"), str) for i in items)


def prepare_replay(directory: Path, match: str, seed_data: Path | None) -> Path:
    """Check a `--replay` directory and write its seed data (plus `--seed-data`'s) to one file for the
    stateful layer; raises ValueError (CassetteError, SeedError) with the file and the reason."""
    import hashlib

    from kdk import cache_dir

    if match not in MATCH_MODES:
        raise ValueError(f"--replay-match must be one of {', '.join(MATCH_MODES)}, not {match!r}")
    seed = replay_seed(directory)
    if seed_data is not None:
        from .state import load_seed_file

        for account, resources in load_seed_file(seed_data)["accounts"].items():
            seed["accounts"][account] = [*(resources or []), *seed["accounts"].get(account, [])]
    text = json.dumps(seed, ensure_ascii=False, indent=1)
    path = cache_dir() / "replay" / f"seed-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
