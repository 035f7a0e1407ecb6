"""The `kdk` command: imports each verb's module so it registers on the app."""

from __future__ import annotations

import importlib

from .commands import app

__all__ = ["app", "main"]

# One module per verb (kdk/commands/<name>.py). Every one must import: a verb that fails to load is an error,
# never a verb that silently disappears from `kdk --help`.
_COMMAND_MODULES = (
    "fetch",
    "validate",
    "patch",
    "diff",
    "matrix",
    "generate",
    "mock",
    "contract",
    "upgrade",
    "proxy",
    "seed",
)


def _register() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"kdk.commands.{name}")


def main() -> None:
    _register()
    app()
