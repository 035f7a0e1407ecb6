"""How much a long-running stateful mock keeps: the journal and webhook delivery log, per account.

Every bound is per account, so one busy (or hostile) tenant cannot push another's records out. `kdk mock`
takes them as `--journal-entries`, `--journal-bytes`, `--journal-body-bytes` and `--webhook-deliveries`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["DEFAULT_LIMITS", "ResourceLimits"]


@dataclass(frozen=True)
class ResourceLimits:
    journal_entries: int = 1000  # newest requests kept per account
    journal_bytes: int = 4 * 1024 * 1024  # bytes of journal JSON kept per account (oldest entries dropped first)
    journal_body_bytes: int = 64 * 1024  # a larger request body is journaled as its size only
    webhook_deliveries: int = 500  # newest delivery attempts kept per account
    rate_limit_file: str | None = None  # a SQLite file the workers of one mock share rate-limit buckets in
    # Uploaded images' bytes (`kdk mock --image-bytes`, `--account-image-bytes`): the largest one image may be
    # (Klaviyo's 5 MB; larger is a 400) and what one account's uploads may hold in all (past it, a 413).
    image_bytes: int = 5 * 1024 * 1024
    account_image_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ResourceLimits:
        """The limits `kdk mock` options name (absent or None: the default)."""
        given = {f.name: options[f.name] for f in fields(cls) if options.get(f.name) is not None}
        limits = cls(**given)
        for f in fields(cls):
            value = getattr(limits, f.name)
            if isinstance(value, int) and value < 1:
                raise ValueError(f"--{f.name.replace('_', '-')} must be at least 1, not {value}")
        return limits


DEFAULT_LIMITS = ResourceLimits()
