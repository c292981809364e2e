"""Proactive texts wait for the end of quiet hours in the shipment's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.quiet_hours import in_quiet_hours, next_send_time
from support import failed_event, quiet_now

NY = "America/New_York"
QUIET = (time(21, 0), time(8, 0))


@pytest.mark.parametrize(("local", "quiet"), [
    ("2026-11-24T22:30", True), ("2026-11-24T07:59", True), ("2026-11-24T08:00", False),
    ("2026-11-24T20:59", False), ("2026-11-24T21:00", True), ("2026-11-24T00:00", True),
])
def test_quiet_hours_span_midnight(local, quiet):
    now = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(NY))
    assert in_quiet_hours(now, NY, QUIET) is quiet


def test_late_evening_text_waits_until_eight_next_morning_local():
    now = datetime(2026, 11, 24, 22, 30, tzinfo=ZoneInfo(NY))
    assert next_send_time(now, NY, QUIET) == datetime(2026, 11, 25, 8, 0, tzinfo=ZoneInfo(NY))


def test_early_morning_text_waits_until_eight_same_day():
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 22:00 on the 24th in New York
    assert next_send_time(now, NY, QUIET).isoformat() == "2026-11-25T08:00:00-05:00"


def test_event_in_quiet_hours_sends_nothing_now_and_defers_the_text(make_system):
    system = make_system(QUIET_HOURS=quiet_now())
    customer = system.customer("+15551230001")
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.silence()
    deferred = [e for e in system.runtime.store.timeline(case_id)
                if e["kind"] == "message.deferred"]
    assert len(deferred) == 2
    wait = deferred[0]["until"] - datetime.now(UTC).timestamp()
    assert timedelta(hours=1, minutes=55).total_seconds() < wait <= 2 * 3600


def test_replies_to_a_customer_are_not_held_by_quiet_hours(make_system):
    system = make_system(QUIET_HOURS=quiet_now())
    customer = system.customer("+15551230001")
    event = failed_event()
    system.post_event(event)
    customer.silence()  # the proactive text waits for morning...
    customer.say("2")  # ...but a customer who writes in gets an answer now
    confirm = customer.reply()
    assert "YES" in confirm and "5-9pm" in confirm
