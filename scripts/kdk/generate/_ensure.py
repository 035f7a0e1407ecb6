"""The generated client on disk: a cache keyed by what it was made from, and `generated/` kept in step with it.

Key = sha256 of (patched spec, generator version, openapi/generator/**, this package's source, runtime/).
A run with the same key reuses the cached tree instead of regenerating (~40 s); tests and `kdk generate`
share the cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .._paths import cache_dir, generated_dir
from ..spec import PatchedSpec, load_patched
from ._run import (
    GENERATOR_VERSION,
    PACKAGE_NAME,
    GenerateResult,
    GenerationCounts,
    generate_project,
    generator_dir,
    runtime_modules,
)

__all__ = [
    "STAMP_NAME",
    "GenerationIncompleteError",
    "Report",
    "cached_project",
    "ensure_generated",
    "ensure_importable",
    "generation_key",
    "install",
]

Spec = dict[str, Any]
STAMP_NAME = ".kdk-generated.json"  # beside the package: which key the tree was generated from
# Our modules that shape the output (not the cache/check plumbing, so editing those keeps the cache valid).
_OUTPUT_SOURCES = ("_naming.py", "_prepare.py", "_run.py", "_templates.py", "_version.py")
_REPORT_NAME = "report.json"  # beside the cached project (not inside it: it holds timings)


class GenerationIncompleteError(RuntimeError):
    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(
            f"generated client is incomplete: {len(report.missing_operations)} operation(s) and "
            f"{len(report.dropped_schemas)} schema(s) dropped, {len(report.warnings)} generator warning(s)"
        )


@dataclass(frozen=True)
class Report(GenerationCounts):
    """What `kdk generate` prints: the counts, warnings and time of the run that produced the tree."""

    key: str
    cached: bool = False

    @property
    def complete(self) -> bool:
        return not self.missing_operations and not self.dropped_schemas and not self.warnings

    @classmethod
    def from_result(cls, key: str, result: GenerateResult) -> Report:
        counts = {f.name: getattr(result, f.name) for f in fields(GenerationCounts)}
        counts["seconds"] = round(result.seconds, 2)
        counts["timings"] = {k: round(v, 2) for k, v in result.timings.items()}
        return cls(key=key, **counts)


def _hash_tree(digest: Any, root: Path) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")


def generation_key(patched: PatchedSpec | Spec) -> str:
    """Changes whenever the output could: other spec content, generator, templates/config, or our driver code."""
    patched = PatchedSpec.of(patched)
    digest = hashlib.sha256()
    digest.update(f"openapi-python-client=={GENERATOR_VERSION}\0".encode())
    _hash_tree(digest, generator_dir())
    for module in runtime_modules():
        digest.update(b"runtime/" + module.name.encode() + b"\0" + module.read_bytes() + b"\0")
    for name in _OUTPUT_SOURCES:
        digest.update(name.encode() + b"\0" + (Path(__file__).parent / name).read_bytes() + b"\0")
    digest.update(patched.sha256.encode())  # the content hash (canonical JSON) of the patched spec
    return digest.hexdigest()[:20]


def _client_cache() -> Path:
    return cache_dir() / "client"


def cached_project(key: str) -> Path:
    return _client_cache() / key / "klaviyo-client"


def _read_stamp(project_dir: Path) -> str | None:
    try:
        return str(json.loads((project_dir / STAMP_NAME).read_text(encoding="utf-8"))["key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_report(key: str) -> Report | None:
    try:
        data = json.loads((_client_cache() / key / _REPORT_NAME).read_text(encoding="utf-8"))
        return Report(**{**data, "cached": True})
    except (OSError, ValueError, TypeError):
        return None


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """One generator at a time per cache (pytest-xdist workers, parallel `kdk generate` runs)."""
    _client_cache().mkdir(parents=True, exist_ok=True)
    with (_client_cache() / f".{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_cached(patched: PatchedSpec | Spec, *, force: bool = False) -> tuple[Path, Report]:
    """The cached project for this spec, generated first if needed (or if `force`)."""
    patched = PatchedSpec.of(patched)
    key = generation_key(patched)
    project = cached_project(key)
    with _locked("generate"):
        report = _read_report(key)
        if not force and report is not None and _read_stamp(project) == key:
            return project, report
        staging = Path(tempfile.mkdtemp(dir=_client_cache(), prefix=".staging-"))
        try:
            result = generate_project(patched, staging / "klaviyo-client")
            report = Report.from_result(key, result)
            stamp = {"key": key, "revision": result.revision, "version": result.version}
            (result.project_dir / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
            (staging / _REPORT_NAME).write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
            shutil.rmtree(project.parent, ignore_errors=True)
            project.parent.parent.mkdir(parents=True, exist_ok=True)
            staging.replace(project.parent)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _prune(keep=key)
    return project, report


def _prune(*, keep: str, newest: int = 3) -> None:
    """Keep the cache small (~30 MB per tree): this key plus the most recently built others."""
    entries = [p for p in _client_cache().iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != keep]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in entries[newest - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)


def install(project: Path, target: Path) -> Path:
    """Copy a generated project's pyproject.toml, stamp and package into `target` (e.g. generated/).

    Anything else in `target` stays: generated/README.md is committed and is not ours to overwrite.
    """
    target.mkdir(parents=True, exist_ok=True)
    fresh = target / f".{PACKAGE_NAME}.new"
    old = target / f".{PACKAGE_NAME}.old"
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(project / PACKAGE_NAME, fresh, ignore=shutil.ignore_patterns("__pycache__"))
    package = target / PACKAGE_NAME
    if package.exists():
        package.replace(old)
    fresh.replace(package)
    shutil.rmtree(old, ignore_errors=True)
    for name in ("pyproject.toml", STAMP_NAME):
        shutil.copyfile(project / name, target / name)
    return package


def ensure_generated(
    *, spec: PatchedSpec | Spec | None = None, target: Path | None = None, force: bool = False, strict: bool = True
) -> Path:
    """The `klaviyo_client` package directory under `target` (default `generated/`), regenerated if stale.

    Cheap when up to date (one spec load and hash, ~2 s). `strict` raises `GenerationIncompleteError` when an
    operation or schema was dropped or the generator warned. Add `path.parent` to `sys.path` to import it,
    or call `ensure_importable()`.
    """
    path, _ = ensure_generated_with_report(spec=spec, target=target, force=force, strict=strict)
    return path


def ensure_generated_with_report(
    *, spec: PatchedSpec | Spec | None = None, target: Path | None = None, force: bool = False, strict: bool = True
) -> tuple[Path, Report]:
    """`ensure_generated()` and the generation report. `spec`: the patched spec (default: the pinned one; a plain
    dict is taken as already patched)."""
    patched = load_patched() if spec is None else PatchedSpec.of(spec)
    target = target or generated_dir()
    project, report = build_cached(patched, force=force)
    if strict and not report.complete:
        raise GenerationIncompleteError(report)
    with _locked("install"):
        if force or _read_stamp(target) != report.key or not (target / PACKAGE_NAME).is_dir():
            install(project, target)
    return target / PACKAGE_NAME, report


def ensure_importable(**kwargs: Any) -> Path:
    """`ensure_generated()`, then make `import klaviyo_client` find it (prepends its parent to `sys.path`)."""
    package = ensure_generated(**kwargs)
    root = str(package.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
        importlib.invalidate_caches()
    return package
