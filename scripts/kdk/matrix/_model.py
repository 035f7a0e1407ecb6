"""What one matrix row holds: the revision, what each stage measured, and every problem found on the way."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "STAGES",
    "ContractStage",
    "GenerateStage",
    "MatrixOptions",
    "MatrixRow",
    "MockStage",
    "Problem",
    "Revision",
    "ValidateStage",
]

# In the order they run; a row's problems name the stage they came from.
STAGES = ("fetch", "validate", "generate", "mypy", "mock", "contract", "worker")


@dataclass(frozen=True, order=True)
class Revision:
    ref: str  # a branch of github.com/klaviyo/openapi: "2026-07-15", "2026-07-15.pre", "main"
    channel: str  # "stable" or "beta"

    @property
    def label(self) -> str:
        return f"{self.ref} ({self.channel})"


@dataclass(frozen=True)
class MatrixOptions:
    source: str  # base URL or mirror directory laid out `<ref>/openapi/<channel>.json`
    contract: bool = True
    profile: str = "default"  # contract_tests profile
    mypy: bool = False  # mypy --strict over each generated client (minutes per revision)
    strict: bool = False  # validation warnings fail the row, as `kdk spec validate --strict`


@dataclass(frozen=True)
class Problem:
    stage: str
    message: str  # one line


@dataclass
class ValidateStage:
    errors: int
    warnings: int
    seconds: float
    examples: list[str] = field(default_factory=list)  # the first few findings, "pointer [rule] message"


@dataclass
class GenerateStage:
    operations: int
    operations_expected: int
    models: int
    warnings: int
    dropped_schemas: int
    seconds: float
    mypy_errors: int | None = None  # None: mypy was not run
    mypy_seconds: float | None = None


@dataclass
class MockStage:
    seconds: float  # building the mock app from the raw spec (overlay, compile; cached by content)


@dataclass
class ContractStage:
    operations: int  # operations schemathesis actually exercised
    operations_expected: int
    failures: int  # distinct failures plus errors (schemathesis could not test something)
    seconds: float
    profile: str
    examples: list[str] = field(default_factory=list)


@dataclass
class MatrixRow:
    revision: Revision
    operations: int | None = None  # in the raw spec, as fetched
    info_version: str | None = None
    sha256: str | None = None
    validate: ValidateStage | None = None
    generate: GenerateStage | None = None
    mock: MockStage | None = None
    contract: ContractStage | None = None
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, stage: str, message: str) -> None:
        self.problems.append(Problem(stage, " ".join(message.split())[:500]))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ref"], data["channel"] = self.revision.ref, self.revision.channel
        del data["revision"]
        data["ok"] = self.ok
        return data
