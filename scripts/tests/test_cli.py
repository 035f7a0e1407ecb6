"""The `kdk` command offers every verb module: none is left out, none silently disappears."""

from __future__ import annotations

import pkgutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kdk.commands
from kdk import cli


def test_every_verb_module_is_registered() -> None:
    modules = {m.name for m in pkgutil.iter_modules([str(Path(kdk.commands.__file__).parent)])}
    verbs = {name for name in modules if not name.startswith("_")}
    assert verbs == set(cli._COMMAND_MODULES)


def test_a_verb_that_fails_to_import_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_COMMAND_MODULES", ("fetch", "no_such_verb"))
    monkeypatch.delitem(sys.modules, "kdk.commands.no_such_verb", raising=False)
    with pytest.raises(ModuleNotFoundError, match="no_such_verb"):
        cli._register()


def test_help_lists_the_verbs() -> None:
    cli._register()
    result = CliRunner().invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    for verb in ("generate", "mock", "contract", "upgrade", "spec"):
        assert verb in result.output
