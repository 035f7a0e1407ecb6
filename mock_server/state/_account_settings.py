"""What an account may do, as Klaviyo decides it: the scopes of its API key and the features it has turned on.

Klaviyo gives a private key an access level when it is made: Full, Read-only, or Custom (per API scope:
no access, Read, or Full). Each operation names the scopes it needs in `x-klaviyo-scopes`
(`["lists:write", "profiles:write"]`); a key lacking one gets 403 `permission_denied`. Full access to a scope
includes reading it, so a granted `x:write` also grants `x:read`. OAuth tokens carry the scopes granted to
the app, the same way. Each credential is its own account in the mock (see `mock_server._auth`), so a key's
scopes are its account's settings.

Features are account settings that Klaviyo's documents answer 403 for: `conversations` (the Conversations
API is enabled for the account), `sms` (the account is configured to send SMS) and `whatsapp`.

Nothing configured means what it meant before: full access, every feature on. Settings live in the store as
one record of a type no Klaviyo resource has (`SETTINGS_TYPE`), so they persist and stay per account on
every backend, and `POST /__mock__/reset` takes them along with the account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kdk.spec import iter_operations
from mock_server import MockError

from ._index import ResourceIndex
from ._schema import Spec, flatten
from ._store import StoreTx

__all__ = [
    "ACCESS_LEVELS",
    "FEATURES",
    "SETTINGS_TYPE",
    "AccountSettings",
    "SettingsError",
    "feature_refusal",
    "include_scopes",
    "known_scopes",
    "parse_settings",
    "read_settings",
    "required_scopes",
    "scope_refusal",
    "settings_from_options",
    "write_settings",
]

SETTINGS_TYPE = "kdk-account-settings"  # a record type no Klaviyo resource uses
_SETTINGS_ID = "settings"
ACCESS_LEVELS = ("full", "read-only", "custom")
# feature -> the 403 detail Klaviyo's documents give when the account does not have it (seeds 000 and 002).
FEATURES: dict[str, str] = {
    "conversations": "The account does not have the Conversations feature enabled.",
    "sms": "Account not configured to send SMS.",
    "whatsapp": "WhatsApp not enabled for the account.",
}
_LEVELS = {"read": "read", "write": "write", "full": "write"}  # Klaviyo's UI calls write access "Full"
_FORBIDDEN_TITLE = "You do not have permission to perform this action."


class SettingsError(ValueError):
    """Settings a user wrote that the mock cannot take (the message says where and why)."""


@dataclass(frozen=True)
class AccountSettings:
    """`access` "full" grants every scope, "read-only" every `:read` scope, "custom" only `scopes`
    (where `x:write` includes `x:read`). `features` holds the features set explicitly; others are on."""

    access: str = "full"
    scopes: frozenset[str] = frozenset()
    features: Mapping[str, bool] = field(default_factory=dict)

    def grants(self, scope: str) -> bool:
        if self.access == "full":
            return True
        name, _, level = scope.rpartition(":")
        if level == "read" and (self.access == "read-only" or f"{name}:write" in self.scopes):
            return True
        return scope in self.scopes

    def missing(self, required: Iterable[str]) -> list[str]:
        return [scope for scope in required if not self.grants(scope)]

    def enabled(self, feature: str) -> bool:
        return self.features.get(feature, True)

    def to_json(self) -> dict[str, Any]:
        """The settings as the seed file, the admin endpoint and the store write them."""
        scopes: str | list[str] = self.access if self.access != "custom" else sorted(self.scopes)
        return {"scopes": scopes, "features": {name: self.enabled(name) for name in FEATURES}}

    def merged(self, other: Mapping[str, Any], where: str, known: frozenset[str]) -> AccountSettings:
        """These settings with the parts `other` names replaced (`scopes`) or updated (`features`)."""
        update = parse_settings(other, where, known)
        access, scopes = (update.access, update.scopes) if "scopes" in other else (self.access, self.scopes)
        return AccountSettings(access, scopes, {**self.features, **update.features})


def parse_settings(value: Any, where: str, known: frozenset[str]) -> AccountSettings:
    """Settings as a user writes them: `{"scopes": "full" | "read-only" | [scope, ...], "features": {name: bool}}`.
    A scope is `<api>:read`, `<api>:write` or `<api>:full` (= write) for an API the spec names in `known`."""
    if not isinstance(value, Mapping):
        raise SettingsError(f"{where}: settings must be a mapping with `scopes` and/or `features`")
    unknown = sorted(set(value) - {"scopes", "features", "account"})
    if unknown:
        raise SettingsError(f"{where}: unknown setting(s) {', '.join(unknown)}: use `scopes` and `features`")
    access, scopes = "full", frozenset[str]()
    raw_scopes = value.get("scopes", "full")
    if isinstance(raw_scopes, str):
        if raw_scopes not in ("full", "read-only"):
            raise SettingsError(
                f"{where}.scopes: {raw_scopes[:60]!r} is not an access level: use `full`, `read-only` or a list "
                "of scopes such as [profiles:read, lists:write]"
            )
        access = raw_scopes
    elif isinstance(raw_scopes, list):
        access, scopes = (
            "custom",
            frozenset(_scope(item, f"{where}.scopes[{i}]", known) for i, item in enumerate(raw_scopes)),
        )
    else:
        raise SettingsError(f"{where}.scopes: expected `full`, `read-only` or a list of scopes")
    raw_features = value.get("features") or {}
    if not isinstance(raw_features, Mapping):
        raise SettingsError(f"{where}.features: expected a mapping such as {{sms: false}}")
    features: dict[str, bool] = {}
    for name, enabled in raw_features.items():
        if name not in FEATURES:
            raise SettingsError(f"{where}.features: unknown feature {str(name)[:40]!r}: use {', '.join(FEATURES)}")
        if not isinstance(enabled, bool):
            raise SettingsError(f"{where}.features.{name}: expected true or false")
        features[name] = enabled
    return AccountSettings(access, scopes, features)


def _scope(item: Any, where: str, known: frozenset[str]) -> str:
    name, sep, level = item.rpartition(":") if isinstance(item, str) else ("", "", "")
    if not sep or level not in _LEVELS:
        raise SettingsError(
            f"{where}: a scope is `<api>:read` or `<api>:write` (`:full` = write), not {str(item)[:60]!r}"
        )
    scope = f"{name}:{_LEVELS[level]}"
    if known and scope not in known and f"{name}:read" not in known and f"{name}:write" not in known:
        apis = sorted({s.rpartition(":")[0] for s in known})
        raise SettingsError(f"{where}: the spec has no scope {item!r}; its APIs: {', '.join(apis)}")
    return scope


def read_settings(tx: StoreTx, account: str) -> AccountSettings | None:
    """The account's settings, None when it has none (full access, every feature on)."""
    record = tx.get(account, SETTINGS_TYPE, _SETTINGS_ID)
    if record is None:
        return None
    attributes = record.get("attributes") or {}
    scopes = attributes.get("scopes")
    features = {str(k): bool(v) for k, v in (attributes.get("features") or {}).items()}
    if isinstance(scopes, list):
        return AccountSettings("custom", frozenset(str(s) for s in scopes), features)
    return AccountSettings(str(scopes or "full"), frozenset(), features)


