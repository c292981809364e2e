"""Reschedule a failed delivery: offer windows, match the customer's answer, confirm, book.

States: ``choose`` (windows listed) → ``confirm`` (one window pending) → ``done``.
The customer may answer by number ("2"), in words ("tomorrow after 5", "el viernes
por la tarde"), or change their mind at any point before booking.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.models import Reply, Window
from flows.base import Callback, Escalate, FlowContext, Reserve, Resolve, Step
from flows.calendar import match_windows, nearest_windows, not_offered_reason
from flows.messages import (
    day_label,
    greeting_name,
    parcel_ref,
    reason_text,
    say,
    window_label,
    yes_no,
)
from nlu.base import ParseResult

SHOWN = 3  # windows listed at once: an SMS holds about three comfortably
# At the yes/no question, "ok thanks" / "gracias" accept, as "yes" does.
CONFIRMING = frozenset({"affirm", "thanks"})


def _windows(items: list[dict[str, str]]) -> list[Window]:
    return [Window.from_dict(w) for w in items]


def _restates(pending: dict[str, str], day_text: str | None, span: dict[str, str] | None,
              tz: str) -> bool:
    """True when the date/time in an answer describes the window awaiting confirmation
    ("yes, friday" while Friday afternoon is pending)."""
    if day_text is None and span is None:
        return False
    window = Window.from_dict(pending)
    start, end = window.start.astimezone(ZoneInfo(tz)), window.end.astimezone(ZoneInfo(tz))
    if day_text is not None and start.date().isoformat() != day_text:
        return False
    if span is not None:
        return span["start"] < end.strftime("%H:%M") and span["end"] > start.strftime("%H:%M")
    return True


def _dump(windows: list[Window]) -> list[dict[str, str]]:
    return [w.to_dict() for w in windows]


class RescheduleFlow:
    """The reschedule dialogue for ``delivery.failed`` cases."""

    name = "reschedule"
    accepts_media = False
    own_alarms: frozenset[str] = frozenset()

    # -- helpers -----------------------------------------------------------
    def _labels(self, windows: list[Window], ctx: FlowContext) -> tuple[str, ...]:
        return tuple(window_label(ctx.language, w, ctx.case.timezone) for w in windows)

    def _list(self, state: dict[str, Any], windows: list[Window], text: str,
              ctx: FlowContext) -> Step:
        new = {**state, "step": "choose", "listed": _dump(windows), "pending": None}
        return Step(new, (Reply(text, self._labels(windows, ctx)),))

    def _confirm(self, state: dict[str, Any], window: Window, ctx: FlowContext) -> Step:
        new = {**state, "step": "confirm", "pending": window.to_dict(), "misses": 0}
        label = window_label(ctx.language, window, ctx.case.timezone)
        return Step(new, (Reply(say(ctx.language, "confirm", label=label),
                                quick_replies=yes_no(ctx.language)),))

    def _miss(self, state: dict[str, Any], ctx: FlowContext) -> Step:
        new = {**state, "misses": state.get("misses", 0) + 1}
        if state["step"] == "confirm":
            return Step(new, (self.prompt(state, ctx),))
        listed = _windows(state["listed"])
        return Step(new, (Reply(say(ctx.language, "fallback"), self._labels(listed, ctx)),))

    # -- protocol ----------------------------------------------------------
    def start(self, ctx: FlowContext, offers: list[Window],
              parse: ParseResult | None = None) -> Step:
        lang, case = ctx.language, ctx.case
        state = {"step": "choose", "candidates": _dump(offers), "listed": _dump(offers[:SHOWN]),
                 "pending": None, "booked": None, "misses": 0}
        if ctx.trigger == "customer":
            if not offers:
                return Step(state, (Reply(say(lang, "no_windows")),),
                            (Escalate("no delivery windows to offer"),))
            if parse is not None and (parse.first("date") or parse.first("time_window")):
                return self.step(state, parse, ctx)
            text = say(lang, "choose_new", parcel=parcel_ref(case, lang))
            return Step(state, (Reply(text, self._labels(offers[:SHOWN], ctx)),))
        name = greeting_name(case)
        text = say(lang, "notify_failed", name=name, carrier=case.carrier.title(),
                   parcel=parcel_ref(case, lang), reason=reason_text(lang, case.reason))
        return Step(state, (Reply(text, self._labels(offers[:SHOWN], ctx)),))

    def prompt(self, state: dict[str, Any], ctx: FlowContext) -> Reply:
        lang = ctx.language
        if state["step"] == "done":
            booked = Window.from_dict(state["booked"])
            return Reply(say(lang, "already_booked", parcel=parcel_ref(ctx.case, lang),
                             label=window_label(lang, booked, ctx.case.timezone)))
        if state["step"] == "confirm":
            pending = Window.from_dict(state["pending"])
            return Reply(say(lang, "confirm", label=window_label(lang, pending, ctx.case.timezone)),
                         quick_replies=yes_no(lang))
        listed = _windows(state["listed"])
        text = say(lang, "choose_prompt", parcel=parcel_ref(ctx.case, lang))
        return Reply(text[0].upper() + text[1:], self._labels(listed, ctx))

    def claims(self, state: dict[str, Any], parse: ParseResult) -> bool:
        return state["step"] == "confirm" and parse.intent.name in CONFIRMING

    def step(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        if state["step"] == "done":
            return Step(state, (self.prompt(state, ctx),))
        intent = parse.intent.name
        option = parse.first("option_number")
        day_text = parse.first("date")
        span = parse.first("time_window")
        if state["step"] == "confirm" and option is None and (
                intent in CONFIRMING and day_text is None and span is None
                or intent in ("affirm", "inform") and _restates(state["pending"], day_text, span,
                                                            ctx.case.timezone)):
            return Step({**state}, (), (Reserve(Window.from_dict(state["pending"])),))
        if option is not None:
            return self._pick(state, int(option), ctx)
        if day_text is not None or span is not None:
            day = date.fromisoformat(day_text) if day_text else None
            return self._match(state, day, span, ctx)
        if intent == "deny" or (intent == "reschedule" and state["step"] == "confirm"):
            candidates = _windows(state["candidates"])
            return self._list(state, candidates[:SHOWN], say(ctx.language, "choose_again"), ctx)
        return self._miss(state, ctx)

    def reserved(self, state: dict[str, Any], ok: bool, ctx: FlowContext) -> Step:
        window = Window.from_dict(state["pending"])
        lang, case = ctx.language, ctx.case
        if not ok:
            rest = [w for w in _windows(state["candidates"]) if w != window]
            return self._list({**state, "candidates": _dump(rest)}, rest[:SHOWN],
                              say(lang, "full"), ctx)
        new = {**state, "step": "done", "booked": window.to_dict(), "pending": None}
        label = window_label(lang, window, case.timezone)
        data = {"window": window.to_dict()}
        return Step(new, (Reply(say(lang, "booked", parcel=parcel_ref(case, lang), label=label)),),
                    (Callback("case.rescheduled", data), Resolve("rescheduled", data)))

    # -- answers -----------------------------------------------------------
    def _pick(self, state: dict[str, Any], number: int, ctx: FlowContext) -> Step:
        listed = _windows(state["listed"])
        if not 1 <= number <= len(listed):
            new = {**state, "misses": state.get("misses", 0) + 1}
            return Step(new, (Reply(say(ctx.language, "pick_range", n=len(listed)),
                                    self._labels(listed, ctx)),))
        return self._confirm(state, listed[number - 1], ctx)

    def _match(self, state: dict[str, Any], day: date | None, span: dict[str, str] | None,
               ctx: FlowContext) -> Step:
        lang, tz = ctx.language, ctx.case.timezone
        candidates = _windows(state["candidates"])
        today = ctx.now.astimezone(ZoneInfo(tz)).date()
        if day is not None and not match_windows(candidates, tz, day, None):
            reason = not_offered_reason(day, today, ctx.holidays)
            if reason is None and candidates and day > _last_day(candidates, tz):
                reason = "beyond"
            label = day_label(lang, day)
            text = (say(lang, reason, day=label) + " " + say(lang, "nearest") if reason
                    else say(lang, "no_time", day=label))
            return self._list(state, nearest_windows(candidates, tz, day), text, ctx)
        pool = candidates if day is not None else _windows(state["listed"]) or candidates
        found = match_windows(pool, tz, day, span)
        if day is None and not found:
            found = match_windows(candidates, tz, None, span)
        if len(found) == 1:
            return self._confirm(state, found[0], ctx)
        if found:
            return self._list(state, found[:SHOWN], say(lang, "which"), ctx)
        near = nearest_windows(candidates, tz, day or today)
        label = day_label(lang, day or today)
        return self._list(state, near, say(lang, "no_time", day=label), ctx)


def _last_day(windows: list[Window], tz: str) -> date:
    return max(w.start.astimezone(ZoneInfo(tz)).date() for w in windows)
