"""Quiet customers get one reminder then the case expires; callbacks retry and stop on 410."""

from __future__ import annotations

import time

from support import failed_event


def _wait_status(system, case_id, status, timeout=15.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if system.case(case_id).status == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"case {case_id} is {system.case(case_id).status}, not {status}")


def test_quiet_customer_gets_one_reminder_then_the_case_expires(make_system):
    system = make_system(REMINDER_AFTER_MINUTES="0.02", EXPIRE_AFTER_MINUTES="0.03")
    customer = system.customer("+15551230001")
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.reply(), customer.reply()
    reminder = customer.reply()
    assert reminder.startswith("Reminder:") and "1) " in reminder
    _wait_status(system, case_id, "expired")
    callback = system.shipper.wait_for_callbacks(1)[0]["payload"]
    assert callback["type"] == "case.expired"
    assert callback["data"]["case_id"] == case_id
    customer.silence()
    assert system.timeline_kinds(case_id).count("reminder.sent") == 1


def test_a_reply_postpones_the_reminder(make_system):
    system = make_system(REMINDER_AFTER_MINUTES="0.03")
    customer = system.customer("+15551230001")
    system.post_event(failed_event())
    customer.reply(), customer.reply()
    customer.say("1")
    assert "YES" in customer.reply()
    reminder = customer.reply()  # the reminder now repeats the pending question
    assert reminder.startswith("Reminder:") and "YES" in reminder


def test_callback_is_retried_until_the_shipper_accepts_it(system, customer):
    system.shipper.respond_with(500, n=2)
    system.post_event(failed_event())
    customer.offered()
    customer.book("2")
    deliveries = system.shipper.wait_for_callbacks(3, timeout=20)
    assert [d["status"] for d in deliveries] == [500, 500, 200]
    assert len(system.shipper.unique_ids()) == 1  # same webhook-id every attempt


def test_callback_stops_on_410_gone(system, customer):
    system.shipper.respond_with(410)
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.offered()
    customer.book("2")
    system.shipper.wait_for_callbacks(1)
    system.drain()
    time.sleep(1.2)  # longer than the next scheduled retry (1 s in tests)
    assert len(system.shipper.callbacks) == 1
    assert "callback.gone" in system.timeline_kinds(case_id)


def test_twilio_outage_is_retried_and_the_text_sent_once(system, customer):
    system.twilio.fail_next(2, status=503)
    system.post_event(failed_event())
    assert "couldn't deliver" in customer.reply()
    assert "STOP" in customer.reply()
    customer.silence()


def test_number_twilio_reports_unsubscribed_is_not_retried_nor_texted_again(system, customer):
    system.twilio.fail_next(1, status=400, code=21610)
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.silence()
    kinds = system.timeline_kinds(case_id)
    failed = [e for e in system.runtime.store.timeline(case_id) if e["kind"] == "message.failed"]
    assert [e["error_code"] for e in failed] == ["21610"]
    assert "message.suppressed" in kinds  # the rest of the turn is not attempted
    assert len(system.twilio.requests_log) == 1
