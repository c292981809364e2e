"""Tell the customer about a damaged, delayed, misrouted or unaddressable parcel.

Until the dedicated self-service flows exist, any reply hands the case to staff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.models import Reply, Window
from flows.base import Escalate, FlowContext, Step
from flows.messages import say, window_label
from flows.reschedule import parcel_ref
from nlu.base import ParseResult


class NoticeFlow:
    """Send one notice; escalate when the customer answers."""

    name = "notice"

    def start(self, ctx: FlowContext, offers: list[Window]) -> Step:
        lang, case = ctx.language, ctx.case
        name = f" {case.recipient_name.split()[0]}" if case.recipient_name else ""
        eta = ""
        if case.details.get("new_eta"):
            start = datetime.fromisoformat(case.details["new_eta"]).astimezone(
                ZoneInfo(case.timezone))
            eta = window_label(lang, Window(start, start), case.timezone).split(",")[0]
        text = say(lang, f"notice_{case.type}", name=name, carrier=case.carrier.title(),
                   parcel=parcel_ref(case, lang), eta=eta)
        return Step({"step": "noticed"}, (Reply(text), Reply(say(lang, "stop_hint"))))

    def claims(self, state: dict[str, Any], parse: ParseResult) -> bool:
        return False

    def prompt(self, state: dict[str, Any], ctx: FlowContext) -> Reply:
        return Reply(say(ctx.language, "escalated_hold"))

    def step(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        if state.get("step") == "escalated":
            return Step(state)
        return Step({"step": "escalated"}, (Reply(say(ctx.language, "human")),),
                    (Escalate("customer replied to " + ctx.case.type),))

    def reserved(self, state: dict[str, Any], ok: bool, ctx: FlowContext) -> Step:
        return Step(state)


