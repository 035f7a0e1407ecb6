"""How much a long-running stateful mock keeps: accounts, and per account the journal and webhook delivery log.

Every per-account bound holds per account, so one busy (or hostile) tenant cannot push another's records out;
the number of accounts is bounded too, since every new credential is a new account (its records, journal,
rate-limit buckets). `kdk mock` takes them as `--journal-entries`, `--journal-bytes`, `--journal-body-bytes`,
`--webhook-deliveries` and `--max-accounts`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any

from mock_server import MockResponse, error_response

__all__ = ["ACCOUNT_LIMIT_CODE", "DEFAULT_LIMITS", "AccountBound", "ResourceLimits", "account_limit_response"]

ACCOUNT_LIMIT_CODE = "account_limit_reached"


@dataclass(frozen=True)
class ResourceLimits:
    journal_entries: int = 1000  # newest requests kept per account
    journal_bytes: int = 4 * 1024 * 1024  # bytes of journal JSON kept per account (oldest entries dropped first)
    journal_body_bytes: int = 64 * 1024  # a larger request body is journaled as its size only
    webhook_deliveries: int = 500  # newest delivery attempts kept per account
    max_accounts: int = 1000  # accounts (credentials) one mock serves; a new one past it is refused with a 403
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


class AccountBound:
    """The accounts a mock serves, at most `limit`: an account is admitted on its first request (or data load)
    while fewer than `limit` are known; the known ones keep working whatever comes later.

    Known accounts are the ones holding resources in the store (`stored()`: so a SQLite or PostgreSQL state
    counts the accounts it already holds after a restart, and another worker's accounts once they wrote
    something) plus the ones this process admitted. A reset account gives its place back.
    """

    def __init__(self, limit: int, stored: Callable[[], Iterable[str]]) -> None:
        self.limit = limit
        self._stored = stored
        self._lock = threading.Lock()
        self._known: set[str] = set(stored())
        self._refreshed = 0.0

    def __len__(self) -> int:
        return len(self._known)

    def admit(self, account: str) -> bool:
        """Whether `account` may be served (and, if new and admitted, it is known from now on)."""
        if account in self._known:  # the hot path: no lock for a known account
            return True
        with self._lock:
            if len(self._known) >= self.limit:
                # Another worker may have stored it meanwhile; read the store at most once a second (a stream
                # of new keys must not turn into a stream of full scans of the accounts).
                now = time.monotonic()
                if now - self._refreshed >= 1.0:
                    self._refreshed = now
                    self._known |= set(self._stored())
                return account in self._known
            self._known.add(account)
            return True

    def forget(self, account: str | None) -> None:
        """After a reset: the account (None: every account) gives its place back, unless it still holds data."""
        with self._lock:
            if account is None:
                self._known = set(self._stored())
            else:
                self._known.discard(account)
                self._known |= {a for a in self._stored() if a == account}


def account_limit_response(limit: int) -> MockResponse:
    """The answer to a new credential past `--max-accounts`: 403, like a key Klaviyo refuses to serve.

    Not a 401 (the credential is well-formed; clients would report a wrong key) and not a 429 (SDKs retry a
    429, and waiting frees nothing: a place comes back only by resetting an account or restarting the mock).
    """
    return error_response(
        403,
        code=ACCOUNT_LIMIT_CODE,
        title="Account limit reached.",
        detail=f"This mock already serves {limit:,} accounts (--max-accounts {limit}); a new API key or OAuth "
        "token is a new account. Reuse a key the mock knows, reset an account (POST /__mock__/reset), or "
        "restart it with a larger --max-accounts.",
    )
