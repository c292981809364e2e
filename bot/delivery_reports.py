"""Providers' late reports on messages already sent (Twilio's status callbacks).

A report is recorded on the message and its case. One that says a message did not
arrive is acted on: a passing failure (the handset was off) sends it again later, a lasting
one (or an opt-out at the carrier) fails over to the other channel or goes to staff,
through :meth:`bot.queue.OutboundQueue.undeliverable`. Reports about an attempt that has
since been replaced are kept in the timeline only.
"""

from __future__ import annotations

import json
import logging
import random
from typing import TYPE_CHECKING

from bot.metrics import count_send
from bot.models import Outbound

if TYPE_CHECKING:
    from bot.queue import OutboundQueue

log = logging.getLogger("doorstep.queue")
# A message the provider accepted but could not deliver for a passing reason (the handset
# was off) is sent again after these delays (each stretched by up to 20 % jitter).
REDELIVERY_DELAYS_S = (5 * 60, 30 * 60, 2 * 3600)


def record_status(queue: OutboundQueue, provider_id: str, status: str, code: str,
                  undelivered: str | None) -> str:
    """Record a provider's delivery status for a message we sent; act on a failure.

    ``undelivered`` is the channel's reading of a failure (see
    :func:`_act_on_failure`) or None. A report about an earlier attempt (the
    message was sent again since) goes to the timeline only. Returns what was done.
    """
    key = queue.store.key_for_provider_id(provider_id)
    if key is None:
        return "unknown"  # not one of ours (or long forgotten): nothing to record
    record = queue.store.outbound_record(key)
    current = record.get("provider_id") == provider_id
    pipe = queue.store.pipeline()
    if current:
        queue.store.update_outbound(key, pipe, status=status, error_code=code)
    if record.get("case_id"):
        queue.store.append_timeline(record["case_id"], "message.status", pipe, key=key,
                                    status=status, error_code=code or None)
        queue.store.publish_case(record["case_id"], pipe=pipe)
    pipe.execute()
    if undelivered is None or not current:
        return "recorded" if current else "stale"
    outcome = _act_on_failure(queue, key, provider_id, undelivered, code)
    log.info("message %s undelivered (%s): %s", key, code, outcome)
    return outcome


def _act_on_failure(queue: OutboundQueue, key: str, provider_id: str, kind: str,
                    code: str) -> str:
    """Act on a provider's late report that a sent message did not arrive.

    ``kind`` is ``transient`` (try again later: the handset was off),
    ``permanent`` or ``opted_out`` (fail over or escalate). Reports about an
    earlier attempt than the latest are ignored. Returns what was done.
    """
    record = queue.store.outbound_record(key)
    if "payload" not in record or record.get("provider_id") != provider_id:
        return "stale"
    outbound = Outbound.from_dict(json.loads(record["payload"]))
    if kind == "transient":
        redeliveries = int(record.get("redeliveries") or 0)
        if redeliveries < len(REDELIVERY_DELAYS_S):
            delay = REDELIVERY_DELAYS_S[redeliveries] * random.uniform(1.0, 1.2)
            queue.store.update_outbound(key, status="retrying", provider_id="",
                                        redeliveries=str(redeliveries + 1), error_code=code)
            queue.store.record_event(outbound.case_id, "message.redelivery", key=key,
                                     error_code=code, delay_s=round(delay))
            queue.resend([key], delay)
            count_send(outbound.channel, "redelivery")
            return "redelivery"
        reason = f"undelivered ({code}) after {redeliveries} redeliveries"
    else:
        reason = f"undelivered ({code})"
    if kind == "opted_out":
        queue.store.set_opted_out(outbound.channel, outbound.to, True)
    queue.undeliverable(outbound, code, reason)
    return "undeliverable"
