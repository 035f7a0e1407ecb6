"""Who may use the `/__mock__/` admin API, and from where.

- An admin call acts on the account of the credentials it sends (the same `Authorization` header as the API).
- The global view (every account) and acting on another account need the admin token, configured with
  `kdk mock --admin-token TOKEN` (or `KDK_MOCK_ADMIN_TOKEN`) and sent as `KDK-Admin-Token: TOKEN`; with no
  token configured they are refused (403) unless the mock was started with `--insecure-open-admin`.
  There is no loopback exception: a page in the user's browser can reach 127.0.0.1 too (DNS rebinding).
- State-changing admin calls refuse what a browser sends cross-site without a preflight: a cross-site
  `Sec-Fetch-Site`, an `Origin` other than the mock's own, or a "simple" content type (`text/plain`, forms).
- Listening beyond loopback without an admin token is refused at start unless `--insecure-open-admin`.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from ._errors import MockError

__all__ = [
    "ADMIN_TOKEN_ENV",
    "ADMIN_TOKEN_HEADER",
    "AdminAccess",
    "admin_refusal",
    "exposure_problem",
    "is_loopback",
    "refuse_cross_site",
]

ADMIN_TOKEN_HEADER = "KDK-Admin-Token"
ADMIN_TOKEN_ENV = "KDK_MOCK_ADMIN_TOKEN"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Content types a browser form or `fetch(..., {mode: "no-cors"})` may send cross-site without a preflight.
_SIMPLE_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})


@dataclass(frozen=True)
class AdminAccess:
    """The mock's admin policy: its admin token (None: none configured) and whether the admin API is open."""

    token: str | None = None
    open: bool = False  # --insecure-open-admin: anyone who reaches the mock is an admin

    def is_admin(self, headers: dict[str, str]) -> bool:
        """Whether a request may act on every account; a wrong or unexpected token is a 403."""
        sent = headers.get(ADMIN_TOKEN_HEADER.lower())
        if sent is None:
            return self.open
        if self.token is None:
            if self.open:
                return True
            raise _forbidden(
                f"This mock has no admin token: start it with --admin-token TOKEN (or {ADMIN_TOKEN_ENV}) to use "
                f"`{ADMIN_TOKEN_HEADER}`."
            )
        if not hmac.compare_digest(sent.encode("utf-8", "replace"), self.token.encode("utf-8")):
            raise _forbidden(f"The `{ADMIN_TOKEN_HEADER}` sent is not this mock's admin token.")
        return True


def admin_refusal(what: str) -> MockError:
    """The 403 for a global operation (or another account's data) asked for without the admin token."""
    return _forbidden(
        f"{what} needs the admin token: start the mock with --admin-token TOKEN (or {ADMIN_TOKEN_ENV}=TOKEN) and "
        f"send `{ADMIN_TOKEN_HEADER}: TOKEN`. Without it, admin endpoints act on the account of the credentials "
        "sent (`Authorization: Klaviyo-API-Key <key>` or `Bearer <token>`)."
    )


def refuse_cross_site(method: str, headers: dict[str, str], base_url: str) -> None:
    """Raise a 403 for a state-changing admin request a browser page of another site could have sent."""
    if method.upper() in _SAFE_METHODS:
        return
    fetch_site = (headers.get("sec-fetch-site") or "").strip().lower()
    if fetch_site in ("cross-site", "same-site"):
        raise _forbidden(f"Cross-site admin requests are refused (Sec-Fetch-Site: {fetch_site}).")
    origin = (headers.get("origin") or "").strip()
    if origin and _origin(origin) != _origin(base_url):
        raise _forbidden(f"Admin requests from another origin are refused (Origin: {origin[:100]}).")
    media = (headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media in _SIMPLE_TYPES:
        raise _forbidden(
            f"State-changing admin requests take `Content-Type: application/json` (or no body), not {media}: "
            "browsers send that type cross-site without asking."
        )


def is_loopback(host: str) -> bool:
    """Whether `--host` listens on this machine only (a name other than `localhost` counts as not)."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure_problem(host: str, access: AdminAccess) -> str | None:
    """Why the mock must not start listening on `host` with this admin policy (None: it may)."""
    if is_loopback(host) or access.token or access.open:
        return None
    return (
        f"--host {host} exposes the /__mock__/ admin API beyond this machine: set an admin token "
        f"(--admin-token TOKEN or {ADMIN_TOKEN_ENV}) or, on a network you trust, pass --insecure-open-admin"
    )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _forbidden(detail: str) -> MockError:
    return MockError(403, detail, code="permission_denied", title="You do not have permission to perform this action.")
