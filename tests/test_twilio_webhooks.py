"""Twilio webhooks: signatures, replays, STOP/START/HELP, delivery status."""

from __future__ import annotations

import threading

import pytest

from support import failed_event


@pytest.fixture
def waiting(system, customer):
    """A customer who was just offered windows."""
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.reply(), customer.reply()
    customer.case_id = case_id
    return customer


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_bad_or_missing_twilio_signature_is_refused_and_nothing_happens(system, waiting,
                                                                        signature):
    resp = system.sms(waiting.phone, "1", signature=signature)
    assert resp.status_code == 403
    resp = system.sms(waiting.phone, "1", token="some-other-token")
    assert resp.status_code == 403
    waiting.silence()
    assert "message.in" not in system.timeline_kinds(waiting.case_id)


def test_replayed_message_sid_is_ignored(system, waiting):
    waiting.say("2", sid="SM" + "a" * 32)
    waiting.reply()
    again = waiting.say("2", sid="SM" + "a" * 32)
    assert again.text.endswith("<Response/>")
    waiting.silence()
    assert system.timeline_kinds(waiting.case_id).count("message.in") == 1


def test_stop_silences_everything_until_start(system, waiting):
    waiting.say("STOP")
    waiting.say("2")
    waiting.silence()
    # A proactive text for a new event is not sent either.
    system.post_event(failed_event())
    waiting.silence()
    waiting.say("START")
    assert "subscribed again" in waiting.reply()
    assert "1) " in waiting.reply()
    waiting.say("1")
    assert "YES" in waiting.reply()


def test_help_says_who_we_are_and_how_to_stop(system, waiting):
    waiting.say("HELP")
    text = waiting.reply()
    assert "Doorstep" in text and "STOP" in text
    assert "1) " in waiting.reply()  # then the question again


def test_status_callback_records_delivery(system, waiting):
    sid = system.twilio.messages[0]["sid"]
    resp = system.twilio.send_status(sid, "delivered")
    assert resp.status_code == 204
    record = system.runtime.store.outbound_record(system.runtime.store.key_for_provider_id(sid))
    assert record["status"] == "delivered"
    entries = [e for e in system.runtime.store.timeline(waiting.case_id)
               if e["kind"] == "message.status"]
    assert entries[-1]["status"] == "delivered"


def test_status_callback_with_bad_signature_is_refused(system, waiting):
    sid = system.twilio.messages[0]["sid"]
    resp = system.twilio_post("/webhooks/twilio/status",
                              {"MessageSid": sid, "MessageStatus": "failed"},
                              signature="forged")
    assert resp.status_code == 403
    key = system.runtime.store.key_for_provider_id(sid)
    assert system.runtime.store.outbound_record(key)["status"] == "sent"


def test_two_messages_at_once_are_processed_one_after_the_other(system, waiting):
    barrier = threading.Barrier(2)
    results = []

    def send(text):  # noqa: ANN001, ANN202
        barrier.wait()
        results.append(system.sms(waiting.phone, text).status_code)

    threads = [threading.Thread(target=send, args=(t,)) for t in ("1", "2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200, 200]
    first, second = waiting.reply(), waiting.reply()
    # Each turn saw the state the previous one left: both are confirmation prompts,
    # for two different windows, and the conversation counted two turns.
    assert "YES" in first and "YES" in second and first != second
    conv = system.runtime.store.get_conversation("sms", waiting.phone)
    assert conv.turns == 2
    assert system.timeline_kinds(waiting.case_id).count("message.in") == 2


def test_message_from_unknown_number_gets_a_polite_answer(system):
    stranger = system.customer("+15559990000")
    stranger.say("hello?")
    assert "no open delivery" in stranger.reply()


def test_twilio_webhook_refuses_json(system):
    resp = system.http.post(system.url + "/webhooks/twilio/sms", json={"Body": "hi"})
    assert resp.status_code == 415
