"""Fault and latency injection through the `Prefer` header: `Prefer: code=429`, `Prefer: delay=200` (ms)."""

from __future__ import annotations

import re

from ._compile import Operation, documented_key
from ._errors import MockError

__all__ = ["MAX_DELAY_MS", "prefer_code", "prefer_delay"]

MAX_DELAY_MS = 60_000


def _prefer_tokens(header: str | None) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for part in re.split(r"[,;]", header or ""):
        name, sep, value = part.strip().partition("=")
        if sep:
            tokens[name.strip().lower()] = value.strip().strip('"')
    return tokens


def prefer_delay(header: str | None) -> tuple[int, str | None]:
    """(milliseconds to wait, problem with the header or None); capped at MAX_DELAY_MS."""
    if not header:
        return 0, None
    raw = _prefer_tokens(header).get("delay")
    if raw is None:
        return 0, None
    if not raw.isdigit():
        return 0, f"'Prefer: delay={raw}' must be a whole number of milliseconds."
    return min(int(raw), MAX_DELAY_MS), None


def prefer_code(header: str | None, op: Operation) -> int | None:
    """The status `Prefer: code=` asks for (a `4XX` range means its `400`); it must be documented for `op`."""
    if not header:
        return None
    raw = _prefer_tokens(header).get("code")
    if raw is None:
        return None
    if re.fullmatch(r"[1-5]XX", raw, re.IGNORECASE):
        raw = f"{raw[0]}00"
    if not raw.isdigit() or not 100 <= int(raw) <= 599:
        raise MockError(400, f"'Prefer: code={raw}' is not an HTTP status.", parameter="Prefer")
    status = int(raw)
    if documented_key(op, status) is None:
        documented = ", ".join(op.statuses)
        raise MockError(
            400,
            f"'Prefer: code={status}' is not documented for {op.operation_id} (documented: {documented}).",
            parameter="Prefer",
        )
    return status
