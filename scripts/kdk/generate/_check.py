"""Checks on a generated tree: ruff (the package's own config), every module imports, mypy --strict.

Each returns a `CheckResult` (errors as values); `kdk generate --check` and the tests call them.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._run import PACKAGE_NAME, ruff_bin

__all__ = ["CheckResult", "check_imports", "check_mypy", "check_ruff"]

# Runs in a fresh interpreter: import every module of the package, print the ones that fail.
_IMPORT_ALL = """
import importlib, pkgutil, sys, traceback
import {package} as root
failed = 0
count = 0
for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
    count += 1
    try:
        importlib.import_module(info.name)
    except Exception:
        failed += 1
        print("FAILED", info.name, traceback.format_exc(limit=1).strip().splitlines()[-1])
print("IMPORTED", count)
sys.exit(1 if failed else 0)
"""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    seconds: float
    problems: list[str] = field(default_factory=list)
    summary: str = ""


def _run(name: str, args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    return proc, time.perf_counter() - started


def check_ruff(project_dir: Path) -> CheckResult:
    """`ruff check` and `ruff format --check` with the generated pyproject's [tool.ruff]."""
    ruff = ruff_bin()
    # The package only (not README.md); --no-respect-gitignore: generated/ is git-ignored, ruff would skip it all.
    common = ["--no-cache", "--no-respect-gitignore", PACKAGE_NAME]
    lint, t1 = _run("ruff", [ruff, "check", "--no-fix", "--output-format", "concise", *common], project_dir)
    fmt, t2 = _run("ruff", [ruff, "format", "--check", *common], project_dir)
    problems = [line for line in lint.stdout.splitlines() if line and ":" in line and "All checks passed" not in line]
    if fmt.returncode != 0:
        problems += [line for line in fmt.stdout.splitlines() if line.startswith("Would reformat")]
    if (lint.returncode or fmt.returncode) and not problems:
        problems = (lint.stdout + lint.stderr + fmt.stdout + fmt.stderr).strip().splitlines()[-5:]
    ok = lint.returncode == 0 and fmt.returncode == 0
    return CheckResult("ruff", ok, t1 + t2, problems, "clean" if ok else f"{len(problems)} problem(s)")


def check_imports(project_dir: Path) -> CheckResult:
    """Every module of the package imports in a fresh interpreter."""
    code = _IMPORT_ALL.format(package=PACKAGE_NAME)
    proc, seconds = _run("imports", [sys.executable, "-c", code], project_dir)
    lines = proc.stdout.splitlines()
    problems = [line for line in lines if line.startswith("FAILED")]
    if proc.returncode != 0 and not problems:
        problems = (proc.stderr.strip().splitlines() or ["import check crashed"])[-5:]
    count = next((line.split()[1] for line in lines if line.startswith("IMPORTED")), "?")
    return CheckResult("imports", proc.returncode == 0, seconds, problems, f"{count} modules imported")


def check_mypy(project_dir: Path, *, cache_dir: Path | None = None) -> CheckResult:
    """`mypy --strict` over the package (slow on the full spec: minutes, see generated/README.md)."""
    args = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "-p", PACKAGE_NAME]
    if cache_dir is not None:
        args += ["--cache-dir", str(cache_dir)]
    proc, seconds = _run("mypy", args, project_dir)
    problems = [line for line in proc.stdout.splitlines() if ": error:" in line]
    if proc.returncode != 0 and not problems:
        problems = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
    ok = proc.returncode == 0
    return CheckResult("mypy", ok, seconds, problems, "clean (--strict)" if ok else f"{len(problems)} error(s)")
