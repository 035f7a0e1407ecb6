"""Masking: consistent fakes within a recording, different ones across recordings, never masked twice."""

from __future__ import annotations

import json

from mock_server._mask import Masker

BODY = json.dumps(
    {
        "data": {
            "attributes": {
                "email": "Sarah.Mason@klaviyo-demo.com",
                "phone_number": "+15005550006",
                "properties": {"note": "call (415) 555-0123 or mail sarah.mason@klaviyo-demo.com"},
                "access_token": "s3cr3t-value",
                "created": "2026-07-15T10:00:00+00:00",
                "id": "01GDDKASAP8TKDDA2GRZDSVP4H",
            }
        }
    }
)


def test_text_masking_is_consistent_and_keeps_the_rest() -> None:
    masker = Masker(b"salt-one")
    masked = masker.text(BODY)
    for secret in ("Sarah.Mason", "klaviyo-demo", "+15005550006", "(415) 555-0123", "s3cr3t-value"):
        assert secret not in masked
    attributes = json.loads(masked)["data"]["attributes"]
    assert attributes["email"].endswith("@example.com")
    assert attributes["created"] == "2026-07-15T10:00:00+00:00" and attributes["id"] == "01GDDKASAP8TKDDA2GRZDSVP4H"
    assert masker.email("sarah.mason@klaviyo-demo.com") == attributes["email"]  # case-insensitive, same fake
    assert masker.text(masked) == masked  # fakes are never masked again
    assert Masker(b"salt-two").text(BODY) != masked


def test_credentials_keep_their_scheme() -> None:
    masker = Masker(b"s")
    key = masker.header("Authorization", "Klaviyo-API-Key pk_abcdef123456")
    assert key.startswith("Klaviyo-API-Key pk_kdkfake") and key == masker.header("authorization", key)
    assert masker.header("Authorization", "Bearer eyJhbGciOi.x.y").startswith("Bearer kdkfake-")
    assert masker.header("X-Session-Token", "abc") != "abc"
    assert masker.header("revision", "2026-07-15") == "2026-07-15"
    assert masker.pairs([("api_key", "pk_abcdef123456"), ("page[size]", "5")])[1] == ("page[size]", "5")
