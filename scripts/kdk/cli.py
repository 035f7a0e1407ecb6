"""The `kdk` command: imports each verb's module so it registers on the app."""

from __future__ import annotations

import importlib

from .commands._app import app

__all__ = ["app", "main"]

# One module per verb (kdk/commands/<name>.py); a verb whose module is absent is simply not offered.
_COMMAND_MODULES = ("fetch", "validate", "patch", "diff", "matrix", "generate", "mock", "contract", "upgrade")


def _register() -> None:
    for name in _COMMAND_MODULES:
        try:
            importlib.import_module(f"kdk.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kdk.commands.{name}":
                raise


def main() -> None:
    _register()
    app()
