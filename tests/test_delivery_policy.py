"""What happens to a message that cannot be delivered: fail over, escalate, dead letters,
late delivery reports, and pacing that waits without spending retries."""

from __future__ import annotations

import time

import pytest
from console_api_support import staff_api

from bot.models import ESCALATED
from bot.store import key_for
from support import failed_event, wait_for

PHONE = "+15551230001"
CHAT = 7770001




def telegram_event(**kw) -> dict:  # noqa: ANN003
    event = failed_event(phone=PHONE, **kw)
    event["shipment"]["recipient"]["telegram_chat_id"] = CHAT
    return event


def test_blocked_telegram_bot_fails_over_to_sms_and_the_dialogue_follows(system):
    system.telegram.fail_next("sendMessage", 403)
    case_id = system.post_event(telegram_event()).json()["case_id"]
    sms = system.customer(PHONE)
    offer = sms.reply()
    assert "1)" in offer, offer  # the Telegram offer, rendered for SMS
    wait_for("the chat unlinked", lambda: system.case(case_id).telegram_chat_id is None)
    assert "message.failover" in system.timeline_kinds(case_id)
    sms.say("1")  # the dialogue moved with the message: the answer lands in it
    assert "YES" in sms.reply()
    system.drain()
    assert system.telegram.sent(CHAT) == []  # the blocked chat got nothing more
    assert system.runtime.dead_letters.list() == []  # nothing failed for good


def test_unreachable_number_escalates_silently_and_staff_retry_the_dead_letter(system):
    system.twilio.fail_next(1, status=400, code=21614)  # not a mobile number
    case_id = system.post_event(failed_event(phone=PHONE)).json()["case_id"]
    wait_for("a dead letter", system.runtime.dead_letters.list)
    case = system.case(case_id)
    assert case.status == ESCALATED
    assert case.handoff["reason"] == "customer unreachable"
    system.drain()
    # No "a person will reply" to a dead number, and the bot's next text (the opt-out
    # line) stays unsent now that staff have the case.
    assert system.twilio.messages == []
    assert "message.suppressed" in system.timeline_kinds(case_id)

    api = staff_api(system, "sam@example.com", role="supervisor")
    listed = api.get("/api/dead-letters").json()
    assert [(d["kind"], d["error_code"], d["outcome"]) for d in listed["dead_letters"]] == [
        ("message", "21614", "escalated")]
    first = listed["dead_letters"][0]
    assert first["to"].endswith(PHONE[-4:]) and PHONE not in first["to"]
    resp = api.post(f"/api/dead-letters/{first['id']}/retry")
    assert resp.status_code == 202, resp.text
    sms = system.customer(PHONE)
    assert "1)" in sms.reply()  # staff chose to send it, although the case is escalated
    sms.silence()
    assert api.get("/api/dead-letters").json()["dead_letters"] == []
    assert "deadletter.retried" in system.timeline_kinds(case_id)
    assert api.post(f"/api/dead-letters/{first['id']}/retry").status_code == 404


def test_retrying_a_dead_letter_to_an_opted_out_customer_is_refused(system):
    system.twilio.fail_next(1, status=400, code=21610)
    system.post_event(failed_event(phone=PHONE))
    letters = wait_for("a dead letter", system.runtime.dead_letters.list)
    api = staff_api(system, "ana@example.com")
    resp = api.post(f"/api/dead-letters/{letters[0]['id']}/retry")
    assert resp.status_code == 409
    assert "opted out" in resp.json()["error"]
    system.drain()
    assert len(system.twilio.requests_log) == 1


def status_report(system, sid: str, status: str, code: str):  # noqa: ANN001, ANN201
    form = {"MessageSid": sid, "MessageStatus": status, "ErrorCode": code,
            "AccountSid": system.settings.twilio_account_sid, "To": PHONE,
            "From": system.settings.twilio_from_number}
    resp = system.twilio_post("/webhooks/twilio/status", form)
    assert resp.status_code == 204, resp.text
    return resp


def test_landline_reported_late_escalates_the_case(system):
    case_id = system.post_event(failed_event(phone=PHONE)).json()["case_id"]
    first = system.twilio.wait_for_messages(2)[0]
    status_report(system, first["sid"], "undelivered", "30006")
    case = system.case(case_id)
    assert case.status == ESCALATED and case.handoff["reason"] == "customer unreachable"
    letters = system.runtime.dead_letters.list()
    assert [(d["error_code"], d["outcome"]) for d in letters] == [("30006", "escalated")]


def test_handset_off_is_sent_again_later_and_a_repeated_report_is_ignored(system):
    case_id = system.post_event(failed_event(phone=PHONE)).json()["case_id"]
    first = system.twilio.wait_for_messages(2)[0]
    key = system.runtime.store.key_for_provider_id(first["sid"])
    status_report(system, first["sid"], "undelivered", "30003")
    status_report(system, first["sid"], "undelivered", "30003")  # Twilio retried its report
    record = system.runtime.store.outbound_record(key)
    assert record["status"] == "retrying" and record["redeliveries"] == "1"
    redeliveries = [e for e in system.runtime.store.timeline(case_id)
                    if e["kind"] == "message.redelivery"]
    assert len(redeliveries) == 1 and redeliveries[0]["delay_s"] >= 300
    assert system.case(case_id).status != ESCALATED
    assert system.runtime.dead_letters.list() == []


def test_paced_sender_waits_for_its_slot_without_spending_retries(make_system):
    # No retries at all: if waiting for a slot used one, the message would fail.
    system = make_system(TWILIO_MESSAGES_PER_SECOND="1", OUTBOUND_MAX_RETRIES="0")
    store = system.runtime.store
    sender = system.settings.twilio_from_number
    for _ in range(8):  # another process has booked the next 8 seconds of this number
        store.pace("twilio-sender", sender, 1000, 0)
    started = time.monotonic()
    case_id = system.post_event(failed_event(phone=PHONE)).json()["case_id"]
    messages = system.twilio.wait_for_messages(2, timeout=30)
    waited = time.monotonic() - started
    print(f"paced: first text after {waited:.1f}s behind 8 booked slots")
    assert waited >= 6  # it waited its turn (a lower bound only)
    assert "message.failed" not in system.timeline_kinds(case_id)
    times = [r["at"] for r in system.twilio.requests_log]
    assert times[1] - times[0] >= 0.5, times  # one number: about one text a second
    assert len(messages) == 2


def test_a_slot_beyond_the_wait_limit_is_not_booked(redis_client):
    from bot.store import Store

    store = Store(redis_client)
    waits = [store.pace("twilio-sender", "+15005550006", 1000, 0, max_wait_s=3)
             for _ in range(6)]
    # 0, 1, 2, 3 s are booked; the 5th and 6th are told to come back, and book nothing.
    assert waits[:4] == pytest.approx([0, 1, 2, 3], abs=0.1)
    assert waits[4] == pytest.approx(4, abs=0.1) and waits[5] == pytest.approx(4, abs=0.1)
    assert redis_client.exists(key_for("pace", tag="twilio-sender:+15005550006"))
