"""Credentials, as Klaviyo reads them: `Klaviyo-API-Key <key>` or `Bearer <token>`; public (`security: []`)
operations take the tenant from `company_id` instead. Each credential is its own account (tenant)."""

from __future__ import annotations

from ._compile import Operation
from ._errors import MockError

__all__ = ["authenticate", "credentials"]


def credentials(header: str | None) -> tuple[str | None, str]:
    """(account, kind) for an Authorization header; kind is "api_key", "oauth", "none" or "invalid"."""
    if not header:
        return None, "none"
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if not credential or " " in credential:
        return None, "invalid"
    if scheme.lower() == "klaviyo-api-key":
        return f"api_key:{credential}", "api_key"
    if scheme.lower() == "bearer":
        return f"oauth:{credential}", "oauth"
    return None, "invalid"


def authenticate(op: Operation, headers: dict[str, str], query: dict[str, str]) -> tuple[str, str]:
    """(account, kind) for a request to `op`; raises MockError 401 when credentials are missing or malformed."""
    if op.public:
        company = query.get("company_id")
        return (f"company:{company}" if company else "company:"), "none"
    account, kind = credentials(headers.get("authorization"))
    if kind == "none":
        raise MockError(401, "Authentication credentials were not provided.", code="not_authenticated")
    if account is None:
        raise MockError(
            401,
            "Incorrect authentication credentials: use 'Authorization: Klaviyo-API-Key <key>' or 'Bearer <token>'.",
            code="authentication_failed",
            title="Incorrect authentication credentials.",
        )
    return account, kind
