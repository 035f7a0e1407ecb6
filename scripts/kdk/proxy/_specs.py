"""The contract for each `revision` a client sends: the pinned spec, or that revision fetched on first use.

Another revision goes through `kdk.spec.fetch_spec` (from `--source`, `KDK_SPEC_SOURCE`, the lock's source or
GitHub, in that order) into the content-keyed spec cache; the lock is never touched. `YYYY-MM-DD` is the
`stable` channel of that ref, `YYYY-MM-DD.pre` the `beta` channel of the `.pre` ref, as the mirror lays them out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from pathlib import Path
from typing import Any

from ._contract import Contract

__all__ = ["ContractError", "Contracts"]

_REVISION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.pre)?$")


class ContractError(Exception):
    """No spec for this revision (not a revision, or the fetch failed): one line, said once per revision."""


class Contracts:
    def __init__(self, *, spec: Path | None = None, source: str | None = None) -> None:
        self._fixed = spec  # `--spec`: every request is judged against this one spec
        self._source = source
        self._loaded: dict[str, Contract | ContractError] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.pinned_revision: str | None = None

    async def preload(self) -> None:
        """Load the pinned contract ahead of the first request (it takes seconds on a busy machine)."""
        with contextlib.suppress(ContractError):
            await self.for_revision(None)

    async def for_revision(self, revision: str | None) -> Contract:
        key = "" if self._fixed is not None or not revision else revision.strip()
        if key and not _REVISION.match(key):
            raise ContractError(f"revision {key!r} is not YYYY-MM-DD or YYYY-MM-DD.pre")
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._loaded:
                try:
                    self._loaded[key] = await asyncio.to_thread(self._load, key)
                except ContractError as exc:
                    self._loaded[key] = exc
        loaded = self._loaded[key]
        if isinstance(loaded, ContractError):
            raise loaded
        return loaded

    def _load(self, revision: str) -> Contract:
        path, pinned = self._spec_path(revision)
        try:
            contract = Contract(_patched(path, pinned=pinned))
        except Exception as exc:  # a spec that does not load: say which, keep proxying
            raise ContractError(f"cannot load the spec for revision {revision or '(pinned)'}: {exc}") from None
        if not revision:
            self.pinned_revision = contract.revision
        return contract

    def _spec_path(self, revision: str) -> tuple[Path, bool]:
        from kdk.spec import FetchError, LockError, fetch_spec, pinned_spec_path, read_lock, resolve_source

        if self._fixed is not None:
            return self._fixed, False
        try:
            lock = read_lock()
        except LockError:
            lock = None
        if lock is not None and (not revision or revision in (lock.info_version, _header_of(lock.ref, lock.channel))):
            try:
                return pinned_spec_path(lock), True
            except (LockError, OSError):
                pass  # not cached: fetched below like any other revision
        if not revision:
            if lock is None:
                raise ContractError("no revision header and no pinned spec (run `kdk spec fetch`)")
            revision = _header_of(lock.ref, lock.channel)
        channel = "beta" if revision.endswith(".pre") else "stable"
        try:
            return fetch_spec(resolve_source(self._source, lock), revision, channel).path, False
        except FetchError as exc:
            raise ContractError(f"no spec for revision {revision}: {exc}") from None


def _header_of(ref: str, channel: str) -> str:
    return ref if channel == "stable" or ref.endswith(".pre") else f"{ref}.pre"


def _patched(path: Path, *, pinned: bool) -> dict[str, Any]:
    """The patched spec. The pinned one comes from the mock's compiled cache (keyed by the spec and the
    overlay's code; `kdk mock` has usually built it already), which is much faster than re-patching."""
    if pinned:
        from mock_server import load_compiled

        patched: dict[str, Any] = json.loads(load_compiled(path).patched_json.read_bytes())
        return patched
    from kdk.spec import apply_overlay, load_spec

    return apply_overlay(load_spec(path), copy_spec=False).spec
