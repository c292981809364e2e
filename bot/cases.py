"""Turn a shipper's exception event into a case and the customer's first message."""

from __future__ import annotations

import secrets
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime

from bot.engine import Engine, Turn
from bot.events import CLOSING_TYPES, ExceptionEvent
from bot.models import AWAITING_CUSTOMER, CLOSED_STATUSES, OPEN, RESOLVED, Case, Window
from bot.store import now_iso
from flows.calendar import business_windows
from flows.messages import language_of
from flows.registry import FLOW_FOR_EVENT, FLOWS


@dataclass(frozen=True)
class EventOutcome:
    case_id: str | None
    duplicate: bool


def new_case_id() -> str:
    return "cs_" + secrets.token_hex(8)


class CaseOpener:
    """Open or update a case for each event; start the flow that fits its type."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store
        self.settings = engine.settings

    def receive(self, webhook_id: str, event: ExceptionEvent, phone: str | None) -> EventOutcome:
        """Handle one verified event; a repeated ``webhook_id`` returns the same case."""
        with self.store.event_lock(webhook_id):
            known = self.store.case_for_event(webhook_id)
            if known is not None:
                return EventOutcome(known or None, duplicate=True)
            shipment = event.shipment
            open_id = self.store.open_case_for(shipment.carrier, shipment.tracking_number)
            case = self.store.get_case(open_id) if open_id else None
            if case is not None and case.status in CLOSED_STATUSES:
                case = None
            if event.type in CLOSING_TYPES:
                case_id = self._close(case, event, webhook_id)
            else:
                case_id = self._open(case, event, phone, webhook_id)
            self.store.remember_event(webhook_id, case_id or "")
            return EventOutcome(case_id, duplicate=False)

    def _case_from(self, existing: Case | None, event: ExceptionEvent,
                   phone: str | None) -> Case:
        shipment = event.shipment
        recipient = shipment.recipient
        now = now_iso()
        return Case(
            id=existing.id if existing else new_case_id(),
            type=event.type,
            status=OPEN,
            tracking_number=shipment.tracking_number,
            carrier=shipment.carrier,
            order_ref=shipment.order_ref,
            recipient_name=recipient.name,
            phone=phone,
            telegram_chat_id=recipient.telegram_chat_id,
            language=language_of(recipient.language),
            timezone=shipment.timezone or self.settings.default_timezone,
            reason=event.details.reason,
            details=event.details.model_dump(mode="json", exclude_none=True),
            shipment=shipment.model_dump(mode="json", exclude_none=True),
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )

    def offers(self, case: Case, now: datetime) -> list[Window]:
        """Windows to offer: the shipper's, else the calendar's with capacity left."""
        given = case.details.get("available_windows")
        if given:
            windows = [Window.from_dict(w) for w in given]
            return sorted((w for w in windows if w.start > now), key=lambda w: w.start)
        windows = business_windows(now, case.timezone, self.settings.holidays,
                                   self.settings.booking_days)
        cap = self.settings.window_capacity
        return [w for w in windows if self.store.window_load(w) < cap]

    def _open(self, existing: Case | None, event: ExceptionEvent, phone: str | None,
              webhook_id: str) -> str:
        case = self._case_from(existing, event, phone)
        timeline = [("event.received", {"type": event.type, "webhook_id": webhook_id,
                                        "occurred_at": event.occurred_at.isoformat()})]
        if existing is None:
            timeline.insert(0, ("case.opened", {"type": event.type}))
        if phone is None:
            # Telegram arrives in a later release: keep the case, say why nobody was told.
            timeline.append(("channel.unavailable", {"reason": "no phone number; Telegram "
                                                               "is not enabled"}))
            self.store.set_open_case(case.carrier, case.tracking_number, case.id)
            self.engine.commit(Turn(case=case, conv=None, timeline=timeline),
                               key_base=f"event:{webhook_id}", proactive=True)
            return case.id
        with self.store.conversation_lock("sms", phone):
            conv = self.store.get_conversation("sms", phone)
            conv.case_id, conv.language = case.id, case.language
            conv.flow = FLOW_FOR_EVENT[event.type]
            conv.reminded = False
            case = Case.from_dict({**case.to_dict(), "status": AWAITING_CUSTOMER})
            turn = Turn(case=case, conv=conv, timeline=timeline)
            ctx = self.engine.context(case, conv.language)
            flow = FLOWS[conv.flow]
            offers = self.offers(case, ctx.now) if conv.flow == "reschedule" else []
            self.engine.apply(turn, flow.start(ctx, offers), ctx)
            self.store.set_open_case(case.carrier, case.tracking_number, case.id)
            self.engine.commit(turn, key_base=f"event:{webhook_id}", proactive=True)
        return case.id

    def _close(self, case: Case | None, event: ExceptionEvent, webhook_id: str) -> str | None:
        """``delivery.delivered`` / ``delivery.returned``: close the open case, if any."""
        if case is None:
            return None
        outcome = event.type.removeprefix("delivery.")
        with self._maybe_lock(case.phone):
            conv = self.store.get_conversation("sms", case.phone) if case.phone else None
            turn = Turn(case=case, conv=conv)
            turn.timeline.append(("event.received", {"type": event.type,
                                                     "webhook_id": webhook_id}))
            self.engine.set_status(turn, RESOLVED, {"outcome": outcome})
            turn.callbacks.append(("case.resolved", {"resolution": outcome}))
            if conv is not None and conv.case_id == case.id:
                conv.flow, conv.state, conv.case_id = None, {}, None
            self.engine.commit(turn, key_base=f"event:{webhook_id}", proactive=True)
        return case.id

    def _maybe_lock(self, phone: str | None) -> AbstractContextManager[None]:
        return self.store.conversation_lock("sms", phone) if phone else nullcontext()
