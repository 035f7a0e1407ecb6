"""A custom import-linter contract (see [tool.importlinter] in pyproject.toml).

import-linter's built-in `private_modules` contract lets every descendant of a package import that package's
private modules. Our subpackages that are layers of their own (`mock_server.state` builds on the mock core
through `mock_server`'s public API) must not: `subpackage_privacy` treats each listed subpackage like an outside
package towards its ancestors' private modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from importlinter import Contract, ContractCheck, fields, output
from importlinter.application import contract_utils

__all__ = ["SubpackagePrivacyContract", "private_scope"]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_scope(module: str) -> tuple[str, str] | None:
    """(the package a private module belongs to, the private module) for the outermost private component of
    `module`, or None when no component is private. `a.b._c.d` -> ("a.b", "a.b._c")."""
    parts = module.split(".")
    for index, part in enumerate(parts[1:], start=1):
        if _is_private(part):
            return ".".join(parts[:index]), ".".join(parts[: index + 1])
    return None


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@dataclass(frozen=True)
class _Illegal:
    importer: str
    imported: str
    line_numbers: tuple[int, ...]


class SubpackagePrivacyContract(Contract):
    """Each of `subpackages` may not import the private modules of the packages that contain it.

    Options: `subpackages` (module names), `ignore_imports` (import expressions, as in other contracts).
    """

    type_name = "subpackage_privacy"

    subpackages = fields.ListField(subfield=fields.ModuleField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=contract_utils.AlertLevel.ERROR,
        )
        illegal: list[_Illegal] = []
        for subpackage in self.subpackages:  # type: ignore[attr-defined]
            name = subpackage.name
            inside = {name} | set(graph.find_descendants(name))
            for importer in sorted(inside):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    scope = private_scope(imported)
                    if scope is None or imported in inside:
                        continue
                    owner, private_module = scope
                    # Only the ancestors' privates: any other package's are the built-in contract's business.
                    if _within(name, owner) and not _within(name, private_module):
                        details = graph.get_import_details(importer=importer, imported=imported)
                        lines = tuple(sorted(d["line_number"] for d in details))
                        illegal.append(_Illegal(importer, imported, lines))
        return ContractCheck(
            kept=not illegal,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"illegal": illegal},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error("A subpackage imported its ancestors' private modules:", bold=False)
        output.new_line()
        for item in check.metadata["illegal"]:
            lines = ", ".join(map(str, item.line_numbers))
            output.print_error(f"- {item.importer} -> {item.imported} (l.{lines})", bold=False)
            output.new_line()
