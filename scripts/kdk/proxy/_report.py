"""The drift report: every exchange's violations as JSONL, and a summary grouped by operation and schema location.

One group is (operation, where, kind, location, keyword): the same drift seen on a thousand list items is one
line with a count and one example (exchange id, pointer, offending value), which is what an upstream issue
or an overlay fix needs. Rate-limit headers seen per operation are part of the summary.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ._contract import Violation

__all__ = ["DriftReport", "RateLimitSeen"]

_RATE_HEADERS = ("ratelimit-", "x-ratelimit-", "retry-after")


@dataclass
class _Group:
    operation: str
    where: str
    kind: str
    location: str
    keyword: str
    message: str
    pointer: str
    value: Any
    exchange: int
    count: int = 0


@dataclass
class RateLimitSeen:
    documented: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    throttled_429: int = 0
    waited_s: float = 0.0
    last_headers: dict[str, str] = field(default_factory=dict)


class DriftReport:
    """Collects violations (thread-safe); optionally appends each exchange's to a JSONL file as it happens."""

    def __init__(self, log_path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._groups: dict[tuple[str, str, str, str, str], _Group] = {}
        self.exchanges = 0
        self.exchanges_with_drift = 0
        self.violations = 0
        self.rate_limits: dict[str, RateLimitSeen] = {}
        self._log: IO[str] | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = log_path.open("a", encoding="utf-8")

    @property
    def drift_seen(self) -> bool:
        return self.violations > 0

    def add(self, exchange: dict[str, Any], violations: list[Violation]) -> None:
        """One exchange (`id`, `method`, `path`, `revision`, `status`, masked) and what was wrong with it."""
        with self._lock:
            self.exchanges += 1
            if violations:
                self.exchanges_with_drift += 1
                self.violations += len(violations)
            for v in violations:
                key = (v.operation, v.where, v.kind, v.location, v.keyword)
                group = self._groups.get(key)
                if group is None:
                    group = self._groups[key] = _Group(
                        v.operation,
                        v.where,
                        v.kind,
                        v.location,
                        v.keyword,
                        v.message,
                        v.pointer,
                        v.value,
                        int(exchange.get("id", 0)),
                    )
                group.count += 1
            if self._log is not None:
                record = {**exchange, "violations": [v.to_json() for v in violations]}
                self._log.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                self._log.flush()

    def rate_limit(self, operation: str, documented: dict[str, str], status: int, headers: dict[str, str]) -> None:
        with self._lock:
            seen = self.rate_limits.setdefault(operation, RateLimitSeen(documented=documented))
            seen.requests += 1
            seen.throttled_429 += status == 429
            found = {k.lower(): v for k, v in headers.items() if k.lower().startswith(_RATE_HEADERS)}
            if found:
                seen.last_headers = found

    def waited(self, operation: str, documented: dict[str, str], seconds: float) -> None:
        with self._lock:
            self.rate_limits.setdefault(operation, RateLimitSeen(documented=documented)).waited_s += seconds

    def close(self) -> None:
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    # -- summaries -------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            groups = sorted(self._groups.values(), key=lambda g: (g.operation, g.where, g.location, g.keyword))
            return {
                "exchanges": self.exchanges,
                "exchanges_with_drift": self.exchanges_with_drift,
                "violations": self.violations,
                "groups": [
                    {
                        "operation": g.operation,
                        "where": g.where,
                        "kind": g.kind,
                        "location": g.location,
                        "keyword": g.keyword,
                        "count": g.count,
                        "example": {
                            "exchange": g.exchange,
                            "pointer": g.pointer,
                            "message": g.message,
                            "value": g.value,
                        },
                    }
                    for g in groups
                ],
                "rate_limits": {
                    op: {
                        "documented": seen.documented,
                        "requests": seen.requests,
                        "429": seen.throttled_429,
                        "throttle_wait_s": round(seen.waited_s, 3),
                        "last_headers": seen.last_headers,
                    }
                    for op, seen in sorted(self.rate_limits.items())
                },
            }

    def to_markdown(self) -> str:
        data = self.to_json()
        lines = [
            "# kdk proxy: drift report",
            "",
            f"{data['exchanges']} exchanges, {data['exchanges_with_drift']} with drift, "
            f"{data['violations']} violations in {len(data['groups'])} groups.",
            "",
        ]
        for operation, groups in itertools.groupby(data["groups"], key=lambda g: g["operation"]):
            lines += [
                f"## `{operation}`",
                "",
                "| where | kind | schema location | keyword | count | example |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
            for g in groups:
                ex = g["example"]
                value = json.dumps(ex["value"], ensure_ascii=False, default=str)
                value = value if len(value) <= 80 else value[:77] + "..."
                example = f"exchange {ex['exchange']} at `{ex['pointer'] or '-'}`: {ex['message']} (value `{value}`)"
                lines.append(
                    f"| {g['where']} | {g['kind']} | `{g['location']}` | {g['keyword'] or '-'} | {g['count']} | "
                    + example.replace("|", "\\|")
                    + " |"
                )
            lines.append("")
        if data["rate_limits"]:
            lines += [
                "## Rate limits",
                "",
                "| operation | documented | requests | 429 | throttle wait (s) | last headers |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
            for op, seen in data["rate_limits"].items():
                documented = ", ".join(f"{k} {v}" for k, v in seen["documented"].items()) or "-"
                headers = ", ".join(f"{k}: {v}" for k, v in seen["last_headers"].items()) or "-"
                counts = f"{seen['requests']} | {seen['429']} | {seen['throttle_wait_s']}"
                lines.append(f"| `{op}` | {documented} | {counts} | {headers} |")
            lines.append("")
        return "\n".join(lines)