def write_settings(tx: StoreTx, account: str, settings: AccountSettings | None) -> None:
    """Store the account's settings (None, or the defaults: none stored)."""
    if settings is None or settings == AccountSettings():
        tx.delete(account, SETTINGS_TYPE, _SETTINGS_ID)
        return
    attributes = {**settings.to_json(), "features": dict(settings.features)}
    tx.put(account, {"type": SETTINGS_TYPE, "id": _SETTINGS_ID, "attributes": attributes, "relationships": {}})


def required_scopes(spec: Spec) -> dict[str, tuple[str, ...]]:
    """Every operation's `x-klaviyo-scopes` (operations without it, or with none, are left out)."""
    found: dict[str, tuple[str, ...]] = {}
    for op in iter_operations(spec):
        scopes = op.node.get("x-klaviyo-scopes")
        if isinstance(scopes, list) and scopes:
            found[op.operation_id] = tuple(str(s) for s in scopes if isinstance(s, str))
    return found


def include_scopes(index: ResourceIndex) -> dict[str, dict[str, tuple[str, ...]]]:
    """operation id -> include name -> the read scopes of the included type (its get operation's
    `x-klaviyo-scopes`): Klaviyo's help centre says `include=lists` on profiles also needs `lists:read`."""
    spec, scopes = index.spec, required_scopes(index.spec)
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for op in index.ops.values():
        relationships = flatten(spec, (op.data_schema or {}).get("properties", {}).get("relationships"))
        for name in sorted(op.includes):
            related = flatten(spec, (relationships.get("properties") or {}).get(name))
            data = flatten(spec, (related.get("properties") or {}).get("data"))
            if data.get("type") == "array" or "items" in data:
                data = flatten(spec, data.get("items"))
            values = flatten(spec, (data.get("properties") or {}).get("type")).get("enum") or []
            info = index.types.get(str(values[0])) if len(values) == 1 else None
            reader = (info.get_op or info.list_op) if info else None
            needed = tuple(s for s in scopes.get(reader or "", ()) if s.endswith(":read"))
            if needed:
                found.setdefault(op.operation_id, {})[name] = needed
    return found


