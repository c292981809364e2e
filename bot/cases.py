"""Turn a shipper's exception event into a case and the customer's first message."""

from __future__ import annotations

import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

from bot.engine import Engine, Turn
from bot.events import CLOSING_TYPES, ExceptionEvent
from bot.insights_facts import case_dimensions
from bot.links import deep_link, link_key, tracking_url
from bot.models import AWAITING_CUSTOMER, CLOSED_STATUSES, ESCALATED, OPEN, RESOLVED, Case, Reply
from bot.store import now_iso
from flows import tracking_texts  # noqa: F401  (registers the tracking texts)
from flows.messages import language_of, parcel_ref, say
from flows.registry import flow_for_case


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
            telegram_chat_id=recipient.telegram_chat_id if recipient.telegram_chat_id is not None
            else existing.telegram_chat_id if existing else None,
            language=language_of(recipient.language),
            timezone=shipment.timezone or self.settings.default_timezone,
            reason=event.details.reason,
            details=event.details.model_dump(mode="json", exclude_none=True),
            shipment=shipment.model_dump(mode="json", exclude_none=True),
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )

    def telegram_link(self, case_id: str) -> str | None:
        """The deep link that opens this case in Telegram, when Telegram is set up."""
        username = self.settings.telegram_bot_username
        if not (self.settings.telegram_enabled and username):
            return None
        return deep_link(username, case_id, link_key(self.settings.events_webhook_secret))

    def _invite(self, event: ExceptionEvent) -> bool:
        given = getattr(event.details, "telegram_invite", None)
        return bool(self.settings.telegram_invite_in_sms if given is None else given)

    def _open(self, existing: Case | None, event: ExceptionEvent, phone: str | None,
              webhook_id: str) -> str:
        case = self._case_from(existing, event, phone)
        timeline = [("event.received", {"type": event.type, "webhook_id": webhook_id,
                                        "occurred_at": event.occurred_at.isoformat()})]
        if existing is None:
            timeline.insert(0, ("case.opened", case_dimensions(case)))
        recipients = [("sms", phone)] if phone else []
        if case.telegram_chat_id is not None:
            recipients.append(("telegram", str(case.telegram_chat_id)))
        if existing is not None and existing.status == ESCALATED:
            return self._while_escalated(case, timeline, recipients, webhook_id)
        channel = self.engine.case_channel(case)
        if channel is None:
            timeline.append(("channel.unavailable", {"reason": "no phone number, and the "
                                                               "Telegram channel is not set up"}))
            self.store.set_open_case(case.carrier, case.tracking_number, case.id)
            self.engine.commit(Turn(case=case, conv=None, timeline=timeline,
                                    case_index=recipients),
                               key_base=f"event:{webhook_id}", proactive=True)
            return case.id
        with self.store.conversation_lock(*channel):
            conv = self.store.get_conversation(*channel)
            conv.case_id, conv.language = case.id, case.language
            conv.reminded, conv.pending = False, None
            case = Case.from_dict({**case.to_dict(), "status": AWAITING_CUSTOMER})
            turn = Turn(case=case, conv=conv, timeline=timeline, case_index=recipients)
            self.engine.start_flow(turn, flow_for_case(case),
                                   self.engine.context(case, conv.language))
            self._add_tracking_link(turn, channel[0], case.id)
            link = self.telegram_link(case.id) if channel[0] == "sms" and existing is None \
                and self._invite(event) else None
            if link:
                turn.replies.append(Reply(say(conv.language, "telegram_invite", link=link)))
            self.store.set_open_case(case.carrier, case.tracking_number, case.id)
            self.engine.commit(turn, key_base=f"event:{webhook_id}", proactive=True)
        return case.id

    def _add_tracking_link(self, turn: Turn, channel: str, case_id: str) -> None:
        """The case's tracking link in its first message: on SMS in the opt-out line (a
        carrier rule: the first text says how to opt out), so it costs no extra text; on
        Telegram as the first message's last line."""
        lang = turn.conv.language
        link = tracking_url(self.settings, case_id)
        if channel == "sms":
            turn.replies.append(Reply(say(lang, "tracking.stop_hint", link=link) if link
                                      else say(lang, "stop_hint")))
        elif link and turn.replies:
            first = turn.replies[0]
            turn.replies[0] = replace(first, text=first.text + "\n\n"
                                      + say(lang, "tracking.line", link=link))

    def _while_escalated(self, case: Case, timeline: list[tuple[str, dict]],
                         recipients: list[tuple[str, str]], webhook_id: str) -> str:
        """A new event for a case a person has (or is about to have): record it for them
        and send the customer nothing; the person decides what to say."""
        with self._maybe_lock(self.engine.case_channel(case), case.id):
            current = self.store.get_case(case.id)
            case = Case.from_dict({**case.to_dict(), "status": ESCALATED,
                                   "handoff": current.handoff if current else None})
            timeline.append(("bot.silenced", {"reason": "the case is with support staff"}))
            self.engine.commit(Turn(case=case, conv=None, timeline=timeline,
                                    case_index=recipients),
                               key_base=f"event:{webhook_id}", proactive=True)
        return case.id

    def _close(self, case: Case | None, event: ExceptionEvent, webhook_id: str) -> str | None:
        """``delivery.delivered`` / ``delivery.returned``: close the open case, if any,
        and tell a customer who is mid-dialogue about it that nothing more is needed."""
        if case is None:
            return None
        outcome = event.type.removeprefix("delivery.")
        channel = self.engine.case_channel(case)
        if case.status == ESCALATED:  # staff close it, with their resolution code
            received = [("event.received", {"type": event.type, "webhook_id": webhook_id,
                                            "occurred_at": event.occurred_at.isoformat()})]
            return self._while_escalated(case, received, [], webhook_id)
        with self._maybe_lock(channel, case.id):
            conv = self.store.get_conversation(*channel) if channel else None
            turn = Turn(case=case, conv=conv)
            turn.timeline.append(("event.received", {"type": event.type,
                                                     "webhook_id": webhook_id,
                                                     "occurred_at": event.occurred_at.isoformat()}))
            self.engine.set_status(turn, RESOLVED, {"outcome": outcome})
            turn.callbacks.append(("case.resolved", {"resolution": outcome}))
            if conv is not None and conv.case_id == case.id:
                if conv.flow and conv.state.get("step") != "done":
                    turn.replies.append(Reply(say(conv.language, f"closed.{outcome}",
                                                  parcel=parcel_ref(case, conv.language))))
                conv.flow, conv.state, conv.case_id, conv.pending = None, {}, None, None
            self.engine.commit(turn, key_base=f"event:{webhook_id}", proactive=True)
        return case.id

    def _maybe_lock(self, channel: tuple[str, str] | None,
                    case_id: str) -> AbstractContextManager[None]:
        return self.store.conversation_lock(*channel) if channel else \
            self.store.case_lock(case_id)
