"""Shared set-up for the address flow's tests: a recording flow, contexts, messages."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.models import Case, Reply
from channels.render import render_sms, segments
from flows.address import AddressFlow
from flows.base import FlowConfig, FlowContext, PickupPoint, Step
from nlu.base import Entity, Intent, ParseResult
from nlu.entities.addresses import extract_addresses

TZ = "America/New_York"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(TZ))
OLD = {"line1": "10 Elm St", "line2": None, "city": "Boston", "region": "MA",
       "postal_code": "02110", "country": "US"}
OLD_WITH_UNIT = {**OLD, "line2": "Apt 2"}
POINTS = (PickupPoint("Acme Depot", "1 Dock Rd, Boston MA 02110"),
          PickupPoint("Corner Shop", "77 Main St, Cambridge MA 02139"))
FULL = "12 Oak St Apt 4, Boston MA 02110"
FULL_ADDRESS = {"line1": "12 Oak St", "line2": "Apt 4", "city": "Boston", "region": "MA",
                "postal_code": "02110", "country": "US"}

RENDERED: list[Reply] = []


class RecordingFlow(AddressFlow):
    """The real flow, noting every reply and checking every state is plain JSON."""

    def _note(self, step: Step) -> Step:
        json.dumps(step.state)
        RENDERED.extend(step.replies)
        return step

    def start(self, ctx, offers, parse=None):
        return self._note(super().start(ctx, offers, parse))

    def step(self, state, parse, ctx):
        return self._note(super().step(state, parse, ctx))

    def prompt(self, state, ctx):
        reply = super().prompt(state, ctx)
        RENDERED.append(reply)
        return reply


def fits_two_segments(reply: Reply) -> bool:
    return segments(render_sms(reply.text, reply.choices)) <= 2


def make_ctx(lang: str = "en", trigger: str = "event", reason: str | None = None,
             old: dict | None = OLD, area: tuple[str, ...] = (),
             points: tuple[PickupPoint, ...] = ()) -> FlowContext:
    case = Case(id="cs_1", type="delivery.address_invalid", status="awaiting_customer",
                tracking_number="1Z999AA10123456784", carrier="acme", order_ref="A-1001",
                recipient_name="Ana Diaz", phone="+15551230001", telegram_chat_id=None,
                language=lang, timezone=TZ, reason=reason, details={},
                shipment={"address": old} if old is not None else {},
                created_at=NOW.isoformat(), updated_at=NOW.isoformat())
    return FlowContext(case=case, now=NOW, language=lang, trigger=trigger,
                       config=FlowConfig(service_area=area, pickup_points=points))


def parse(intent: str = "inform", text: str = "", **entities: object) -> ParseResult:
    return ParseResult(text=text, intent=Intent(intent, 0.9),
                       entities=tuple(Entity(k, v, 0, 0) for k, v in entities.items()))


def said(text: str, intent: str = "inform") -> ParseResult:
    """A message parsed by the real address extractor (not the trained model)."""
    return ParseResult(text=text, intent=Intent(intent, 0.9),
                       entities=tuple(extract_addresses(text)))


def to_confirm(flow: AddressFlow, ctx: FlowContext, text: str = FULL) -> Step:
    step = flow.step(flow.start(ctx, []).state, said(text), ctx)
    assert step.state["step"] == "confirm", step.replies
    return step


def to_instructions(flow: AddressFlow, ctx: FlowContext, text: str = FULL) -> Step:
    step = flow.step(to_confirm(flow, ctx, text).state, parse("affirm", "yes"), ctx)
    assert step.state["step"] == "instructions"
    return step


