"""`kdk upgrade --to REF`: move the project to another spec revision in one all-or-nothing step.

A pipeline of named steps over one `UpgradeContext`:

    fetch -> validate -> patch -> diff -> generate -> contract -> report -> lock

Each step (`_steps`) is a small adapter around the library function that does the work (kdk.spec fetch,
validate and overlay, kdk.spec.diff, kdk.generate, the contract suite), returns a one-line summary and fails by
raising. Tests swap steps by name (`overrides`), so the orchestration (`_pipeline`) is tested without
generating a client. `_report` writes UPGRADE-<old>-to-<new>.md.
"""

from ._model import STEP_NAMES, ContractResult, StepError, StepFn, StepResult, UpgradeContext, UpgradeOutcome
from ._pipeline import run_upgrade
from ._report import render_upgrade_report, report_name
from ._steps import default_steps, new_lock, run_contract_suite

__all__ = [
    "STEP_NAMES",
    "ContractResult",
    "StepError",
    "StepFn",
    "StepResult",
    "UpgradeContext",
    "UpgradeOutcome",
    "default_steps",
    "new_lock",
    "render_upgrade_report",
    "report_name",
    "run_contract_suite",
    "run_upgrade",
]
