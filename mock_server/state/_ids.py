"""Klaviyo-shaped ids, chosen per resource type from the shape of the spec's own example ids."""

from __future__ import annotations

import re
import secrets
import time
import uuid

__all__ = ["IdShape", "id_shape_for_example", "new_id"]

IdShape = str  # "ulid" | "short" | "hex32" | "uuid" | "digits"

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def id_shape_for_example(example: str | None) -> IdShape:
    if not example:
        return "ulid"
    if re.fullmatch(r"[0-9A-Z]{26}", example):
        return "ulid"
    if re.fullmatch(r"[A-Za-z0-9]{6}", example):
        return "short"
    if re.fullmatch(r"[0-9a-f]{32}", example):
        return "hex32"
    if re.fullmatch(r"[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}", example):
        return "uuid"
    if re.fullmatch(r"[0-9]+", example):
        return "digits"
    return "ulid"


def _ulid() -> str:
    # 48-bit millisecond time + 80 random bits, Crockford base32: sortable like Klaviyo's profile ids.
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(shape: IdShape) -> str:
    if shape == "short":
        return "".join(secrets.choice(_ALNUM) for _ in range(6))
    if shape == "hex32":
        return secrets.token_hex(16)
    if shape == "uuid":
        return str(uuid.uuid4())
    if shape == "digits":
        return str(secrets.randbelow(10**13) + 10**12)
    return _ulid()
