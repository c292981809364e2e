"""Opt-out holds: after STOP, or Twilio's 21610 "unsubscribed recipient", not one SMS is
attempted until the customer texts START, whatever reminders and events come due.

Both scenarios run over real HTTP with real queue workers and short reminder and expiry
timers. They count every request to the fake Twilio's Messages resource (refused ones
included) for the one number involved, and assert nothing about the case's status: what
happens to a case after a permanent send failure is another policy's business.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from support import failed_event, wait_for

PHONE = "+15551230001"
TRACKING = "1Z999AA1OPTOUT0001"


@pytest.fixture
def system(make_system):
    return make_system(REMINDER_AFTER_MINUTES="0.02", EXPIRE_AFTER_MINUTES="0.02",
                       RATE_LIMIT_EVENTS="off", RATE_LIMIT_WEBHOOKS="off")


def sms_attempts(system) -> int:  # noqa: ANN001
    """Requests to create a message for ``PHONE`` at the fake Twilio, accepted or not."""
    return sum(1 for r in system.twilio.requests_log if r["method"] == "POST"
               and r["path"].endswith("/Messages.json") and r.get("to", PHONE) == PHONE)




def event(type_: str = "delivery.failed", tracking: str = TRACKING, **details) -> dict:  # noqa: ANN003
    if type_ == "delivery.delayed":
        details.setdefault("new_eta", (datetime.now(UTC) + timedelta(days=2)).isoformat())
    body = failed_event(phone=PHONE, tracking=tracking, type_=type_, **details)
    if type_ == "delivery.delivered":
        body["details"] = {}
    return body


def post(system, body: dict) -> str:  # noqa: ANN001
    resp = system.post_event(body)
    assert resp.status_code == 202, resp.text
    return resp.json()["case_id"]


def quiet_period_over(system, case_id: str) -> Callable[[], bool]:  # noqa: ANN001
    """The reminder came due (and was held back), or the case left the customer's hands."""
    def check() -> bool:
        case = system.case(case_id)
        return "reminder.suppressed" in system.timeline_kinds(case_id) \
            or case.status != "awaiting_customer"
    return check


def suppressed(system, case_ids: list[str]) -> int:  # noqa: ANN001
    return sum(system.timeline_kinds(c).count("message.suppressed") for c in set(case_ids))


def test_after_stop_no_sms_is_attempted_through_reminders_and_events_until_start(system):
    customer = system.customer(PHONE)
    first = post(system, event())
    customer.offered()
    customer.say("STOP")
    system.drain()
    at_stop = sms_attempts(system)

    customer.say("2")  # an answer after STOP is read, not replied to
    cases = [first, post(system, event("delivery.delayed"))]
    wait_for("the reminder of the first case", quiet_period_over(system, first), timeout=20)
    wait_for("the first case to expire",
             lambda: system.case(first).status != "awaiting_customer", timeout=20)
    cases.append(post(system, event()))  # a new case for the same parcel
    wait_for("the reminder of the new case", quiet_period_over(system, cases[-1]), timeout=20)
    cases.append(post(system, event("delivery.delivered")))
    system.drain()
    after_stop = sms_attempts(system) - at_stop
    reminders = sum(system.timeline_kinds(c).count("reminder.suppressed") for c in set(cases))
    held = suppressed(system, cases)
    print(f"\n{after_stop} SMS after opt-out (STOP): 3 events, {reminders} reminders and "
          f"{held} messages held back")
    assert after_stop == 0, f"{after_stop} SMS attempted after STOP"
    assert reminders >= 2 and held >= 4
    assert system.telegram.calls == []

    customer.read = len(customer.messages())
    customer.say("START")
    assert "subscribed again" in customer.reply()
    post(system, event())
    assert "couldn't deliver" in customer.reply() and "STOP" in customer.reply()
    print(f"after START: {sms_attempts(system) - at_stop} SMS")


@pytest.mark.parametrize("how", ["refused_on_send", "reported_by_status_callback"])
def test_after_twilio_21610_no_sms_is_attempted_through_reminders_and_events_until_start(
        system, how):
    """Twilio answers 21610 to the first text, or accepts it and reports 21610 later."""
    customer = system.customer(PHONE)
    if how == "refused_on_send":
        system.twilio.fail_next(1, status=400, code=21610)
    first = post(system, event())
    system.drain()
    if how == "reported_by_status_callback":
        sid = customer.messages()[0]["sid"]
        assert system.twilio.send_status(sid, "undelivered", error_code=21610).ok
    wait_for("the number to be marked unsubscribed",
             lambda: system.runtime.store.is_opted_out("sms", PHONE), timeout=20)
    at_refusal = sms_attempts(system)

    customer.say("2")  # Twilio forwards messages from opted-out numbers; still no reply
    # Whatever became of the refused case, a second parcel opens a case of its own: its
    # texts and its reminder come due while the number is unsubscribed.
    second = "1Z999AA1OPTOUT0002"
    cases = [first, post(system, event("delivery.delayed")), post(system, event(tracking=second))]
    wait_for("the reminder of the second parcel's case",
             quiet_period_over(system, cases[-1]), timeout=20)
    cases.append(post(system, event("delivery.delayed", tracking=second)))
    system.drain()
    after = sms_attempts(system) - at_refusal
    reminders = sum(system.timeline_kinds(c).count("reminder.suppressed") for c in set(cases))
    held = suppressed(system, cases)
    print(f"\n{after} SMS after opt-out (Twilio 21610, {how}): 4 events, {reminders} "
          f"reminders and {held} messages held back")
    assert after == 0, f"{after} SMS attempted after Twilio's 21610"
    assert reminders >= 1 and held >= 3

    customer.read = len(customer.messages())
    customer.say("START")
    assert "subscribed again" in customer.reply()
    post(system, event(tracking="1Z999AA1OPTOUT0003"))
    assert any("couldn't deliver" in customer.reply() for _ in range(3))
    print(f"after START: {sms_attempts(system) - at_refusal} SMS")
