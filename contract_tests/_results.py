"""What a contract run found: operations x checks, failures with a curl line each; text summary and JUnit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

__all__ = ["CheckFailure", "CheckTally", "ContractResult"]


@dataclass(frozen=True)
class CheckFailure:
    operation: str
    check: str
    phase: str
    title: str
    message: str
    curl: str
    case_id: str = ""
    detail: str = ""  # what the case varied, when schemathesis says


@dataclass
class CheckTally:
    passed: int = 0
    failed: int = 0


@dataclass
class ContractResult:
    target: str
    profile: str
    checks: list[str]
    operations: list[str] = field(default_factory=list)
    tallies: dict[str, dict[str, CheckTally]] = field(default_factory=lambda: defaultdict(dict))
    failures: list[CheckFailure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # schemathesis could not test something
    examples_phase_skipped: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def count(self, operation: str, check: str, *, failed: bool) -> None:
        if check not in self.checks:
            self.checks.append(check)
        tally = self.tallies[operation].setdefault(check, CheckTally())
        if failed:
            tally.failed += 1
        else:
            tally.passed += 1

    def add_failure(self, failure: CheckFailure) -> None:
        # One line per (operation, check, title): schemathesis reports the same failure from several cases.
        key = (failure.operation, failure.check, failure.title)
        if all((f.operation, f.check, f.title) != key for f in self.failures):
            self.failures.append(failure)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors

    @property
    def tested_operations(self) -> list[str]:
        known = set(self.operations)
        return sorted(
            op
            for op, checks in self.tallies.items()
            if op in known and any(t.passed or t.failed for t in checks.values())
        )

    def check_totals(self) -> dict[str, CheckTally]:
        totals: dict[str, CheckTally] = {check: CheckTally() for check in self.checks}
        for checks in self.tallies.values():
            for check, tally in checks.items():
                totals[check].passed += tally.passed
                totals[check].failed += tally.failed
        return totals

    def summary(self) -> str:
        """Operations x checks, then each failure with a curl line to reproduce it."""
        lines = [
            f"contract: {self.target}, profile {self.profile}: {len(self.tested_operations)}/{len(self.operations)} "
            f"operations tested in {self.elapsed:.1f}s",
            "",
            f"{'check':<32} {'operations':>10} {'passed':>9} {'failed':>7}",
        ]
        for check, tally in self.check_totals().items():
            ops = sum(1 for checks in self.tallies.values() if check in checks)
            lines.append(f"{check:<32} {ops:>10} {tally.passed:>9} {tally.failed:>7}")
        untested = sorted(set(self.operations) - set(self.tested_operations))
        if untested:
            lines += ["", f"untested operations ({len(untested)}): {', '.join(untested)}"]
        if self.examples_phase_skipped:
            lines += ["", f"examples phase skipped (exclusions.py): {', '.join(self.examples_phase_skipped)}"]
        if self.errors:
            lines += ["", f"errors ({len(self.errors)}):", *(f"  {e}" for e in self.errors)]
        if self.failures:
            lines += ["", f"failures ({len(self.failures)}):"]
            for f in self.failures:
                lines += [f"  {f.operation} [{f.check}, {f.phase}] {f.title}", f"    {_first_line(f.message)}"]
                if f.detail:
                    lines += [f"    case: {f.detail}"]
                lines += [f"    {f.curl}"]
        else:
            lines += ["", "failures: 0"]
        return "\n".join(lines)

    def write_junit(self, path: Path) -> None:
        """One testcase per operation x check (a failure element per failed check, with the curl line)."""
        suite = ET.Element("testsuite", name="kdk contract", time=f"{self.elapsed:.3f}")
        cases = failures = 0
        by_key: dict[tuple[str, str], list[CheckFailure]] = defaultdict(list)
        for f in self.failures:
            by_key[(f.operation, f.check)].append(f)
        for operation in sorted(self.tallies):
            for check, tally in sorted(self.tallies[operation].items()):
                case = ET.SubElement(suite, "testcase", classname=operation, name=check)
                cases += 1
                found = by_key.get((operation, check))
                if tally.failed or found:
                    failures += 1
                    text = "\n\n".join(f"{f.title}\n{f.message}\n{f.curl}" for f in found or [])
                    ET.SubElement(case, "failure", message=(found[0].title if found else "failed")).text = text
        for n, error in enumerate(self.errors):
            case = ET.SubElement(suite, "testcase", classname="schemathesis", name=f"error-{n}")
            ET.SubElement(case, "error", message=_first_line(error)).text = error
            cases += 1
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", str(len(self.errors)))
        path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
