"""The committed lock file `openapi/klaviyo.lock.json`: which revision the project is pinned to."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .._paths import cache_dir, lock_path

__all__ = ["Lock", "LockError", "read_lock", "spec_cache_path", "write_lock"]


class LockError(Exception):
    pass


@dataclass(frozen=True)
class Lock:
    ref: str  # branch of github.com/klaviyo/openapi, e.g. "2026-07-15" or "main"
    channel: str  # "stable" or "beta"
    source: str  # base URL or directory the spec was fetched from
    url: str  # the exact file fetched
    sha256: str
    size: int
    info_version: str  # the spec's info.version, e.g. "2026-07-15"
    operations: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def read_lock(path: Path | None = None) -> Lock:
    path = path or lock_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Lock(**{k: data[k] for k in Lock.__dataclass_fields__})
    except FileNotFoundError:
        raise LockError(
            f"no lock file at {path}: run `kdk spec fetch --ref <revision>` in your project to pin one "
            f"(or point kdk at a lock: --lock PATH, or `lock = ...` under [tool.kdk] in pyproject.toml)"
        ) from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise LockError(f"lock file {path} is unreadable: {exc}") from None


def write_lock(lock: Lock, path: Path | None = None) -> None:
    """Atomic: a reader sees the old lock or the new one, never half of either."""
    path = path or lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".lock-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(lock.to_json())
        Path(tmp).chmod(0o644)  # mkstemp makes it private; the lock is an ordinary committed file
        Path(tmp).replace(path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def spec_cache_path(sha256: str) -> Path:
    """Raw specs are cached by content hash, so several revisions can sit side by side."""
    return cache_dir() / "specs" / f"{sha256}.json"
