"""Realistic scalar values: formats, and name-based guesses for plain strings.

Everything here is a pure function of a seed string, so the same request always gets the same body.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ._ids import seeded_id

__all__ = [
    "SERVED_EPOCH",
    "seeded_int",
    "string_for",
]

SERVED_EPOCH = "2026-07-15T12:00:00+00:00"


def _digest(seed: str) -> bytes:
    return hashlib.blake2b(seed.encode("utf-8"), digest_size=20).digest()


def seeded_int(seed: str, low: int, high: int) -> int:
    """A deterministic integer in [low, high]."""
    if high <= low:
        return low
    return low + int.from_bytes(_digest(seed)[:8], "big") % (high - low + 1)


_FORMAT_VALUES: dict[str, str] = {
    "date-time": SERVED_EPOCH,
    "date": "2026-07-15",
    "time": "12:00:00",
    "uri": "https://a.klaviyo.com/",
    "email": "sarah.mason@klaviyo-demo.com",
    "uuid": "925e385b-52f8-4a0d-9e57-1ba2d4a3f6c1",
    "binary": "",
}

# Substrings of property names -> a realistic value for an un-exampled plain string.
_NAME_HINTS: tuple[tuple[str, str], ...] = (
    ("email", "sarah.mason@klaviyo-demo.com"),
    ("phone", "+15005550006"),
    ("url", "https://www.klaviyo.com/"),
    ("first_name", "Sarah"),
    ("last_name", "Mason"),
    ("city", "Boston"),
    ("country", "United States"),
    ("region", "MA"),
    ("zip", "02110"),
    ("timezone", "America/New_York"),
    ("currency", "USD"),
    ("locale", "en-US"),
    ("ip", "192.168.1.1"),
    ("name", "Sample name"),
    ("title", "Sample title"),
    ("subject", "Sample subject"),
    ("status", "active"),
)


def string_for(name: str, fmt: str | None, seed: str) -> Any:
    """A plain string for a property without an example: by format first, then by the property name."""
    if fmt and fmt in _FORMAT_VALUES:
        return _FORMAT_VALUES[fmt]
    lowered = name.lower()
    for hint, value in _NAME_HINTS:
        if hint in lowered:
            return value
    if lowered.endswith("id") or lowered.endswith("_ids"):
        return seeded_id("ulid", seed)
    return f"{name or 'value'}-{seeded_int(seed, 100, 999)}"
