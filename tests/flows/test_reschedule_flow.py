"""The reschedule flow as a pure state machine, against the built-in calendar."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.models import Case, Window
from flows.base import Callback, FlowContext, Reserve, Resolve
from flows.calendar import business_windows
from flows.reschedule import RescheduleFlow
from nlu.base import Entity, Intent, ParseResult

TZ = "America/New_York"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(TZ))  # a Tuesday morning
THANKSGIVING = date(2026, 11, 26)


def parse(intent: str = "inform", **entities: object) -> ParseResult:
    return ParseResult(text="", intent=Intent(intent, 0.9),
                       entities=tuple(Entity(k, v, 0, 0) for k, v in entities.items()))


@pytest.fixture
def ctx() -> FlowContext:
    case = Case(id="cs_1", type="delivery.failed", status="awaiting_customer",
                tracking_number="1Z999AA10123456784", carrier="acme", order_ref="A-1001",
                recipient_name="Ana Diaz", phone="+15551230001", telegram_chat_id=None,
                language="en", timezone=TZ, reason="recipient_absent", details={},
                shipment={}, created_at=NOW.isoformat(), updated_at=NOW.isoformat())
    return FlowContext(case=case, now=NOW, language="en", holidays=frozenset({THANKSGIVING}))


@pytest.fixture
def started(ctx):
    offers = business_windows(NOW, TZ, ctx.holidays, days=5)
    return RescheduleFlow().start(ctx, offers)


def test_calendar_skips_sundays_holidays_and_windows_too_soon():
    windows = business_windows(NOW, TZ, frozenset({THANKSGIVING}), days=5)
    days = {w.start.date() for w in windows}
    assert date(2026, 11, 29) not in days  # Sunday
    assert THANKSGIVING not in days
    assert windows[0].start == datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo(TZ))
    assert date(2026, 11, 28) in days  # Saturday is a delivery day


def test_first_message_lists_three_windows(started):
    first = started.replies[0]
    assert len(first.choices) == 3
    assert first.choices[0] == "Tue Nov 24, 12-5pm"
    assert "nobody was home" in first.text


def test_sunday_is_explained_with_nearest_alternatives(started, ctx):
    step = RescheduleFlow().step(started.state, parse(date="2026-11-29"), ctx)
    reply = step.replies[0]
    assert "don't deliver on Sundays" in reply.text
    assert reply.choices == ("Sat Nov 28, 8am-12pm", "Sat Nov 28, 12-5pm", "Sat Nov 28, 5-9pm")


def test_holiday_and_past_dates_are_explained(started, ctx):
    flow = RescheduleFlow()
    holiday = flow.step(started.state, parse(date="2026-11-26"), ctx).replies[0]
    assert "holiday" in holiday.text and holiday.choices
    past = flow.step(started.state, parse(date="2026-11-20"), ctx).replies[0]
    assert "already passed" in past.text and past.choices


def test_day_and_time_pick_one_window_then_yes_reserves_then_books(started, ctx):
    flow = RescheduleFlow()
    step = flow.step(started.state, parse("reschedule", date="2026-11-25",
                                          time_window={"start": "17:00", "end": "21:00"}), ctx)
    assert step.state["step"] == "confirm"
    assert "Wed Nov 25, 5-9pm" in step.replies[0].text
    step = flow.step(step.state, parse("affirm"), ctx)
    assert step.effects == (Reserve(Window.from_dict(step.state["pending"])),)
    done = flow.reserved(step.state, True, ctx)
    assert done.state["step"] == "done"
    kinds = [type(e) for e in done.effects]
    assert kinds == [Callback, Resolve]
    assert done.effects[0].data["window"]["start"] == "2026-11-25T17:00:00-05:00"


@pytest.mark.parametrize("answer", [
    parse("thanks"),
    parse("affirm", date="2026-11-25"),
    parse("inform", time_window={"start": "18:00", "end": "21:00"}),
])
def test_thanks_or_restating_the_pending_window_confirms_it(started, ctx, answer):
    flow = RescheduleFlow()
    step = flow.step(started.state, parse("reschedule", date="2026-11-25",
                                          time_window={"start": "17:00", "end": "21:00"}), ctx)
    assert flow.claims(step.state, answer) == (answer.intent.name in ("affirm", "thanks"))
    confirmed = flow.step(step.state, answer, ctx)
    assert confirmed.effects == (Reserve(Window.from_dict(step.state["pending"])),)


def test_another_day_at_the_confirmation_is_a_new_choice(started, ctx):
    flow = RescheduleFlow()
    step = flow.step(started.state, parse("reschedule", date="2026-11-25",
                                          time_window={"start": "17:00", "end": "21:00"}), ctx)
    other = flow.step(step.state, parse("affirm", date="2026-11-27",
                                        time_window={"start": "17:00", "end": "21:00"}), ctx)
    assert other.effects == ()
    assert "Fri Nov 27, 5-9pm" in other.replies[0].text


def test_full_window_offers_others(started, ctx):
    flow = RescheduleFlow()
    step = flow.step(started.state, parse(option_number=1), ctx)
    step = flow.step(step.state, parse("affirm"), ctx)
    after = flow.reserved(step.state, False, ctx)
    assert "filled up" in after.replies[0].text
    assert "Tue Nov 24, 12-5pm" not in after.replies[0].choices


def test_a_day_with_several_windows_asks_which(started, ctx):
    step = RescheduleFlow().step(started.state, parse(date="2026-11-27"), ctx)
    assert step.state["step"] == "choose"
    assert len(step.replies[0].choices) == 3
    assert all(c.startswith("Fri Nov 27") for c in step.replies[0].choices)


def test_gibberish_counts_a_miss_and_repeats_the_choices(started, ctx):
    step = RescheduleFlow().step(started.state, parse("out_of_scope"), ctx)
    assert step.state["misses"] == 1
    assert "didn't get that" in step.replies[0].text and len(step.replies[0].choices) == 3
