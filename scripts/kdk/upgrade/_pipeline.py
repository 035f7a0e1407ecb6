"""Run the steps in order, all or nothing: a failure anywhere puts lock, cache and generated client back."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from .._paths import cache_dir, generated_dir, lock_path
from ._model import STEP_NAMES, StepError, StepFn, StepResult, UpgradeContext, UpgradeOutcome
from ._steps import default_steps

__all__ = ["run_upgrade"]


class _Snapshot:
    """A byte-for-byte copy of the lock, the cache and the generated client, put back on failure."""

    def __init__(self) -> None:
        self._scratch = Path(tempfile.mkdtemp(prefix="kdk-upgrade-"))
        self._lock = lock_path()
        self._lock_bytes = self._lock.read_bytes() if self._lock.is_file() else None
        self._dirs: list[tuple[Path, Path | None]] = []
        for i, directory in enumerate((cache_dir(), generated_dir())):
            backup = self._scratch / str(i)
            if directory.is_dir():
                shutil.copytree(directory, backup, symlinks=True)
                self._dirs.append((directory, backup))
            else:
                self._dirs.append((directory, None))

    def restore(self) -> None:
        if self._lock_bytes is None:
            self._lock.unlink(missing_ok=True)
        else:
            tmp = self._lock.with_name(self._lock.name + ".restore")
            tmp.write_bytes(self._lock_bytes)
            tmp.replace(self._lock)
        for directory, backup in self._dirs:
            if directory.exists():
                shutil.rmtree(directory)
            if backup is not None:
                shutil.copytree(backup, directory, symlinks=True)

    def discard(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)


def _forget_report(ctx: UpgradeContext) -> None:
    """A report written before a later step failed would describe an upgrade that did not happen."""
    if ctx.report_path is not None:
        ctx.report_path.unlink(missing_ok=True)
        ctx.report_path = None


def run_upgrade(
    ref: str,
    *,
    channel: str | None = None,
    source: str | None = None,
    overrides: Mapping[str, StepFn] | None = None,
    report_dir: Path | None = None,
    on_step: Callable[[StepResult], None] | None = None,
    force: bool = False,
) -> UpgradeOutcome:
    """Run every step in order; on the first failure restore lock, cache and generated client and stop."""
    from ..spec._lock import read_lock
    from ..spec.diff import default_channel

    unknown = set(overrides or {}) - set(STEP_NAMES)
    if unknown:
        raise ValueError(f"unknown steps: {', '.join(sorted(unknown))}")
    old_lock = read_lock()  # LockError propagates: without a lock there is nothing to upgrade from
    ctx = UpgradeContext(ref, channel or default_channel(ref), source, old_lock, report_dir=report_dir)
    if not force and (old_lock.ref, old_lock.channel) == (ctx.ref, ctx.channel):
        return UpgradeOutcome(True, [], ctx, noop=True, reason=f"already pinned to {ctx.ref} ({ctx.channel})")
    steps = [(name, (overrides or {}).get(name, fn)) for name, fn in default_steps()]
    snapshot = _Snapshot()
    try:
        for name, step in steps:
            started = time.perf_counter()
            try:
                summary = step(ctx)
            except Exception as exc:  # any failure of a step is reported as that step's failure
                reason = str(exc) if isinstance(exc, StepError) else f"{type(exc).__name__}: {exc}"
                result = StepResult(name, False, reason, time.perf_counter() - started)
                ctx.results.append(result)
                if on_step:
                    on_step(result)
                snapshot.restore()
                _forget_report(ctx)
                return UpgradeOutcome(False, ctx.results, ctx, failed_step=name, reason=reason)
            result = StepResult(name, True, summary, time.perf_counter() - started)
            ctx.results.append(result)
            if on_step:
                on_step(result)
    except BaseException:  # interrupted (Ctrl-C) or killed from inside: still leave everything as it was
        snapshot.restore()
        _forget_report(ctx)
        raise
    finally:
        snapshot.discard()
    return UpgradeOutcome(True, ctx.results, ctx)
