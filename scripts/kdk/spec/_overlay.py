"""The overlay: Klaviyo's raw spec -> the spec our generator, mock, validator and tests accept.

One list of named fixes, each with the reason it exists and a count of what it touched. Fixes match
by *shape*, never by schema name, so they keep working on revisions nobody has looked at yet.
Every consumer calls `apply_overlay`; nobody patches the spec on their own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FIXES", "Fix", "FixReport", "OverlayResult", "apply_overlay"]

Spec = dict[str, Any]


@dataclass(frozen=True)
class Fix:
    name: str
    reason: str
    apply: Callable[[Spec], int]  # mutates the spec in place, returns how many places it changed


@dataclass(frozen=True)
class FixReport:
    name: str
    reason: str
    count: int


@dataclass
class OverlayResult:
    spec: Spec
    report: list[FixReport] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.count for r in self.report)


FIXES: list[Fix] = []


def apply_overlay(spec: Spec, *, fixes: list[Fix] | None = None, copy_spec: bool = True) -> OverlayResult:
    """Apply every fix in order; the input is left untouched unless `copy_spec=False`."""
    target = copy.deepcopy(spec) if copy_spec else spec
    report = [FixReport(f.name, f.reason, f.apply(target)) for f in (FIXES if fixes is None else fixes)]
    return OverlayResult(target, report)
