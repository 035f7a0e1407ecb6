"""Delivering webhook events to subscribers, signed the way Klaviyo's system webhooks are.

Klaviyo's guide ("Working with system webhooks") sends `POST <endpoint_url>` with JSON
`{"data": [{"external_id", "payload", "topic"}], "meta": {"klaviyo_account_id", "klaviyo_webhook_id",
"timestamp"}}` and headers `Klaviyo-Webhook-Id`, `Klaviyo-Timestamp` and `Klaviyo-Signature`: the hex
HMAC-SHA256, keyed with the subscription's `secret_key`, of the raw body followed by the timestamp.
Failures (connection errors, non-2xx) are retried a bounded number of times with a short backoff.
`klaviyo_account_id` is the account's opaque id, never its credential. Every attempt is logged for
`GET /__mock__/webhook-deliveries`, the newest `log_limit` per account.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import itertools
import json
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx costs ~0.3 s to import: only when a webhook is actually delivered
    import httpx

__all__ = ["WebhookSender", "sign"]

DELIVERY_LOG_LIMIT = 500  # attempts kept per account
MAX_IN_FLIGHT = 256  # deliveries running at once (each may wait up to attempts x 5 s on a silent endpoint)
_SEQ = itertools.count()  # orders attempts across accounts


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
        log_limit: int = DELIVERY_LOG_LIMIT,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.attempts = attempts
        self.max_in_flight = max_in_flight
        self.backoff = backoff
        self.log_limit = log_limit
        self._client_factory = client_factory or _default_client
        self._log: dict[str, deque[dict[str, Any]]] = {}  # account -> one entry per attempt, newest last
        self._tasks: set[asyncio.Task[bool]] = set()

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every account's logged attempts, oldest first."""
        return self.log(None)

    def log(self, account: str | None) -> list[dict[str, Any]]:
        """One account's logged attempts (None: every account's), oldest first."""
        if account is not None:
            return list(self._log.get(account, ()))
        return sorted((d for log in self._log.values() for d in log), key=lambda d: d["seq"])

    def forget(self, account: str | None) -> None:
        """Drop one account's delivery log (None: every account's)."""
        if account is None:
            self._log.clear()
        else:
            self._log.pop(account, None)

    def send(self, account: str, webhook: dict[str, Any], topic: str, payload: dict[str, Any]) -> None:
        """Deliver in the background (the request that caused the event does not wait). At most `max_in_flight`
        deliveries run at once (endpoints that never answer cannot pile up tasks); beyond that one is logged as
        dropped, not sent."""
        if len(self._tasks) >= self.max_in_flight:
            outcome = {"seq": next(_SEQ), "account": account, "webhook_id": webhook.get("id"), "topic": topic}
            outcome |= {"attempt": 0, "delivered": False, "error": f"dropped: {len(self._tasks)} deliveries in flight"}
            self._log.setdefault(account, deque(maxlen=self.log_limit)).append(outcome)
            return
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
                outcome: dict[str, Any] = {"seq": next(_SEQ), "account": account, "webhook_id": webhook["id"]}
                outcome["url"] = url
                outcome |= {"topic": topic, "attempt": attempt, "body": document}
                try:
                    response = await client.post(url, content=body, headers=headers)
                    outcome["status"] = response.status_code
                    ok = 200 <= response.status_code < 300
                except Exception as exc:  # httpx.HTTPError and kin: any failure is a failed attempt
                    outcome["error"] = f"{type(exc).__name__}: {exc}"
                    ok = False
                outcome["delivered"] = ok
                self._log.setdefault(account, deque(maxlen=self.log_limit)).append(outcome)
                if ok:
                    return True
                if attempt < self.attempts:
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        return False
