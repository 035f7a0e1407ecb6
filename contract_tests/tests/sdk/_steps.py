"""Running a scripted SDK session step by step: every step runs (a failed one does not stop the rest),
each outcome is kept, and the tests assert them one by one (so one failing call is one failing test).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome", "Session", "run_steps"]


@dataclass
class Outcome:
    ok: bool
    detail: str = ""


@dataclass
class Session:
    """What the steps share: the SDK client and the ids earlier steps created."""

    client: Any
    mock: Any
    ctx: dict[str, Any] = field(default_factory=dict)


def run_steps(session: Session, steps: list[tuple[str, Callable[[Session], None]]]) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for name, step in steps:
        try:
            step(session)
        except KeyError as exc:  # an id an earlier (failed) step should have left in ctx
            outcomes[name] = Outcome(False, f"depends on a failed step (missing {exc})")
        except Exception as exc:
            body = getattr(exc, "body", None)
            extra = f"\nresponse body: {body}" if body else ""
            outcomes[name] = Outcome(False, f"{type(exc).__name__}: {exc}{extra}\n{traceback.format_exc(limit=4)}")
        else:
            outcomes[name] = Outcome(True)
    return outcomes
