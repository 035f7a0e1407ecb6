"""Secrets and personal data out of what `kdk proxy` writes (and `kdk mock --replay` matches): consistent fakes.

A fake is a keyed hash of the original (HMAC with the recording's salt), so the same email, phone number
or key becomes the same fake everywhere in one recording (a profile created with an email is found again
by a filter on it), and a different one in the next recording. Fakes are recognisable and never masked
twice, so a replaying client that sends a fake it read from a cassette still matches. Masking works on
text, so a JSON body keeps its exact bytes apart from the replaced values.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

__all__ = ["Masker", "is_secret_name"]

_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# E.164 (what Klaviyo stores) and the common North American written form.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{7,15}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?![\w])")
# Klaviyo private API keys and anything shaped like a bearer token inside text.
_KEY = re.compile(r"(?<![\w])pk_[A-Za-z0-9]{6,}")
_SECRET_NAME = re.compile(r"authorization|cookie|token|secret|password|passwd|api[-_]?key|signature|session", re.I)
# JSON members whose string value is a secret: `"password": "..."`, `"access_token": "..."`.
_SECRET_MEMBER = re.compile(
    r'("(?:[^"\\]*?(?:token|secret|password|passwd|api[-_]?key|signature)[^"\\]*)"\s*:\s*")((?:[^"\\]|\\.)*)(")', re.I
)
_FAKE_EMAIL_DOMAIN = "example.com"
_FAKE_EMAIL_PREFIX = "kdk-"
_FAKE_PHONE_PREFIX = "+15550"
_FAKE_KEY_PREFIX = "pk_kdkfake"
_FAKE_SECRET_PREFIX = "kdkfake-"


def is_secret_name(name: str) -> bool:
    """A header, query parameter or JSON member whose value is a credential."""
    return bool(_SECRET_NAME.search(name))


class Masker:
    def __init__(self, salt: bytes) -> None:
        self._salt = salt

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self._salt, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()

    # -- one value -------------------------------------------------------------------------------------

    def email(self, value: str) -> str:
        if value.startswith(_FAKE_EMAIL_PREFIX) and value.endswith("@" + _FAKE_EMAIL_DOMAIN):
            return value
        return f"{_FAKE_EMAIL_PREFIX}{self._digest('email', value.lower())[:12]}@{_FAKE_EMAIL_DOMAIN}"

    def phone(self, value: str) -> str:
        if value.startswith(_FAKE_PHONE_PREFIX):
            return value
        digits = str(int(self._digest("phone", re.sub(r"\D", "", value))[:12], 16))[-6:].rjust(6, "0")
        return _FAKE_PHONE_PREFIX + digits

    def key(self, value: str) -> str:
        if value.startswith(_FAKE_KEY_PREFIX):
            return value
        return _FAKE_KEY_PREFIX + self._digest("key", value)[:24]

    def secret(self, value: str) -> str:
        if not value or value.startswith((_FAKE_SECRET_PREFIX, _FAKE_KEY_PREFIX)):
            return value
        return _FAKE_SECRET_PREFIX + self._digest("secret", value)[:24]

    def credential(self, value: str) -> str:
        """`Klaviyo-API-Key pk_...` / `Bearer tok`: the scheme stays, the credential becomes a fake."""
        scheme, sep, credential = value.strip().partition(" ")
        if not sep:
            return self.secret(value)
        credential = credential.strip()
        fake = self.key(credential) if credential.startswith("pk_") else self.secret(credential)
        return f"{scheme} {fake}"

    # -- text and structures --------------------------------------------------------------------------

    def text(self, text: str) -> str:
        """Emails, phone numbers, API keys and secret JSON members inside any text (a body, a query)."""
        text = _SECRET_MEMBER.sub(lambda m: m.group(1) + self.secret(m.group(2)) + m.group(3), text)
        text = _EMAIL.sub(lambda m: self.email(m.group(0)), text)
        text = _KEY.sub(lambda m: self.key(m.group(0)), text)
        return _PHONE.sub(lambda m: self.phone(m.group(0)), text)

    def header(self, name: str, value: str) -> str:
        if name.lower() in ("authorization", "proxy-authorization"):
            return self.credential(value)
        if is_secret_name(name):
            return self.secret(value)
        return self.text(value)

    def pairs(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, self.secret(v) if is_secret_name(k) else self.text(v)) for k, v in pairs]

    def value(self, value: Any) -> Any:
        """A JSON value (an offending value in a drift report)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {
                k: (self.secret(v) if isinstance(v, str) and is_secret_name(k) else self.value(v))
                for k, v in value.items()
            }
        return value
