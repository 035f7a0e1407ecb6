"""Delivering webhook events to subscribers, signed the way Klaviyo's system webhooks are.

Klaviyo's guide ("Working with system webhooks") sends `POST <endpoint_url>` with JSON
`{"data": [{"external_id", "payload", "topic"}], "meta": {"klaviyo_account_id", "klaviyo_webhook_id",
"timestamp"}}` and headers `Klaviyo-Webhook-Id`, `Klaviyo-Timestamp` and `Klaviyo-Signature`: the hex
HMAC-SHA256, keyed with the subscription's `secret_key`, of the raw body followed by the timestamp.
Failures (connection errors, non-2xx) are retried a bounded number of times with a short backoff.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx costs ~0.3 s to import: only when a webhook is actually delivered
    import httpx

__all__ = ["WebhookSender", "sign"]

DELIVERY_LOG_LIMIT = 500


def _default_client() -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(timeout=5.0)


def sign(secret: str, body: bytes, timestamp: str) -> str:
    return hmac.new(secret.encode("utf-8"), body + timestamp.encode("utf-8"), hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(
        self,
        *,
        attempts: int = 3,
        backoff: float = 0.2,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
    ) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self._client_factory = client_factory or _default_client
        self.deliveries: list[dict[str, Any]] = []  # one entry per attempt, newest last
        self._tasks: set[asyncio.Task[bool]] = set()

    def send(self, account: str, webhook: dict[str, Any], topic: str, payload: dict[str, Any]) -> None:
        """Deliver in the background (the request that caused the event does not wait)."""
        task = asyncio.get_running_loop().create_task(self.deliver(account, webhook, topic, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every delivery in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def deliver(self, account: str, webhook: dict[str, Any], topic: str, payload: dict[str, Any]) -> bool:
        attributes = webhook.get("attributes") or {}
        url = str(attributes.get("endpoint_url") or "")
        timestamp = dt.datetime.now(dt.UTC).isoformat()
        document = {
            "data": [{"external_id": str(uuid.uuid4()), "payload": payload, "topic": topic}],
            "meta": {"klaviyo_account_id": account, "klaviyo_webhook_id": webhook["id"], "timestamp": timestamp},
        }
        body = json.dumps(document).encode("utf-8")
        headers = {
            "content-type": "application/json",
            "klaviyo-webhook-id": webhook["id"],
            "klaviyo-timestamp": timestamp,
            "klaviyo-signature": sign(str(attributes.get("secret_key") or ""), body, timestamp),
        }
        async with self._client_factory() as client:
            for attempt in range(1, self.attempts + 1):
                outcome: dict[str, Any] = {"account": account, "webhook_id": webhook["id"], "url": url}
                outcome |= {"topic": topic, "attempt": attempt, "body": document}
                try:
                    response = await client.post(url, content=body, headers=headers)
                    outcome["status"] = response.status_code
                    ok = 200 <= response.status_code < 300
                except Exception as exc:  # httpx.HTTPError and kin: any failure is a failed attempt
                    outcome["error"] = f"{type(exc).__name__}: {exc}"
                    ok = False
                outcome["delivered"] = ok
                self.deliveries.append(outcome)
                del self.deliveries[:-DELIVERY_LOG_LIMIT]
                if ok:
                    return True
                if attempt < self.attempts:
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        return False
