"""The upgrade's shared state: the context the steps fill in, and what a run returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..spec import FetchedSpec, Finding, Lock, OverlayResult, PatchedSpec
    from ..spec.diff import DiffReport, SignatureChange

__all__ = ["STEP_NAMES", "ContractResult", "StepError", "StepFn", "StepResult", "UpgradeContext", "UpgradeOutcome"]

Spec = dict[str, Any]
StepFn = Callable[["UpgradeContext"], str]
STEP_NAMES = ("fetch", "validate", "patch", "diff", "generate", "contract", "report", "lock")


class StepError(Exception):
    """A step's way of saying it failed; the message is shown to the user as the reason."""


@dataclass(frozen=True)
class StepResult:
    name: str
    ok: bool
    summary: str
    seconds: float


@dataclass
class ContractResult:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    failures: list[str] = field(default_factory=list)  # test ids, for the report
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.errors == 0


@dataclass
class UpgradeContext:
    """Everything the steps share. Filled in step by step; a step reads what earlier ones left."""

    ref: str
    channel: str
    source: str | None
    old_lock: Lock
    fetched: FetchedSpec | None = None
    raw: Spec | None = None
    raw_findings: list[Finding] = field(default_factory=list)
    overlay: OverlayResult | None = None
    patched: PatchedSpec | None = None
    old_patched: PatchedSpec | None = None
    diff: DiffReport | None = None
    signatures: list[SignatureChange] = field(default_factory=list)
    generated: Any = None  # kdk.generate.GenerateResult (the generator is imported only when it runs)
    generate_summary: str = ""
    contract: ContractResult | None = None
    new_lock: Lock | None = None
    report_path: Path | None = None
    report_dir: Path | None = None
    results: list[StepResult] = field(default_factory=list)

    def require_fetched(self) -> FetchedSpec:
        if self.fetched is None:
            raise StepError("the fetch step has not run")
        return self.fetched

    @property
    def old_label(self) -> str:
        return _label(self.old_lock.ref, self.old_lock.channel)

    @property
    def new_label(self) -> str:
        return _label(self.ref, self.channel)


@dataclass
class UpgradeOutcome:
    ok: bool
    results: list[StepResult]
    context: UpgradeContext
    failed_step: str | None = None
    reason: str = ""
    noop: bool = False  # the lock already pins this revision

    @property
    def report_path(self) -> Path | None:
        return self.context.report_path


def _label(ref: str, channel: str) -> str:
    """The revision as file names show it: the ref, plus the channel when it is not the ref's default."""
    from ..spec.diff import default_channel

    return ref if channel == default_channel(ref) else f"{ref}-{channel}"
