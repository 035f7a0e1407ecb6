"""The custom import-linter contract (scripts/import_contracts.py) on small hand-made import graphs."""

from __future__ import annotations

from typing import Any

import grimp
import pytest
from import_contracts import SubpackagePrivacyContract, private_scope


def _graph(*imports: tuple[str, str]) -> Any:
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg._core", "pkg._errors", "pkg.state", "pkg.state._store", "pkg.state._util", "other"):
        graph.add_module(module)
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported, line_number=3, line_contents=f"import {imported}")
    return graph


def _check(graph: Any, **options: Any) -> Any:
    contract = SubpackagePrivacyContract(
        name="test",
        session_options={"root_packages": ["pkg"]},
        contract_options={"subpackages": ["pkg.state"], **options},
    )
    return contract.check(graph, verbose=False)


@pytest.mark.parametrize(
    ("module", "scope"),
    [
        ("pkg", None),
        ("pkg.state", None),
        ("pkg._core", ("pkg", "pkg._core")),
        ("pkg.state._store", ("pkg.state", "pkg.state._store")),
        ("pkg._core.deep", ("pkg", "pkg._core")),
        ("pkg.__main__", None),
    ],
)
def test_private_scope(module: str, scope: tuple[str, str] | None) -> None:
    assert private_scope(module) == scope


def test_a_subpackage_importing_its_parents_private_module_breaks_the_contract() -> None:
    check = _check(_graph(("pkg.state._store", "pkg._errors")))
    assert not check.kept
    (illegal,) = check.metadata["illegal"]
    assert (illegal.importer, illegal.imported, illegal.line_numbers) == ("pkg.state._store", "pkg._errors", (3,))


def test_public_api_own_privates_and_the_parent_importing_the_subpackage_are_fine() -> None:
    graph = _graph(
        ("pkg.state._store", "pkg"),  # the parent's public API
        ("pkg.state._store", "pkg.state._util"),  # its own private modules
        ("pkg._core", "pkg.state._store"),  # the other way round is the built-in private_modules contract's job
        ("pkg._core", "pkg._errors"),
        ("pkg.state", "other"),
    )
    assert _check(graph).kept


def test_ignored_imports_are_ignored() -> None:
    check = _check(_graph(("pkg.state._store", "pkg._errors")), ignore_imports=["pkg.state._store -> pkg._errors"])
    assert check.kept
