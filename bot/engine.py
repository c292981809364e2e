"""Run one conversation turn: lock, load, understand, step the flow, save, dispatch.

The engine keeps no state in memory: everything lives in Redis through
:class:`~bot.store.Store`, so any number of web and worker processes can share it.
Outbound keys are derived from the inbound message id, so a turn that is replayed
after a crash produces the same keys and the queue sends each reply once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.asides import carrier_name
from bot.escalation import is_fallback
from bot.keywords import keyword_of
from bot.media import MediaIntake
from bot.metrics import timed_turn
from bot.models import (
    AWAITING_CUSTOMER,
    CLOSED_STATUSES,
    ESCALATED,
    RESOLVED,
    WEB,
    Case,
    Conversation,
    Inbound,
    Outbound,
    Reply,
    Window,
)
from bot.ports import Dispatcher
from bot.settings import Settings
from bot.store import Store, now_iso
from flows.base import (
    Callback,
    Escalate,
    FlowConfig,
    FlowContext,
    MediaItem,
    PickupPoint,
    Reserve,
    Resolve,
    Step,
    SwitchFlow,
    UpdateCase,
)
from flows.calendar import business_windows
from flows.messages import LANGUAGES, say
from flows.registry import FLOWS, SWITCH_INTENTS
from flows.reschedule import SHOWN as SHOWN_OFFERS
from nlu.base import NLU, Intent, ParseResult

log = logging.getLogger("doorstep.engine")


@dataclass
class Turn:
    """What one turn produced, applied at the end in one go."""

    case: Case | None
    conv: Conversation | None
    replies: list[Reply] = field(default_factory=list)
    timeline: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    callbacks: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    closed: bool = False  # the case closed in this turn: its parcel has no open case now
    case_index: list[tuple[str, str]] = field(default_factory=list)  # recipients to index
    detached: list[Conversation] = field(default_factory=list)  # left by a customer who moved
    escalated: bool = False  # the case went to the support queue in this turn
    author: str = "bot"  # who the replies are from: "bot", "system" or "staff"
    staff: tuple[str, str] | None = None  # (email, name) of the staff member writing


class Engine:
    """The conversation engine."""

    def __init__(self, store: Store, nlu: NLU, dispatcher: Dispatcher, settings: Settings,
                 clock: Callable[[], datetime] | None = None,
                 media: MediaIntake | None = None) -> None:
        from bot.asides import Asides
        from bot.escalation import Escalations
        from bot.linking import Linker

        self.store = store
        self.nlu = nlu
        self.dispatcher = dispatcher
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.media = media
        self.config = FlowConfig(
            service_area=settings.service_area,
            pickup_points=tuple(PickupPoint(n, a) for n, a in settings.pickup_points),
            damage_value_limit=settings.damage_value_limit)
        self.linker = Linker(self)
        self.asides = Asides(self)
        self.escalations = Escalations(self)

    # -- inbound turns -----------------------------------------------------
    @timed_turn
    def handle(self, inbound: Inbound) -> bool:
        """Process one customer message; False when it was a replay and changed nothing."""
        with self.store.conversation_lock(inbound.channel, inbound.sender):
            seen, conv, opted_out = self.store.load_turn(inbound.channel, inbound.sender,
                                                         inbound.message_id)
            if seen:
                return False
            case = self.store.get_case(conv.case_id) if conv.case_id else None
            turn = Turn(case=case, conv=conv)
            turn.timeline.append(("message.in", {"channel": inbound.channel,
                                                 "message_id": inbound.message_id,
                                                 "text": inbound.text,
                                                 "attachments": len(inbound.media)}))
            self._respond(turn, inbound, opted_out)
            if turn.case is not None and turn.case.held_by and turn.replies:
                # A person holds this conversation: the bot says nothing at all.
                turn.timeline.append(("bot.silenced", {"replies": len(turn.replies)}))
                turn.replies = []
            conv.turns += 1
            conv.last_inbound_at = inbound.received_at.isoformat()
            conv.reminded = False
            self.commit(turn, key_base=f"{inbound.channel}:{inbound.message_id}",
                        proactive=False,
                        mark=(inbound.channel, inbound.sender, inbound.message_id))
            return True

    def _respond(self, turn: Turn, inbound: Inbound, opted_out: bool) -> None:
        conv, case = turn.conv, turn.case
        lang = conv.language
        keyword = keyword_of(inbound.channel, inbound.text)
        # Opt-out changes are written at once, not with the turn's pipeline: the worker
        # checks them when it sends, and this turn's own replies are dispatched first.
        if keyword == "stop":
            turn.timeline.append(("customer.opted_out", {"channel": inbound.channel}))
            self.store.set_opted_out(inbound.channel, inbound.sender, True)
            return  # the carrier confirms STOP itself; we send nothing more
        if opted_out and (keyword == "start" or inbound.start_token is not None):
            self.store.set_opted_out(inbound.channel, inbound.sender, False)
            turn.timeline.append(("customer.opted_in", {"channel": inbound.channel}))
            turn.replies.append(Reply(say(lang, "welcome_back")))
            if inbound.start_token is None:
                self.reprompt(turn)
                return
        elif opted_out:
            return  # after STOP, nothing is sent until START
        if keyword == "help":
            turn.replies.append(Reply(say(lang, "help", carrier=carrier_name(case))))
            self.reprompt(turn)
            return
        if inbound.channel == "telegram" and self.linker.handle(turn, inbound):
            return
        case = turn.case
        if case is None or conv.flow is None or case.status in CLOSED_STATUSES \
                and conv.state.get("step") != "done":
            turn.replies.append(Reply(say(lang, "no_case")))
            return
        media = self._take_media(turn, inbound)
        if case.status == ESCALATED:
            # Waiting for a person, or with one: the message is for them (the console
            # shows it); the bot only says, once, that it is in the queue.
            if media:
                turn.replies.append(Reply(say(lang, "media.attached", n=len(media))))
            if not conv.state.get("hold_sent"):
                conv.state = {**conv.state, "hold_sent": True}
                turn.replies.append(Reply(say(lang, "escalated_hold")))
            return
        if not inbound.text.strip():
            if media and FLOWS[conv.flow].accepts_media and case.status not in CLOSED_STATUSES:
                parse = ParseResult(text="", intent=Intent("inform", 1.0), language=lang)
                ctx = self.context(case, lang, media)
                self.apply(turn, FLOWS[conv.flow].step(conv.state, parse, ctx), ctx)
            elif media or inbound.media or inbound.unsupported:
                if media:
                    turn.replies.append(Reply(say(lang, "media.attached", n=len(media))))
                self.reprompt(turn)
            return
        ctx = self.context(case, lang, media)
        parse = self.nlu.parse(inbound.text, ctx.now, case.timezone, lang)
        turn.timeline.append(("nlu", {"intent": parse.intent.name,
                                      "confidence": round(parse.intent.confidence, 3),
                                      "entities": [e.to_dict() for e in parse.entities]}))
        if parse.language != lang and parse.language in LANGUAGES:
            # The NLU overrides the known language only when the message is clearly in
            # the other one: from now on, answer in the language the customer writes.
            turn.timeline.append(("language.changed", {"from": lang, "to": parse.language}))
            conv.language = lang = parse.language
            ctx = self.context(case, lang, media)
        if not is_fallback(parse):
            conv.fallbacks = 0  # "in a row": any readable message breaks the run
        if case.status not in CLOSED_STATUSES and self.escalations.alarm(turn, parse):
            return
        asides = self.asides
        if asides.answer_pending(turn, parse, ctx) or asides.shared_intent(turn, parse, ctx):
            return
        flow = FLOWS[conv.flow]
        claimed = flow.claims(conv.state, parse)
        if self.escalations.fell_back(turn, parse, claimed):
            return
        if claimed:
            self._step(turn, parse, ctx)
            return
        if self.asides.handle(turn, parse, ctx):
            return
        target = SWITCH_INTENTS.get(parse.intent.name)
        if target and target != conv.flow and case.status not in CLOSED_STATUSES:
            self.switch(turn, target, ctx, parse)
            return
        self._step(turn, parse, ctx)

    def _step(self, turn: Turn, parse: ParseResult, ctx: FlowContext) -> None:
        """Step the conversation's flow; three unusable answers in a row go to a person."""
        before = len(turn.replies)
        self.apply(turn, FLOWS[turn.conv.flow].step(turn.conv.state, parse, ctx), ctx)
        self.escalations.too_many_misses(turn, flow_replies_from=before)

    def _take_media(self, turn: Turn, inbound: Inbound) -> tuple[MediaItem, ...]:
        """Fetch, check and store this message's files; tell the customer about refusals."""
        lang = turn.conv.language
        refused = ["unsupported"] * len(inbound.unsupported)
        items: list[MediaItem] = []
        if inbound.media:
            if self.media is None:
                refused += ["unavailable"] * len(inbound.media)
            else:
                items, more = self.media.take(inbound.channel, inbound.media, turn.case.id)
                refused += more
        for item in items:
            turn.timeline.append(("media.received", {"media_id": item.id,
                                                     "content_type": item.content_type,
                                                     "size": item.size}))
        for reason in dict.fromkeys(refused):
            turn.timeline.append(("media.refused", {"reason": reason}))
            turn.replies.append(Reply(say(lang, f"media.{reason}",
                                          mb=self.settings.media_max_bytes // 2**20)))
        return tuple(items)

    # -- applying a flow's step -------------------------------------------
    def context(self, case: Case, lang: str, media: tuple[MediaItem, ...] = (),
                trigger: str = "event") -> FlowContext:
        """What a flow may know for this case now."""
        return FlowContext(case=case, now=self.clock(), language=lang,
                           holidays=self.settings.holidays, config=self.config, media=media,
                           trigger=trigger)

    def offers(self, case: Case, now: datetime) -> list[Window]:
        """Windows to offer: the shipper's, else the calendar's with capacity left."""
        given = case.details.get("available_windows")
        if given:
            windows = [Window.from_dict(w) for w in given]
            return sorted((w for w in windows if w.start > now), key=lambda w: w.start)
        windows = business_windows(now, case.timezone, self.settings.holidays,
                                   self.settings.booking_days)
        cap = self.settings.window_capacity
        return [w for w, load in zip(windows, self.store.window_loads(windows), strict=True)
                if load < cap]

    def switch(self, turn: Turn, name: str, ctx: FlowContext,
               parse: ParseResult | None = None) -> None:
        """Leave the current flow for ``name``, started as the customer's own request."""
        turn.timeline.append(("flow.switched", {"from": turn.conv.flow, "to": name}))
        turn.conv.pending = None
        self.start_flow(turn, name, self.context(ctx.case, ctx.language, ctx.media,
                                                 trigger="customer"), parse)

    def start_flow(self, turn: Turn, name: str, ctx: FlowContext,
                   parse: ParseResult | None = None) -> None:
        """Make ``name`` the conversation's flow and open it (with windows to offer, if it
        books them)."""
        turn.conv.flow = name
        offers = self.offers(ctx.case, ctx.now) if name == "reschedule" else []
        if offers:  # for the insights: was the window booked one of those first shown?
            turn.timeline.append(("windows.offered", {"windows": [
                w.start.isoformat() for w in offers[:SHOWN_OFFERS]], "count": len(offers)}))
        self.apply(turn, FLOWS[name].start(ctx, offers, parse), ctx)

    def reprompt(self, turn: Turn, prefix: str | None = None) -> None:
        """Repeat the current flow's question (after a side question), if it has one."""
        conv, case = turn.conv, turn.case
        if case is None or not conv.flow or case.status in CLOSED_STATUSES \
                or case.status == ESCALATED:
            if prefix:
                turn.replies.append(Reply(prefix))
            return
        prompt = FLOWS[conv.flow].prompt(conv.state, self.context(case, conv.language))
        text = f"{prefix} {prompt.text}" if prefix else prompt.text
        turn.replies.append(Reply(text, prompt.choices, prompt.quick_replies))

    def case_conversation(self, case: Case) -> Conversation | None:
        """The conversation a case's proactive messages go to (Telegram first), if any."""
        channel = self.case_channel(case)
        return self.store.get_conversation(*channel) if channel else None

    def case_channel(self, case: Case) -> tuple[str, str] | None:
        if case.telegram_chat_id is not None and self.settings.telegram_enabled:
            return "telegram", str(case.telegram_chat_id)
        if case.phone:
            return "sms", case.phone
        return None

    def apply(self, turn: Turn, step: Step, ctx: FlowContext) -> None:
        """Carry out a flow step's effects; reservations feed back into the flow."""
        turn.conv.state = step.state
        turn.replies.extend(step.replies)
        for effect in step.effects:
            if isinstance(effect, Reserve):
                ok = self.store.reserve_window(effect.window, self.settings.window_capacity) \
                    if not turn.case.details.get("available_windows") else True
                turn.timeline.append(("window.reserved" if ok else "window.full",
                                      {"window": effect.window.to_dict()}))
                flow = FLOWS[turn.conv.flow]
                self.apply(turn, flow.reserved(turn.conv.state, ok, ctx), ctx)
            elif isinstance(effect, Callback):
                turn.callbacks.append((effect.type, effect.data))
            elif isinstance(effect, Resolve):
                self.set_status(turn, RESOLVED, {"outcome": effect.outcome, **effect.data})
            elif isinstance(effect, Escalate):
                self.escalations.escalate(turn, effect.reason, effect.summary)
            elif isinstance(effect, UpdateCase):
                case = turn.case
                turn.case = Case.from_dict({**case.to_dict(),
                                            "shipment": {**case.shipment, **effect.shipment},
                                            "details": {**case.details, **effect.details}})
                turn.timeline.append(("case.updated", {"shipment": effect.shipment,
                                                       "details": effect.details}))
            elif isinstance(effect, SwitchFlow):
                self.switch(turn, effect.flow, ctx)

    def set_status(self, turn: Turn, status: str, data: dict[str, Any]) -> None:
        case = turn.case
        resolution = {**data, "at": now_iso()} if status in CLOSED_STATUSES else case.resolution
        turn.case = Case.from_dict({**case.to_dict(), "status": status, "updated_at": now_iso(),
                                    "resolution": resolution})
        turn.timeline.append((f"case.{status}", data))
        turn.closed = turn.closed or status in CLOSED_STATUSES

    def commit(self, turn: Turn, key_base: str, proactive: bool,
               mark: tuple[str, str, str] | None = None) -> list[Outbound]:
        """Dispatch replies and callbacks, then save case, timeline and conversation at once."""
        conv, case = turn.conv, turn.case
        if conv is None:
            turn.replies = []
        outs = [Outbound(key=f"{key_base}:{i}", channel=conv.channel, to=conv.address,
                         text=r.text, choices=r.choices, case_id=case.id if case else None,
                         proactive=proactive, timezone=case.timezone if case else None,
                         quick_replies=r.quick_replies, ask_contact=r.ask_contact,
                         language=conv.language, author=turn.author)
                for i, r in enumerate(turn.replies) if r.text]
        deferred_until = self.dispatcher.send(outs) if outs else None
        for kind, data in turn.callbacks:
            full = {"case_id": case.id, "tracking_number": case.tracking_number,
                    "order_ref": case.order_ref, **data}
            self.dispatcher.callback(f"{key_base}:{kind}", case.id, kind, full)
        pipe = self.store.pipeline()
        if case is not None:
            self.store.save_case(case, pipe)
            if turn.closed:
                self.store.set_open_case(case.carrier, case.tracking_number, None, pipe)
            for kind, data in turn.timeline:
                self.store.append_timeline(case.id, kind, pipe, **data)
            for out in outs:
                self.store.append_timeline(case.id, "message.queued", pipe, key=out.key,
                                           channel=out.channel, text=out.text,
                                           choices=list(out.choices), author=out.author,
                                           **({"staff": turn.staff[0],
                                               "staff_name": turn.staff[1]}
                                              if turn.staff else {}))
                if deferred_until is not None:
                    self.store.append_timeline(case.id, "message.deferred", pipe, key=out.key,
                                               until=deferred_until)
            if turn.case_index:
                self.store.index_case(case, turn.case_index, pipe)
            for kind, _ in turn.callbacks:
                self.store.append_timeline(case.id, "callback.queued", pipe, type=kind)
            self.store.index_escalation(case, pipe)
            self.store.publish_case(case.id, case.status, pipe)
        if conv is not None:
            self.store.save_conversation(conv, pipe)
        for other in turn.detached:
            self.store.save_conversation(other, pipe)
        if mark:
            self.store.mark_inbound(*mark, pipe=pipe)
        pipe.execute()
        if turn.escalated and case is not None and case.handoff:
            self.dispatcher.check_overdue(case.id, case.handoff["waiting_since"],
                                          self.settings.escalation_overdue_s)
        # The tracking page ("web") has no timers: the customer's own channel reminds them.
        if case is not None and conv is not None and case.status == AWAITING_CUSTOMER \
                and conv.case_id == case.id and conv.channel != WEB:
            stage = "expire" if conv.reminded else "remind"
            delay = self.settings.expire_after_s if conv.reminded else \
                self.settings.reminder_after_s
            self.dispatcher.check_idle(conv.channel, conv.address, case.id, conv.turns, stage,
                                       delay)
        return outs
