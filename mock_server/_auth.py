"""Credentials, as Klaviyo reads them: `Klaviyo-API-Key <key>` or `Bearer <token>`; public (`security: []`)
operations take the tenant from `company_id` instead. Each credential is its own account (tenant).

An account is named by an opaque id derived from its credential (`account_id`), never by the credential:
ids show up in admin answers, the journal and webhook payloads (`meta.klaviyo_account_id`), which must not
hand a key to whoever reads them. The derivation is an HMAC with a fixed key, so one credential is the same
account in every mock (an export or a seed file names it the same way anywhere); a key cannot be read back
from its id, only guessed, so guessable keys (`pk_test`) are no secret on a shared mock.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re

from ._compile import Operation
from ._errors import MockError

__all__ = [
    "ACCOUNT_ID_PATTERN",
    "account_for_name",
    "account_id",
    "authenticate",
    "credentials",
    "incorrect_credentials",
]

_ACCOUNT_KEY = b"klaviyo-devkit mock account id v1"
ACCOUNT_ID_PATTERN = re.compile(r"acct_[0-9a-f]{20}")
_KINDS = ("api_key", "oauth", "company")


@functools.lru_cache(maxsize=4096)  # every request derives it: the same few credentials, again and again
def account_id(kind: str, credential: str) -> str:
    """The opaque id of the account of a credential: `acct_` and 20 hex digits of a keyed hash."""
    digest = hmac.new(_ACCOUNT_KEY, f"{kind}:{credential}".encode("utf-8", "surrogatepass"), hashlib.sha256)
    return "acct_" + digest.hexdigest()[:20]


def account_for_name(name: str) -> str | None:
    """The account a seed file or an admin `?account=` names: an id (`acct_...`) as is, or a credential
    spelled `api_key:<key>`, `oauth:<token>` or `company:<company_id>`; None for anything else."""
    if ACCOUNT_ID_PATTERN.fullmatch(name):
        return name
    kind, sep, credential = name.partition(":")
    if sep and kind in _KINDS and (credential or kind == "company"):
        return account_id(kind, credential)
    return None


@functools.lru_cache(maxsize=1024)
def credentials(header: str | None) -> tuple[str | None, str]:
    """(account id, kind) for an Authorization header; kind is "api_key", "oauth", "none" or "invalid" (a client
    sends the same header with every request: worked out once per header)."""
    if not header:
        return None, "none"
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if not credential or " " in credential:
        return None, "invalid"
    if scheme.lower() == "klaviyo-api-key":
        return account_id("api_key", credential), "api_key"
    if scheme.lower() == "bearer":
        if credential.startswith("pk_"):  # a private API key is never an OAuth access token: Klaviyo answers 401
            return None, "invalid"
        return account_id("oauth", credential), "oauth"
    return None, "invalid"


def authenticate(op: Operation, headers: dict[str, str], query: dict[str, str]) -> tuple[str, str]:
    """(account id, kind) for a request to `op`; raises MockError 401 when credentials are missing or malformed."""
    if op.public:
        return account_id("company", query.get("company_id") or ""), "none"
    account, kind = credentials(headers.get("authorization"))
    if kind == "none":
        raise MockError(401, "Authentication credentials were not provided.", code="not_authenticated")
    if account is None:
        raise incorrect_credentials()
    return account, kind


def incorrect_credentials() -> MockError:
    return MockError(
        401,
        "Incorrect authentication credentials: use 'Authorization: Klaviyo-API-Key <key>' or 'Bearer <token>'.",
        code="authentication_failed",
        title="Incorrect authentication credentials.",
    )
