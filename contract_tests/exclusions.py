"""Every exclusion from the contract suite, in one place, each with the reason it exists.

Rules, not lists of names where a rule exists: an exclusion chosen by the spec's shape keeps applying to
revisions nobody has looked at yet. An exclusion never hides a mock bug: "fix the mock, not the check".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXAMPLES_PHASE_MAX_COMPOSITION_DEPTH", "EXCLUSIONS", "Exclusion"]


@dataclass(frozen=True)
class Exclusion:
    what: str  # the operations or checks concerned, as a rule or an operationId
    scope: str  # what is skipped for them: "examples phase", a check name, ...
    reason: str


# Request bodies nesting more composition layers than this skip schemathesis' examples and coverage phases
# (fuzzing and stateful phases still run on them). See contract_tests/_depth.py and README-section.md: the
# example walk of schemathesis 4.32 doubles per layer; on 2026-07-15 this selects create_flow and
# update_flow_action (13 layers, ~10 min each), and keeps create_template/update_template (10 layers, ~3 s)
# and the segment operations (7-8 layers, ~5 s).
EXAMPLES_PHASE_MAX_COMPOSITION_DEPTH = 11

EXCLUSIONS: list[Exclusion] = [
    Exclusion(
        what=f"operations whose request body nests more than {EXAMPLES_PHASE_MAX_COMPOSITION_DEPTH} oneOf/anyOf/"
        "nullable layers (2026-07-15: create_flow, update_flow_action)",
        scope="schemathesis examples and coverage phases",
        reason="schemathesis 4.32 walks every path through the body schema and every composed property twice "
        "(its own walk plus each alternative's), so example extraction doubles per nested layer and runs for "
        "~10 minutes per operation before the first request. Its coverage phase enumerates mutations of the "
        "same tree and took 166 s (stub app) to >290 s (mock) for create_flow alone. Fuzzing (every check) and "
        "the stateful phase still test these operations.",
    ),
]
