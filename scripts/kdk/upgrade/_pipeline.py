"""Run the steps in order, all or nothing: a failure anywhere puts lock, cache and generated client back."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from .._paths import cache_dir, generated_dir, lock_path
from ._model import STEP_NAMES, StepError, StepFn, StepResult, UpgradeContext, UpgradeOutcome
from ._steps import default_steps

__all__ = ["run_upgrade"]


_BACKUP_PREFIX = ".upgrade-backup-"


class _TreeBackup:
    """Hard links to the files of a directory tree, and each file's identity, taken before the run.

    Cheap (no bytes copied) and exact because kdk's writers replace files atomically (write a temp file, rename
    it over): a replaced file gets a new inode and the link keeps the old bytes. The few files at the top of a
    tree are copied instead, because `kdk.generate` rewrites generated/pyproject.toml and its stamp in place.
    Restoring removes what is new or replaced and puts the old files back; untouched files are not rewritten.
    A nested file changed *in place* would have changed its link too: that is reported, never hidden.
    """

    def __init__(self, root: Path, backup: Path) -> None:
        self.root = root
        self.backup = backup
        self.existed = root.is_dir()
        self.files: dict[str, tuple[int, int, int]] = {}  # relative path -> (inode, size, mtime_ns)
        self.dirs: set[str] = set()
        self.copied: set[str] = set()  # backed up as bytes, not as a link
        if self.existed:
            for rel, path in self._walk():
                target = backup / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if "/" in rel or path.is_symlink():
                    _link_or_copy(path, target)
                else:
                    shutil.copy2(path, target)
                    self.copied.add(rel)
                st = path.lstat()
                self.files[rel] = (st.st_ino, st.st_size, st.st_mtime_ns)

    def _walk(self) -> Iterator[tuple[str, Path]]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(_BACKUP_PREFIX)]
            here = Path(dirpath)
            self.dirs.add(here.relative_to(self.root).as_posix())
            for name in filenames:
                path = here / name
                yield path.relative_to(self.root).as_posix(), path

    def restore(self) -> list[str]:
        """Put the tree back; returns the files that could not be (changed in place)."""
        if not self.existed:
            if self.root.exists():
                shutil.rmtree(self.root)
            return []
        lost: list[str] = []
        stale_dirs: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            descend = []
            for name in dirnames:
                sub = here / name
                if name.startswith(_BACKUP_PREFIX):
                    continue
                if sub.relative_to(self.root).as_posix() in self.dirs:
                    descend.append(name)
                else:
                    stale_dirs.append(sub)  # new since the snapshot: goes as a whole
            dirnames[:] = descend
            for name in filenames:
                path = here / name
                rel = path.relative_to(self.root).as_posix()
                recorded = self.files.get(rel)
                st = path.lstat()
                changed = recorded is not None and (st.st_size, st.st_mtime_ns) != recorded[1:]
                if recorded is None or st.st_ino != recorded[0] or (changed and rel in self.copied):
                    path.unlink()  # new, replaced, or rewritten in place with a byte copy to restore from
                elif changed and (st.st_size, recorded[1]) != (0, 0):
                    lost.append(rel)  # (an empty file re-opened for writing, like a flock file, lost nothing)
        for sub in stale_dirs:
            if sub.is_symlink():
                sub.unlink()
            else:
                shutil.rmtree(sub)
        for rel in self.files:
            path = self.root / rel
            if not path.exists() and not path.is_symlink():
                path.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(self.backup / rel, path)
        return lost


def _link_or_copy(source: Path, target: Path) -> None:
    if source.is_symlink():
        target.symlink_to(source.readlink())
        return
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: copy the bytes instead
        shutil.copy2(source, target)


class _Snapshot:
    """The lock (bytes), the spec cache and the generated client (hard-link trees), put back on failure."""

    def __init__(self) -> None:
        self._lock = lock_path()
        self._lock_bytes = self._lock.read_bytes() if self._lock.is_file() else None
        cache_dir().mkdir(parents=True, exist_ok=True)
        # Inside the cache (git-ignored, same file system as the checkout, so hard links work); skipped by walks.
        self._scratch = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=_BACKUP_PREFIX))
        self._trees = [
            _TreeBackup(directory, self._scratch / str(i)) for i, directory in enumerate((cache_dir(), generated_dir()))
        ]

    def restore(self) -> list[str]:
        if self._lock_bytes is None:
            self._lock.unlink(missing_ok=True)
        else:
            tmp = self._lock.with_name(self._lock.name + ".restore")
            tmp.write_bytes(self._lock_bytes)
            tmp.replace(self._lock)
        lost: list[str] = []
        for tree in self._trees:
            lost += [str(tree.root / rel) for rel in tree.restore()]
        return lost

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
    from ..spec import read_lock
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
                lost = snapshot.restore()
                _forget_report(ctx)
                if lost:
                    reason += f" (and {len(lost)} files changed in place could not be restored: {', '.join(lost[:3])})"
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
