"""`kdk upgrade --to REF`: move the project to another spec revision in one all-or-nothing step.

A pipeline of named steps over one `UpgradeContext`:

    fetch -> validate -> patch -> diff -> generate -> contract -> report -> lock

Each step (`_steps`) is a small adapter around the library function that does the work (kdk.spec fetch,
validate and overlay, kdk.spec.diff, kdk.generate, contract_tests.run_contract), returns a one-line summary and
fails by raising. The new revision travels as a `kdk.spec.PatchedSpec` in the context: the generator and the
contract run are handed it, and the lock is written only by the last step. Tests swap steps by name
(`overrides`), so the orchestration (`_pipeline`) is tested without generating a client. `_report` writes
UPGRADE-<old>-to-<new>.md.
"""

from ._model import STEP_NAMES, ContractResult, StepError, StepFn, StepResult, UpgradeContext, UpgradeOutcome
from ._pipeline import run_upgrade
from ._report import render_upgrade_report, report_name
from ._steps import ContractRunner, default_steps, in_process_contract_runner, new_lock

__all__ = [
    "STEP_NAMES",
    "ContractResult",
    "ContractRunner",
    "StepError",
    "StepFn",
    "StepResult",
    "UpgradeContext",
    "UpgradeOutcome",
    "default_steps",
    "in_process_contract_runner",
    "new_lock",
    "render_upgrade_report",
    "report_name",
    "run_upgrade",
]
