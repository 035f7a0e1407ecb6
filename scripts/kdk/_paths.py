"""Where a project keeps things: its lock (committed), the spec cache and the generated client.

kdk works on the project around the current directory, wherever kdk is installed (see the README, "Use it in
your project"). Walking up from the working directory, the first directory that has
- a `pyproject.toml` with a `[tool.kdk]` table (keys `lock`, `cache`, `generated`, relative to it), or
- a `klaviyo.lock.json`
is the project. Without either, the nearest directory with a `pyproject.toml` or `.git` is (else the working
directory), and `kdk spec fetch` writes `klaviyo.lock.json` there.

Specs are cached in the user's cache directory (platformdirs), shared by all projects since they are keyed by
content; `KDK_CACHE_DIR` overrides it, and so does `[tool.kdk] cache` (this checkout keeps `openapi/.cache`).
`KDK_PROJECT_ROOT=DIR` makes DIR a project laid out like this checkout (openapi/klaviyo.lock.json,
openapi/.cache, generated/): tests use it to work in a temp dir.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "LOCK_NAME",
    "Project",
    "cache_dir",
    "current_project",
    "generated_dir",
    "lock_path",
    "mirror_revisions",
    "openapi_dir",
    "package_data_dir",
    "project_root",
    "shared_mirror",
    "use_lock",
]

LOCK_NAME = "klaviyo.lock.json"
CACHE_ENV = "KDK_CACHE_DIR"
ROOT_ENV = "KDK_PROJECT_ROOT"
_lock_override: Path | None = None


@dataclass(frozen=True)
class Project:
    root: Path
    lock: Path
    cache: Path
    generated: Path
    found_by: str  # how the project was found, for messages: "[tool.kdk] in .../pyproject.toml", ...


def use_lock(path: Path | None) -> None:
    """`--lock PATH`: this process uses that lock file (its project stays the one around the working directory)."""
    global _lock_override
    _lock_override = path.expanduser().resolve() if path is not None else None


def _tool_kdk(pyproject: Path) -> dict[str, Any] | None:
    """The `[tool.kdk]` table of a pyproject.toml, or None (no table, or not a readable TOML file)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = data.get("tool", {}).get("kdk")
    return table if isinstance(table, dict) else None


def _user_cache() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("klaviyo-devkit", appauthor=False)


def _setting(config: dict[str, Any], key: str, root: Path, default: Path) -> Path:
    value = config.get(key)
    return (root / str(value)).resolve() if isinstance(value, str) and value else default


def current_project() -> Project:
    """The project kdk works on now (see the module docstring for how it is found)."""
    env_cache = os.environ.get(CACHE_ENV)
    env_root = os.environ.get(ROOT_ENV)
    config: dict[str, Any] = {}
    if env_root:
        root = Path(env_root).resolve()
        config = _tool_kdk(root / "pyproject.toml") or {}
        lock, cache, found_by = root / "openapi" / LOCK_NAME, root / "openapi" / ".cache", f"${ROOT_ENV}"
    else:
        root, config, found_by = _discover(Path.cwd().resolve())
        lock, cache = root / LOCK_NAME, _user_cache()
    lock = _setting(config, "lock", root, lock)
    cache = _setting(config, "cache", root, cache)
    if env_cache:
        cache = Path(env_cache).expanduser().resolve()
    if _lock_override is not None:
        lock, found_by = _lock_override, "--lock"
    return Project(root, lock, cache, _setting(config, "generated", root, root / "generated"), found_by)


def _discover(start: Path) -> tuple[Path, dict[str, Any], str]:
    fallback: Path | None = None
    for candidate in (start, *start.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            config = _tool_kdk(pyproject)
            if config is not None:
                return candidate, config, f"[tool.kdk] in {pyproject}"
        if (candidate / LOCK_NAME).is_file():
            return candidate, {}, f"{LOCK_NAME} in {candidate}"
        if fallback is None and (pyproject.is_file() or (candidate / ".git").exists()):
            fallback = candidate
    if fallback is not None:
        return fallback, {}, f"no {LOCK_NAME} yet; project root {fallback}"
    return start, {}, f"no {LOCK_NAME} yet; working directory {start}"


def project_root() -> Path:
    return current_project().root


def openapi_dir() -> Path:
    return project_root() / "openapi"


def lock_path() -> Path:
    """The project's lock (`[tool.kdk] lock`, or `klaviyo.lock.json` found upward). `kdk upgrade` hands the new
    revision to its steps as a `kdk.spec.PatchedSpec`; nothing redirects the lock through the environment."""
    return current_project().lock


def cache_dir() -> Path:
    """Fetched specs keyed by sha256, patched specs, derived caches (never committed)."""
    return current_project().cache


def generated_dir() -> Path:
    return current_project().generated


def package_data_dir(name: str) -> Path:
    """Files kdk reads at run time (e.g. `generator`: openapi-python-client config and templates).

    A wheel carries them inside the package (`kdk/_data/<name>`, see [tool.hatch] in pyproject.toml); a
    checkout reads them where they are committed (`openapi/<name>`).
    """
    packaged = Path(__file__).resolve().parent / "_data" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "openapi" / name


def shared_mirror() -> Path | None:
    """The local mirror of github.com/klaviyo/openapi (`<ref>/openapi/<channel>.json`), if there is one:
    `KDK_SPEC_SOURCE` when it names a directory, else `../shared/klaviyo-openapi` beside the checkout."""
    env = os.environ.get("KDK_SPEC_SOURCE")
    if env and Path(env).is_dir():
        return Path(env).resolve()
    candidate = project_root().parent / "shared" / "klaviyo-openapi"
    return candidate.resolve() if candidate.is_dir() else None


def mirror_revisions(mirror: Path | None = None) -> list[tuple[str, str]]:
    """Every `(ref, channel)` a mirror holds (`<ref>/openapi/<channel>.json`), sorted; empty without a mirror.
    Tests parametrize over this, so a revision added to the mirror is covered without editing a list."""
    root = mirror or shared_mirror()
    if root is None:
        return []
    return sorted((p.parents[1].name, p.stem) for p in root.glob("*/openapi/*.json") if p.is_file())
