"""`kdk generate`: the typed client `klaviyo_client`, generated from the patched spec (`kdk.spec.PatchedSpec`).

For tests and tools that need the client: `ensure_importable()` regenerates `generated/klaviyo_client` if it
is stale (cached by spec + generator + templates) and puts `generated/` on `sys.path`; `ensure_generated()`
does the same without touching `sys.path` and returns the package directory. `prepare_spec` is the
generator-only reshaping (names, hoisted enums) that the client's tests compare against.
"""

from ._check import CheckResult, check_imports, check_mypy, check_ruff
from ._ensure import (
    GenerationIncompleteError,
    Report,
    ensure_generated,
    ensure_generated_with_report,
    ensure_importable,
    generation_key,
)
from ._prepare import PreparedSpec, prepare_spec
from ._run import PACKAGE_NAME, GenerateResult, generate_project
from ._version import package_version

__all__ = [
    "PACKAGE_NAME",
    "CheckResult",
    "GenerateResult",
    "GenerationIncompleteError",
    "PreparedSpec",
    "Report",
    "check_imports",
    "check_mypy",
    "check_ruff",
    "ensure_generated",
    "ensure_generated_with_report",
    "ensure_importable",
    "generate_project",
    "generation_key",
    "package_version",
    "prepare_spec",
]