def known_scopes(spec: Spec) -> frozenset[str]:
    return frozenset(scope for scopes in required_scopes(spec).values() for scope in scopes)


def scope_refusal(settings: AccountSettings, required: Iterable[str], auth_kind: str) -> MockError | None:
    """The 403 for a credential lacking a scope the operation needs (None when it has them all)."""
    missing = settings.missing(required)
    if not missing:
        return None
    holder = "access token was not granted" if auth_kind == "oauth" else "API key does not have"
    return MockError(
        403,
        f"{_FORBIDDEN_TITLE} This {holder} the required scope{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.",
        code="permission_denied",
        title=_FORBIDDEN_TITLE,
    )


def feature_refusal(settings: AccountSettings | None, feature: str) -> MockError | None:
    """The 403 Klaviyo answers when the account does not have `feature` (None when it does)."""
    if settings is None or settings.enabled(feature):
        return None
    return MockError(403, FEATURES[feature], code="permission_denied", title=_FORBIDDEN_TITLE)


def settings_from_options(key_scopes: Iterable[str] = (), disabled_features: Iterable[str] = ()) -> dict[str, Any]:
    """`kdk mock --key-scopes KEY=SCOPES` and `--disable-feature KEY=FEATURE[,FEATURE]` as a seed's `settings`.
    KEY is a private key (`pk_...`) or a credential spelled as in seed files (`api_key:...`, `oauth:...`);
    SCOPES is `full`, `read-only` or a comma-separated list (`profiles:read,lists:write`). The scope names are
    checked against the spec when the settings are applied."""
    settings: dict[str, dict[str, Any]] = {}
    for option, values in (("--key-scopes", key_scopes), ("--disable-feature", disabled_features)):
        for value in values:
            key, sep, rest = value.rpartition("=")
            if not sep or not key.strip() or not rest.strip():
                example = "pk_abc=read-only" if option == "--key-scopes" else "pk_abc=sms"
                raise SettingsError(f"{option} {value[:80]!r}: expected KEY=VALUE, e.g. {option} {example}")
            key = key.strip()
            name = key if key.startswith(("api_key:", "oauth:", "acct_")) else f"api_key:{key}"
            entry = settings.setdefault(name, {})
            items = [item.strip() for item in rest.split(",") if item.strip()]
            if option == "--key-scopes":
                entry["scopes"] = items[0] if items in (["full"], ["read-only"]) else items
            else:
                for feature in items:
                    if feature not in FEATURES:
                        raise SettingsError(
                            f"{option} {value[:80]!r}: unknown feature {feature!r}: use {', '.join(FEATURES)}"
                        )
                    entry.setdefault("features", {})[feature] = False
    return settings
