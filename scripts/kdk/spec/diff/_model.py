"""What a diff produces: severities, rules, changes and the report that holds them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Change", "DiffReport", "Rule", "Severity"]


class Severity(StrEnum):
    """How bad a change is for a client written against the old revision (oasdiff's error/warning/info)."""

    BREAKING = "breaking"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.BREAKING: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Rule:
    id: str  # oasdiff's check id where one exists, e.g. "request-parameter-removed"
    severity: Severity
    template: str  # str.format template over the change's arguments ({name}, {old}, {new}, ...)
    summary: str  # one line for `--help`-style listings and the README


@dataclass(frozen=True)
class Change:
    rule: str
    severity: Severity
    method: str
    path: str
    operation_id: str
    message: str
    # JSON pointers into the *resolved* patched specs (a `$ref` is read as the schema it names);
    # None on the side where the thing does not exist (e.g. the old side of an added property).
    old_pointer: str | None
    new_pointer: str | None

    @property
    def sort_key(self) -> tuple[str, str, int, str, str, str]:
        return (
            self.path,
            self.method,
            self.severity.rank,
            self.rule,
            self.new_pointer or self.old_pointer or "",
            self.message,
        )

    def to_dict(self) -> dict[str, str | None]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "operation_id": self.operation_id,
            "method": self.method.upper(),
            "path": self.path,
            "message": self.message,
            "old_pointer": self.old_pointer,
            "new_pointer": self.new_pointer,
        }


@dataclass
class DiffReport:
    old_label: str
    new_label: str
    old_operations: int
    new_operations: int
    changes: list[Change] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the comparison itself (loading and patching excluded)

    def counts(self) -> dict[Severity, int]:
        counter = Counter(c.severity for c in self.changes)
        return {s: counter.get(s, 0) for s in Severity}

    def of(self, severity: Severity) -> list[Change]:
        return [c for c in self.changes if c.severity is severity]

    def meets(self, fail_on: Severity) -> bool:
        """True when there is a change at least as severe as `fail_on` (for `--fail-on`)."""
        return any(c.severity.rank <= fail_on.rank for c in self.changes)
