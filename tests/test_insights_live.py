"""Insights from cases the real system handled: events in, SMS dialogues, the queue.

The hand-computed figures are in ``test_insights.py``; these check that what the live
code writes on its timelines folds into the figures a supervisor expects, and that a
rebuild from those timelines agrees with the figures kept incrementally.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.insights import Filters, Insights, rebuild_facts
from support import failed_event, wait_for


def _today(system) -> Filters:  # noqa: ANN001 - the System fixture
    insights: Insights = system.runtime.insights
    return Filters(insights.today(), insights.today())


def test_a_self_service_reschedule_counts_as_such(system) -> None:
    insights: Insights = system.runtime.insights
    phone = "+15551234501"
    case_id = system.post_event(failed_event(phone=phone)).json()["case_id"]
    me = system.customer(phone)
    me.offered()
    me.book("2")
    system.drain()
    kinds = system.timeline_kinds(case_id)
    wait_for("every text recorded as sent", lambda: system.timeline_kinds(case_id).count(
        "message.sent") == kinds.count("message.queued"))

    figures = insights.figures(_today(system))
    assert figures["cases"] == 1
    assert figures["outcomes"]["self_service"] == 1
    assert figures["rates"] == {"self_service": 1.0, "escalation": 0.0, "expiry": 0.0}
    assert figures["reschedule"]["booked_first_offer"] == 1  # "2": the second shown
    resolution = figures["durations"]["time_to_resolution"]
    assert resolution["count"] == 1 and resolution["median_s"] > 0
    queued = system.timeline_kinds(case_id).count("message.queued")
    assert figures["delivery"]["sms"]["queued"] == queued == len(me.messages())
    assert figures["delivery"]["sms"]["sent"] == queued
    assert figures["delivery"]["sms"]["success_rate"] == 1.0
    assert figures["top"] == {"postal_codes": [["02110", 1]], "carriers": [["acme", 1]],
                              "reasons": [["recipient_absent", 1]]}
    assert figures["opt_out"] == {"sms_cases": 1, "opted_out": 0, "rate": 0.0}


def test_asking_for_another_day_is_a_booking_outside_the_first_offer(system) -> None:
    insights: Insights = system.runtime.insights
    phone = "+15551234502"
    event = failed_event(phone=phone)
    system.post_event(event)
    me = system.customer(phone)
    me.offered()
    me.book("3")  # the third window is shown too: still the first offer
    other = "+15551234503"
    system.post_event(failed_event(phone=other))
    them = system.customer(other)
    them.offered()
    them.say("STOP")
    system.drain()
    figures = insights.figures(_today(system))
    assert figures["reschedule"] == {"offered": 2, "booked_first_offer": 1,
                                     "booked_other_window": 0, "not_booked": 1,
                                     "met_a_full_window": 0}
    assert figures["opt_out"] == {"sms_cases": 2, "opted_out": 1, "rate": 0.5}


def test_a_rebuild_from_the_live_timelines_matches_the_incremental_figures(system) -> None:
    phone = "+15551234504"
    system.post_event(failed_event(phone=phone))
    me = system.customer(phone)
    me.offered()
    me.book("1")
    eta = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    delayed = system.post_event(failed_event(phone="+15551234505", type_="delivery.delayed",
                                             reason="weather", new_eta=eta))
    assert delayed.status_code == 202, delayed.text
    system.drain()
    system.settle()
    kept = system.runtime.insights.figures(_today(system))
    for key in system.runtime.redis.scan_iter("ds:insights:{cs_*"):
        system.runtime.redis.delete(key)
    assert rebuild_facts(system.runtime.store) == 2
    fresh = Insights(system.runtime.store, system.settings.default_timezone)
    assert fresh.figures(_today(system)) == kept
