"""The durable queue, on Dramatiq's Redis broker.

The actors: ``send_message`` (customer messages; ``send_message_next`` and
``send_parked`` keep one customer's messages in turn order), ``deliver_callback`` (shipper
callbacks), ``check_idle`` (reminders and expiry), ``check_overdue`` (escalations nobody
claimed in time) and ``handle_inbound`` (customer messages a webhook must acknowledge at
once: Telegram updates, MMS with photos). The broker is built in :mod:`bot.broker`.
Every send carries an idempotency key: once a provider acknowledged a message, a rerun
of the job does not send it again. What finally fails goes to the customer's other
channel, or to staff (:mod:`bot.failover`), and to the dead-letter list.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from bot.callback_jobs import CallbackJob, deliver_callback
from bot.callbacks import ShipperCallbacks
from bot.errors import PermanentSendError, RecipientOptedOut, SendDeferred, TransientSendError
from bot.metrics import count_send
from bot.models import ESCALATED, Inbound, Outbound
from bot.phones import mask_phone
from bot.ports import Sender
from bot.quiet_hours import next_send_time
from bot.settings import Settings
from bot.store import Store, now_iso

log = logging.getLogger("doorstep.queue")
OUTBOUND_QUEUE = "outbound"
CALLBACK_QUEUE = "callbacks"
IDLE_QUEUE = "idle"
# Send jobs released by the job before them (see ``_finish``): a short queue of its own,
# so they need not wait behind a backlog once more.
NEXT_QUEUE = "outbound_next"
# How long a send job waits for an unfinished earlier one to the same customer.
ORDER_PATIENCE_S = 300.0
INBOUND_QUEUE = "inbound"


def _retries() -> int:
    message = CurrentMessage.get_current_message()
    return int(message.options.get("retries", 0)) if message else 0


class OutboundQueue:
    """Enqueue messages, callbacks and idle checks; run them in workers."""

    def __init__(self, broker: RedisBroker, store: Store, settings: Settings,
                 senders: dict[str, Sender], callbacks: ShipperCallbacks | None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.broker = broker
        self.store = store
        self.settings = settings
        self.senders = senders
        self.callbacks = callbacks
        self.clock = clock or (lambda: datetime.now(UTC))
        self.idle_handler: Callable[[str, str, str, int, str], str] | None = None
        self.inbound_handler: Callable[[Inbound], bool] | None = None
        self.overdue_handler: Callable[[str, str], str] | None = None
        # What to do about a message that finally failed: fail over or escalate.
        self.undeliverable_handler: Callable[[Outbound, str | None, str, bool], str] | None \
            = None
        self._send = dramatiq.actor(self._send_job, broker=broker, actor_name="send_message",
                                    queue_name=OUTBOUND_QUEUE)
        self._send_next = dramatiq.actor(self._send_job, broker=broker,
                                         actor_name="send_message_next",
                                         queue_name=NEXT_QUEUE)
        self._parked = dramatiq.actor(self._parked_job, broker=broker,
                                      actor_name="send_parked", queue_name=NEXT_QUEUE)
        self._callback = dramatiq.actor(self._callback_job, broker=broker,
                                        actor_name="deliver_callback",
                                        queue_name=CALLBACK_QUEUE, max_retries=None,
                                        retry_when=lambda n, exc: True)
        self._idle = dramatiq.actor(self._idle_job, broker=broker, actor_name="check_idle",
                                    queue_name=IDLE_QUEUE)
        self._overdue = dramatiq.actor(self._overdue_job, broker=broker,
                                       actor_name="check_overdue", queue_name=IDLE_QUEUE)
        self._inbound = dramatiq.actor(self._inbound_job, broker=broker,
                                       actor_name="handle_inbound", queue_name=INBOUND_QUEUE)

    # -- inbound -------------------------------------------------------------
    def receive(self, inbound: Inbound) -> None:
        """Queue a customer's message for a worker; the webhook can answer at once."""
        key = f"{inbound.channel}:{inbound.message_id}"
        self.store.stash_inbound(key, json.dumps(inbound.to_dict()))
        self._inbound.send(key)

    def _inbound_job(self, key: str) -> None:
        raw = self.store.stashed_inbound(key)
        if raw is None:
            return  # handled already (a redelivered job) or long expired
        inbound = Inbound.from_dict(json.loads(raw))
        if self.inbound_handler is None:
            raise RuntimeError("no inbound handler bound")
        sender = self.senders.get(inbound.channel)
        if inbound.ack_id and _retries() == 0 and hasattr(sender, "acknowledge"):
            sender.acknowledge(inbound.ack_id)
        self.inbound_handler(inbound)
        self.store.drop_inbound(key)

    # -- Dispatcher ----------------------------------------------------------
    def send(self, outbounds: list[Outbound]) -> float | None:
        """Queue one turn's messages as one job, so they arrive in the order written.

        Returns the POSIX time the job waits for (quiet hours), or None if it runs now.
        """
        delay_ms = self._quiet_delay_ms(outbounds[0])
        if delay_ms:
            count_send(outbounds[0].channel, "deferred", len(outbounds))
        pipe = self.store.pipeline()
        if not delay_ms:  # what waits for the morning holds nothing up behind it
            self.store.number_send(outbounds[0].channel, outbounds[0].to, pipe)
        for outbound in outbounds:
            self.store.update_outbound(outbound.key, pipe,
                                       status="deferred" if delay_ms else "queued",
                                       channel=outbound.channel,
                                       case_id=outbound.case_id or "", queued_at=now_iso(),
                                       payload=json.dumps(outbound.to_dict()))
        results = pipe.execute()
        number = None if delay_ms else int(results[0])
        # Jobs carry keys only: queue logs and tracebacks never hold numbers or bodies.
        self._send.send_with_options(args=([o.key for o in outbounds], number),
                                     delay=delay_ms or None)
        return self.clock().timestamp() + delay_ms / 1000 if delay_ms else None

    def callback(self, key: str, case_id: str, type: str, data: dict[str, Any]) -> None:
        # The job carries keys; the payload (addresses, notes) waits beside the case, where
        # erasing the case's data reaches it.
        self.store.stash_callback(case_id, key, {"type": type, "data": data,
                                                 "timestamp": self.clock().isoformat()})
        self._callback.send(key, case_id)

    def check_idle(self, channel: str, address: str, case_id: str, turns: int, stage: str,
                   delay_s: float) -> None:
        # The address is looked up again from the case: no phone number in the job.
        self._idle.send_with_options(args=(channel, case_id, turns, stage),
                                     delay=int(delay_s * 1000))

    def check_overdue(self, case_id: str, since: str, delay_s: float) -> None:
        self._overdue.send_with_options(args=(case_id, since), delay=int(delay_s * 1000))

    # -- jobs ----------------------------------------------------------------
    def _overdue_job(self, case_id: str, since: str) -> None:
        if self.overdue_handler is None:
            raise RuntimeError("no overdue handler bound")
        log.info("overdue check for case %s: %s", case_id, self.overdue_handler(case_id, since))

    def _quiet_delay_ms(self, outbound: Outbound) -> int:
        if not outbound.proactive:
            return 0
        now = self.clock()
        tz = outbound.timezone or self.settings.default_timezone
        when = next_send_time(now, tz, self.settings.quiet_hours)
        return max(int((when - now).total_seconds() * 1000), 0)

    def _stored(self, keys: list[str]) -> list[Outbound]:
        outbounds = []
        for key, record in zip(keys, self.store.outbound_records(keys), strict=True):
            if "payload" not in record:
                log.error("outbound %s has no stored message; skipped", key)
                continue
            outbounds.append(Outbound.from_dict(json.loads(record["payload"])))
        return outbounds

    def _send_job(self, keys: list[str], number: int | None = None,
                  released: bool = False) -> None:
        """Send one turn's messages. ``number``: the job's place among the send jobs to
        this destination (None: a resend, which goes at once); ``released``: the job that
        finished the one before it queued this one, so it goes now."""
        outbounds = self._stored(keys)
        if not outbounds:
            return
        first = outbounds[0]
        delay_ms = self._quiet_delay_ms(first)
        if delay_ms:  # a retry or a redelivery landed in quiet hours: wait again, and
            # let the jobs queued after it go meanwhile (a reply is never held)
            self._send.send_with_options(args=(keys,), delay=delay_ms)
            self._finish(first, number)
            return
        if number is not None and not released and self.store.park_send(
                first.channel, first.to, number, json.dumps([keys, number])):
            # An earlier job to this customer is unfinished (two workers took two turns'
            # replies at once): whoever finishes it queues this one. Should that never
            # happen (it was lost), this one goes anyway after ORDER_PATIENCE_S.
            self._parked.send_with_options(args=(keys, number),
                                           delay=int(ORDER_PATIENCE_S * 1000))
            return
        for i, outbound in enumerate(outbounds):
            try:
                self._send_one(outbound)
            except SendDeferred as exc:
                # The sender's pacing budget is spent: this message and the ones after it
                # come back together (order kept), without using up a retry.
                wait_ms = int(exc.wait_s * 1000) + random.randint(0, 250)
                count_send(outbound.channel, "deferred", len(outbounds) - i)
                self._send.send_with_options(
                    args=([o.key for o in outbounds[i:]], number, released), delay=wait_ms)
                return
        self._finish(first, number)

    def _finish(self, first: Outbound, number: int | None) -> None:
        """Job ``number`` to this destination is done: queue the next one if it parked."""
        if number is None:
            return
        parked = self.store.finish_send(first.channel, first.to, number)
        if parked is not None:  # queued before it is unparked: a crash between the two
            keys, next_number = json.loads(parked)  # leaves it to ``_parked_job``
            self._send_next.send(keys, next_number, True)
            self.store.unpark_send(first.channel, first.to, next_number)

    def _parked_job(self, keys: list[str], number: int) -> None:
        """A parked job still waiting after ORDER_PATIENCE_S: the one before it is lost or
        stuck, so this one goes now (out of order, but not never)."""
        outbounds = self._stored(keys)
        if not outbounds:
            return
        if self.store.unpark_send(outbounds[0].channel, outbounds[0].to, number):
            log.warning("send job %s to %s waited %.0f s for an earlier one; sent out of "
                        "order", number, mask_phone(outbounds[0].to), ORDER_PATIENCE_S)
            self._send_next.send(keys, number, True)

    def resend(self, keys: list[str], delay_s: float = 0) -> None:
        """Queue stored messages (by key) again: a redelivery or a dead letter's retry."""
        self._send.send_with_options(args=(keys,), delay=int(delay_s * 1000) or None)

    def _send_one(self, outbound: Outbound) -> None:
        record = self.store.outbound_record(outbound.key)
        if record.get("provider_id") or record.get("status") in ("failed", "suppressed"):
            return  # done before (this job is a retry or a redelivery): never send twice
        if self.store.is_opted_out(outbound.channel, outbound.to):
            # Opted out here (STOP, or the bot blocked): the customer's other channel if
            # they have one, else nothing. Not a failure: nobody needs to be told.
            if self.undeliverable_handler is not None and self.undeliverable_handler(
                    outbound, "opted_out", "opted out on this channel", False) == "failed_over":
                self.store.update_outbound(outbound.key, status="failed_over")
                count_send(outbound.channel, "failed_over")
                return
            self._suppress(outbound, "opted_out")
            return
        if outbound.proactive and outbound.author == "bot" and outbound.case_id \
                and not record.get("retried_by"):
            case = self.store.get_case(outbound.case_id)
            if case is not None and case.status == ESCALATED:
                # Queued before a person took over (a deferred first text, say): the
                # bot sends nothing of its own while staff handle the case.
                self._suppress(outbound, "escalated")
                return
        sender = self.senders[outbound.channel]
        try:
            provider_id = sender.send(outbound)
        except PermanentSendError as exc:
            if isinstance(exc, RecipientOptedOut):
                self.store.set_opted_out(outbound.channel, outbound.to, True)
            self.undeliverable(outbound, exc.code, str(exc))
            return
        except TransientSendError as exc:
            if _retries() >= self.settings.outbound_max_retries:
                self.undeliverable(outbound, exc.code, f"{exc} (gave up after retries)")
                return
            count_send(outbound.channel, "retried")
            log.warning("send to %s failed (%s), will retry", mask_phone(outbound.to), exc.code)
            if exc.retry_after_s:
                raise dramatiq.Retry(delay=int(exc.retry_after_s * 1000)) from exc
            raise
        pipe = self.store.pipeline()
        self.store.update_outbound(outbound.key, pipe, status="sent", provider_id=provider_id,
                                   sent_at=now_iso(), error_code="")
        self.store.link_provider_id(provider_id, outbound.key, pipe)
        if outbound.case_id:
            self.store.append_timeline(outbound.case_id, "message.sent", pipe, key=outbound.key,
                                       provider_id=provider_id, channel=outbound.channel)
            self.store.publish_case(outbound.case_id, pipe=pipe)
        pipe.execute()
        count_send(outbound.channel, "sent")
        log.info("sent %s to %s via %s", outbound.key, mask_phone(outbound.to), outbound.channel)

    def _suppress(self, outbound: Outbound, reason: str) -> None:
        self.store.update_outbound(outbound.key, status="suppressed")
        count_send(outbound.channel, "suppressed")
        self._timeline(outbound.case_id, "message.suppressed", key=outbound.key, reason=reason,
                       channel=outbound.channel)

    def undeliverable(self, outbound: Outbound, code: str | None, reason: str) -> None:
        """A message failed for good: record it, then fail over or escalate; what neither
        fixes goes to the dead-letter list for staff."""
        self.store.update_outbound(outbound.key, status="failed", error_code=code or "")
        count_send(outbound.channel, "failed")
        self._timeline(outbound.case_id, "message.failed", key=outbound.key,
                       error_code=code, reason=reason, channel=outbound.channel)
        outcome = "no handler"
        if self.undeliverable_handler is not None:
            outcome = self.undeliverable_handler(outbound, code, reason, True)
        if outcome != "failed_over":
            self.store.add_dead_letter({
                "id": f"message:{outbound.key}", "kind": "message", "key": outbound.key,
                "case_id": outbound.case_id, "channel": outbound.channel,
                "to": mask_phone(outbound.to), "error_code": code, "reason": reason,
                "outcome": outcome})
        log.error("message %s to %s via %s failed for good (%s): %s", outbound.key,
                  mask_phone(outbound.to), outbound.channel, code, outcome)

    def recallback(self, key: str, case_id: str, type_: str, data: dict[str, Any],
                   timestamp: str) -> None:
        """Queue a stored callback again (a dead letter's retry); same ``webhook-id``."""
        self.store.clear_callback_outcome(key)
        self.store.stash_callback(case_id, key, {"type": type_, "data": data,
                                                 "timestamp": timestamp})
        self._callback.send(key, case_id)

    def _callback_job(self, key: str, case_id: str, *queued: Any) -> None:
        # ``queued``: (type, data, timestamp) in jobs queued before payloads were stashed.
        stashed = self.store.stashed_callback(case_id, key)
        if stashed is None and not queued:
            log.warning("callback %s for %s has no payload (erased); dropped", key, case_id)
            return
        type_, data, timestamp = (stashed["type"], stashed["data"], stashed["timestamp"]) \
            if stashed is not None else queued
        delay_s = deliver_callback(self.store, self.callbacks,
                                   self.settings.callback_retry_schedule_s, _retries(),
                                   CallbackJob(key, case_id, type_, data, timestamp))
        if delay_s is not None:
            raise dramatiq.Retry(delay=int(delay_s * 1000))

    def _idle_job(self, channel: str, case_id: str, turns: int, stage: str) -> None:
        if self.idle_handler is None:
            raise RuntimeError("no idle handler bound")
        case = self.store.get_case(case_id)
        address = None
        if case is not None:
            address = case.phone if channel == "sms" else \
                str(case.telegram_chat_id) if case.telegram_chat_id is not None else None
        if address is None:
            return
        outcome = self.idle_handler(channel, address, case_id, turns, stage)
        log.info("idle check %s for case %s: %s", stage, case_id, outcome)

    def _timeline(self, case_id: str | None, kind: str, **data: Any) -> None:
        self.store.record_event(case_id, kind, **data)
