"""The dead-letter list staff work from: what finally failed, and sending it again.

A message lands here when it failed for good and neither a failover nor an escalation
delivered it; a callback when its retries ran out or the shipper's endpoint answered
410 Gone (which switches callbacks off until a supervisor switches them back on).
"""

from __future__ import annotations

import json
from typing import Any

from bot.errors import Conflict, NotFound
from bot.queue import OutboundQueue
from bot.store import Store


class DeadLetters:
    """List, retry and discard dead letters; switch shipper callbacks back on."""

    def __init__(self, store: Store, queue: OutboundQueue) -> None:
        self.store = store
        self.queue = queue

    def list(self, limit: int = 500) -> list[dict[str, Any]]:
        """Dead letters, most recent first, without callback payloads."""
        return [{k: v for k, v in entry.items() if k not in ("data", "timestamp")}
                for entry in self.store.dead_letters(limit)]

    def callbacks(self) -> dict[str, Any]:
        disabled = self.store.callbacks_disabled()
        return {"enabled": disabled is None, "disabled": disabled,
                "configured": self.queue.callbacks is not None}

    def retry(self, item_id: str, by: str) -> dict[str, Any]:
        """Queue a dead letter again; it leaves the list (and comes back if it fails)."""
        entry = self.store.dead_letter(item_id)
        if entry is None:
            raise NotFound(f"no dead letter {item_id}")
        if entry["kind"] == "callback":
            if self.store.callbacks_disabled():
                raise Conflict("shipper callbacks are disabled (the endpoint answered 410 "
                               "Gone); a supervisor must enable them first")
            self.queue.recallback(entry["key"], entry["case_id"], entry["type"],
                                  entry["data"], entry["timestamp"])
        else:
            record = self.store.outbound_record(entry["key"])
            if "payload" not in record:
                raise NotFound("the message itself has expired; it can no longer be sent")
            if self.store.is_opted_out(record.get("channel", ""), _to(record)):
                raise Conflict("the customer has opted out on this channel; it would not "
                               "be sent")
            # Staff chose to send it: it goes even while staff hold the case.
            self.store.update_outbound(entry["key"], status="queued", provider_id="",
                                       error_code="", retried_by=by)
            self.queue.resend([entry["key"]])
        self.store.remove_dead_letters([item_id])
        self._timeline(entry, "deadletter.retried", by)
        return {"id": item_id, "status": "queued"}

    def discard(self, item_id: str, by: str) -> dict[str, Any]:
        entry = self.store.dead_letter(item_id)
        if entry is None:
            raise NotFound(f"no dead letter {item_id}")
        self.store.remove_dead_letters([item_id])
        self._timeline(entry, "deadletter.discarded", by)
        return {"id": item_id, "status": "discarded"}

    def enable_callbacks(self, by: str) -> dict[str, Any]:
        """Switch callbacks back on and send every callback held or dropped meanwhile."""
        self.store.enable_callbacks()
        retried = [e["id"] for e in self.store.dead_letters(limit=10_000)
                   if e["kind"] == "callback"]
        for item_id in retried:
            self.retry(item_id, by)
        return {**self.callbacks(), "retried": len(retried)}

    def _timeline(self, entry: dict[str, Any], kind: str, by: str) -> None:
        self.store.record_event(entry.get("case_id"), kind, id=entry["id"], by=by)


def _to(record: dict[str, str]) -> str:
    return str(json.loads(record["payload"]).get("to", ""))
