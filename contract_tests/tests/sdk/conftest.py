"""Fixtures of the official-SDK sessions: the npm package (installed from the committed lockfile) and node."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server import CompiledSpec, load_compiled

NODE_DIR = Path(__file__).resolve().parent / "node"
NPM_PACKAGE = "klaviyo-api"


def _pinned_version() -> str:
    return str(json.loads((NODE_DIR / "package.json").read_text())["dependencies"][NPM_PACKAGE])


def _missing(what: str) -> None:
    """Without node/npm the Node session cannot run: a failure under CI (`.ci/run` installs them), else a skip."""
    reason = f"{what} is not installed (Debian packages `nodejs` and `npm`; .ci/run installs them)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _installed_version() -> str | None:
    manifest = NODE_DIR / "node_modules" / NPM_PACKAGE / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    # Two xdist workers may both want the package: one installs, the other waits and finds it there.
    with (NODE_DIR / ".install.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def node_executable() -> str:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        _missing("node")
    assert node is not None
    return node


@pytest.fixture(scope="session")
def node_sdk(node_executable: str) -> Path:
    """The directory whose node_modules holds `klaviyo-api` at the pinned version (`npm ci` from the lockfile)."""
    wanted = _pinned_version()
    with _install_lock():
        if _installed_version() != wanted:
            npm = shutil.which("npm")
            if npm is None:
                _missing("npm")
            assert npm is not None
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR)],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        installed = _installed_version()
    assert installed == wanted, f"{NPM_PACKAGE} {installed} installed, {wanted} pinned"
    return NODE_DIR


@pytest.fixture(scope="session")
def compiled() -> CompiledSpec:
    """The pinned spec compiled as the mock serves it (LockError on an empty cache: `kdk spec fetch --check`)."""
    from kdk.spec import pinned_spec_path

    return load_compiled(pinned_spec_path())
