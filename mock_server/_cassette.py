"""Cassettes: `kdk proxy --record DIR` writes one JSON file per exchange, `kdk mock --replay DIR` reads them.

    DIR/recording.json    {"kdk_recording": 1, "salt": "<hex>", "credentials": ["Klaviyo-API-Key pk_kdkfake..."]}
    DIR/000001-get_profiles.json
        {"kdk_cassette": 1, "id": 1, "operation": ..., "revision": ...,
         "request":  {"method", "path", "query": [[k, v]], "headers": [[k, v]], "body", "body_encoding"},
         "response": {"status", "headers": [[k, v]], "body", "body_encoding"},
         "timing":   {"started", "elapsed_ms"}}

Bodies are stored decoded (no content-encoding) as UTF-8 text when they are text, else base64, so a replay
sends back exactly the recorded bytes. Secrets and personal data are masked before anything is written
(`_mask.Masker`, keyed by the recording's salt; appending to a recording keeps its fakes).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._mask import Masker

__all__ = [
    "CASSETTE_VERSION",
    "RECORDING_FILE",
    "CassetteError",
    "Recording",
    "body_bytes",
    "body_text",
    "load_recording",
    "open_recording",
]

CASSETTE_VERSION = 1
RECORDING_FILE = "recording.json"
_CASSETTE_NAME = re.compile(r"^(\d{6,})-[\w.-]+\.json$")


class CassetteError(ValueError):
    """A recording directory that cannot be read: which file, and why."""


def body_text(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


def body_bytes(text: str, encoding: str) -> bytes:
    return base64.b64decode(text) if encoding == "base64" else text.encode("utf-8")


@dataclass
class Recording:
    directory: Path
    salt: bytes
    credentials: list[str] = field(default_factory=list)
    exchanges: list[dict[str, Any]] = field(default_factory=list)

    @property
    def masker(self) -> Masker:
        return Masker(self.salt)

    def next_id(self) -> int:
        return 1 + max((int(e.get("id", 0)) for e in self.exchanges), default=0)

    def add(self, exchange: dict[str, Any]) -> Path:
        """Write one (already masked) exchange; remembers the credential it was made with."""
        number = int(exchange["id"])
        name = re.sub(r"[^\w.-]", "_", str(exchange.get("operation") or "unmatched"))
        path = self.directory / f"{number:06d}-{name}.json"
        _atomic_write(path, json.dumps(exchange, indent=1, ensure_ascii=False) + "\n")
        self.exchanges.append(exchange)
        for key, value in exchange["request"]["headers"]:
            if key.lower() == "authorization" and value not in self.credentials:
                self.credentials.append(value)
                self._write_meta()
        return path

    def _write_meta(self) -> None:
        meta = {"kdk_recording": CASSETTE_VERSION, "salt": self.salt.hex(), "credentials": self.credentials}
        _atomic_write(self.directory / RECORDING_FILE, json.dumps(meta, indent=1) + "\n")


def open_recording(directory: Path) -> Recording:
    """A recording to add to: a new directory gets a fresh salt; an existing recording keeps its own."""
    if (directory / RECORDING_FILE).is_file():
        return load_recording(directory)
    directory.mkdir(parents=True, exist_ok=True)
    recording = Recording(directory, secrets.token_bytes(16))
    recording._write_meta()
    return recording


def load_recording(directory: Path) -> Recording:
    meta_path = directory / RECORDING_FILE
    if not directory.is_dir():
        raise CassetteError(f"{directory}: no such recording directory")
    if not meta_path.is_file():
        raise CassetteError(
            f"{directory}: not a recording ({RECORDING_FILE} is missing; record with `kdk proxy --record`)"
        )
    meta = _read_json(meta_path)
    if not isinstance(meta, dict) or not isinstance(meta.get("salt"), str):
        raise CassetteError(f"{meta_path}: expected {{'kdk_recording': 1, 'salt': ...}}")
    try:
        salt = bytes.fromhex(meta["salt"])
    except ValueError:
        raise CassetteError(f"{meta_path}: salt is not hex") from None
    exchanges = []
    for path in sorted(directory.iterdir()):
        if not _CASSETTE_NAME.match(path.name):
            continue
        exchange = _read_json(path)
        problem = _problem(exchange)
        if problem:
            raise CassetteError(f"{path}: {problem}")
        exchanges.append(exchange)
    exchanges.sort(key=lambda e: int(e["id"]))
    credentials = [str(c) for c in meta.get("credentials") or []]
    return Recording(directory, salt, credentials, exchanges)


def _problem(exchange: Any) -> str | None:
    if not isinstance(exchange, dict) or exchange.get("kdk_cassette") != CASSETTE_VERSION:
        return f"not a version {CASSETTE_VERSION} cassette"
    request, response = exchange.get("request"), exchange.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        return "needs `request` and `response` objects"
    if not isinstance(request.get("method"), str) or not isinstance(request.get("path"), str):
        return "request needs `method` and `path`"
    if not isinstance(response.get("status"), int):
        return "response needs an integer `status`"
    if not isinstance(exchange.get("id"), int):
        return "needs an integer `id`"
    return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CassetteError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise CassetteError(f"{path}: not valid JSON: {exc}") from None


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    Path(tmp).replace(path)
