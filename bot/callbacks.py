"""Signed callbacks to the shipper, the Standard Webhooks way."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from standardwebhooks import Webhook

TIMEOUT_S = 10


@dataclass(frozen=True)
class CallbackResult:
    status: int | None  # None: no HTTP answer (network error)
    retry_after_s: float | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the shipper wants no more of these; stop retrying."""
        return self.status == 410


def callback_body(type_: str, timestamp: datetime, data: dict[str, Any]) -> str:
    return json.dumps({"type": type_, "timestamp": timestamp.isoformat(), "data": data},
                      separators=(",", ":"))


class ShipperCallbacks:
    """POST signed callbacks to ``SHIPPER_WEBHOOK_URL``."""

    def __init__(self, url: str, secret: str, session: requests.Session | None = None) -> None:
        self.url = url
        self.webhook = Webhook(secret)
        self.session = session or requests.Session()

    def post(self, msg_id: str, type_: str, timestamp: datetime,
             data: dict[str, Any]) -> CallbackResult:
        """Deliver one callback.

        ``msg_id`` (``webhook-id``) and the body stay the same across retries, so the
        shipper can deduplicate; the signed ``webhook-timestamp`` is the attempt's time,
        as receivers reject stale ones.
        """
        body = callback_body(type_, timestamp, data)
        sent_at = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": "Doorstep-Webhooks/1",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": self.webhook.sign(msg_id, sent_at, body),
        }
        try:
            resp = self.session.post(self.url, data=body.encode(), headers=headers,
                                     timeout=TIMEOUT_S, allow_redirects=False)
        except requests.RequestException as exc:
            return CallbackResult(None, error=type(exc).__name__)
        return CallbackResult(resp.status_code, _retry_after(resp.headers.get("Retry-After")))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max((when - datetime.now(UTC)).total_seconds(), 0.0)
