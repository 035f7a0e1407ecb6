"""Realistic scalar values: Klaviyo-shaped ids, formats, and name-based guesses for plain strings.

Everything here is a pure function of a seed string, so the same request always gets the same body.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = [
    "SERVED_EPOCH",
    "klaviyo_id",
    "seeded_int",
    "string_for",
]

# Crockford's base32, as in ULIDs (Klaviyo's 26-character ids, e.g. 01GMTZY2TEKN4KFRP30JZ59KGB).
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"

# Resource types whose ids are Klaviyo's short 6-character ids; everything else gets a 26-character ULID.
_SHORT_ID_TYPES = frozenset(
    {"list", "segment", "metric", "flow", "template", "account", "form", "coupon", "catalog-category-bulk-create-job"}
)

SERVED_EPOCH = "2026-07-15T12:00:00+00:00"


def _digest(seed: str) -> bytes:
    return hashlib.blake2b(seed.encode("utf-8"), digest_size=20).digest()


def seeded_int(seed: str, low: int, high: int) -> int:
    """A deterministic integer in [low, high]."""
    if high <= low:
        return low
    return low + int.from_bytes(_digest(seed)[:8], "big") % (high - low + 1)


def _ulid(seed: str) -> str:
    number = int.from_bytes(_digest(seed)[:17], "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[number % 32])
        number //= 32
    # A ULID's first character encodes the top bits of the timestamp; "01" keeps it in Klaviyo's range.
    return "01" + "".join(chars[2:])


def klaviyo_id(resource_type: str, seed: str) -> str:
    """An id shaped like the ones Klaviyo hands out for this resource type."""
    if resource_type in _SHORT_ID_TYPES:
        digest = _digest(seed)
        return "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:6])
    return _ulid(seed)


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
        return _ulid(seed)
    return f"{name or 'value'}-{seeded_int(seed, 100, 999)}"
