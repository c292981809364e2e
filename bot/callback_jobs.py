"""One attempt at a shipper callback, and what follows: done, held, retried or dead.

A 2xx completes it. A 410 Gone switches callbacks off (the shipper retired the
endpoint) until a supervisor switches them back on; callbacks meanwhile are held in the
dead-letter list, not lost. Anything else is retried on the schedule (Standard Webhooks'
by default), never sooner than the shipper's ``Retry-After``, then dead-lettered.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.callbacks import ShipperCallbacks
from bot.metrics import count_callback
from bot.store import Store

log = logging.getLogger("doorstep.callbacks")


@dataclass(frozen=True)
class CallbackJob:
    """A queued callback: ``key`` is its ``webhook-id``, the same on every attempt."""

    key: str
    case_id: str
    type: str
    data: dict[str, Any]
    timestamp: str

    def dead_letter(self, reason: str, **extra: Any) -> dict[str, Any]:
        return {"id": f"callback:{self.key}", "kind": "callback", "key": self.key,
                "case_id": self.case_id, "type": self.type, "data": self.data,
                "timestamp": self.timestamp, "reason": reason, **extra}


def deliver_callback(store: Store, callbacks: ShipperCallbacks | None,
                     schedule: tuple[int, ...], attempt: int, job: CallbackJob) -> float | None:
    """Make attempt number ``attempt`` (0 first); return the delay before the next one,
    or None when the callback is settled (delivered, skipped, held or dead)."""
    if store.callback_outcome(job.key) is not None:
        return None
    if callbacks is None:
        store.record_event(job.case_id, "callback.skipped", type=job.type,
                           reason="SHIPPER_WEBHOOK_URL is not set")
        store.set_callback_outcome(job.key, "skipped", job.case_id)
        count_callback("skipped")
        return None
    disabled = store.callbacks_disabled()
    if disabled:
        # Held, not lost: a supervisor switches callbacks back on and these go then.
        store.add_dead_letter(job.dead_letter(
            f"callbacks disabled: the shipper endpoint answered {disabled.get('status')} Gone"))
        store.record_event(job.case_id, "callback.held", type=job.type)
        count_callback("held")
        return None
    result = callbacks.post(job.key, job.type, datetime.fromisoformat(job.timestamp), job.data)
    if result.delivered:
        store.set_callback_outcome(job.key, str(result.status), job.case_id)
        store.record_event(job.case_id, "callback.delivered", type=job.type,
                           status=result.status)
        count_callback("delivered")
        return None
    if result.gone:
        store.set_callback_outcome(job.key, str(result.status), job.case_id)
        store.add_dead_letter(job.dead_letter("the shipper endpoint answered 410 Gone",
                                              status=410))
        store.record_event(job.case_id, "callback.gone", type=job.type, status=result.status)
        count_callback("gone")
        if store.disable_callbacks({"status": 410, "type": job.type, "case_id": job.case_id}):
            log.error("the shipper endpoint answered 410 Gone: callbacks are disabled until "
                      "a supervisor switches them back on (console, Dead letters)")
        return None
    if attempt >= len(schedule):
        store.add_dead_letter(job.dead_letter(
            f"no 2xx after {attempt + 1} attempts (last: {result.status or result.error})",
            status=result.status))
        store.record_event(job.case_id, "callback.failed", type=job.type,
                           status=result.status)
        log.error("callback %s %s gave up after %d attempts", job.type, job.case_id,
                  attempt + 1)
        count_callback("failed")
        return None
    # The schedule's delay, stretched by up to 10 % so retries after an outage spread out;
    # never sooner than the shipper's Retry-After.
    delay_s = max(schedule[attempt] * random.uniform(1.0, 1.1), result.retry_after_s or 0)
    count_callback("retried")
    log.warning("callback %s for %s got %s; retry in %.0fs", job.type, job.case_id,
                result.status or result.error, delay_s)
    return delay_s
