"""The whole reschedule conversation over SMS: event in, texts out, callback to the shipper."""

from __future__ import annotations

from datetime import datetime

from support import failed_event


def _window(callback: dict) -> tuple[datetime, datetime]:
    w = callback["payload"]["data"]["window"]
    return datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])


def test_english_reschedule_in_words_ends_in_one_signed_callback(system, customer):
    event = failed_event(language="en")
    resp = system.post_event(event)
    assert resp.status_code == 202
    case_id = resp.json()["case_id"]

    first = customer.reply()
    assert "couldn't deliver" in first and "nobody was home" in first
    assert "1) " in first and "3) " in first
    assert "STOP" in customer.reply()

    customer.say("can u come tomorrow after 5")
    confirm = customer.reply()
    assert "5-9pm" in confirm and "YES" in confirm

    customer.say("yes")
    booked = customer.reply()
    assert booked.startswith("Booked") and "5-9pm" in booked

    callbacks = system.shipper.wait_for_callbacks(1)
    assert len(callbacks) == 1
    payload = callbacks[0]["payload"]
    assert payload["type"] == "case.rescheduled"
    assert payload["data"]["case_id"] == case_id
    assert payload["data"]["tracking_number"] == event["shipment"]["tracking_number"]
    start, end = _window(callbacks[0])
    offered = event["details"]["available_windows"][1]
    assert (start, end) == (datetime.fromisoformat(offered["start"]),
                            datetime.fromisoformat(offered["end"]))
    assert start.utcoffset() is not None
    assert system.case(case_id).status == "resolved"
    customer.silence()
    assert len(system.shipper.callbacks) == 1


def test_reschedule_by_number(system, customer):
    event = failed_event()
    system.post_event(event)
    customer.offered()
    customer.book("3", yes="yep")
    payload = system.shipper.wait_for_callbacks(1)[0]["payload"]
    assert payload["data"]["window"]["start"] == event["details"]["available_windows"][2]["start"]


def test_spanish_reschedule_in_words(system):
    ana = system.customer("+15551230002")
    event = failed_event(phone="+15551230002", language="es")
    system.post_event(event)
    first = ana.reply()
    assert first.startswith("Hola Ana") and "no pudo entregar" in first
    assert "STOP" in ana.reply()

    ana.say("mañana por la tarde")
    confirm = ana.reply()
    assert "12-17 h" in confirm and "SI" in confirm

    ana.say("sí")
    assert ana.reply().startswith("Reservado")
    payload = system.shipper.wait_for_callbacks(1)[0]["payload"]
    assert payload["type"] == "case.rescheduled"
    assert payload["data"]["window"]["start"] == event["details"]["available_windows"][0]["start"]


def test_a_customer_writing_spanish_gets_answers_in_spanish(system):
    luis = system.customer("+15551230003")
    case_id = system.post_event(failed_event(phone="+15551230003", language="en")).json()[
        "case_id"]
    assert "couldn't deliver" in luis.offered()  # the shipper said English
    luis.say("no voy a estar en casa, pueden venir mañana por la tarde?")
    confirm = luis.reply()
    assert "12-17 h" in confirm and "SI" in confirm
    luis.say("ok gracias")
    assert luis.reply().startswith("Reservado")
    assert "language.changed" in system.timeline_kinds(case_id)
    assert system.shipper.wait_for_callbacks(1)[0]["payload"]["type"] == "case.rescheduled"


def test_saying_no_at_confirmation_lists_the_windows_again(system, customer):
    system.post_event(failed_event())
    customer.reply(), customer.reply()
    customer.say("1")
    customer.reply()
    customer.say("no")
    again = customer.reply()
    assert "1) " in again and "Pick another time" in again
    customer.say("2")
    assert "5-9pm" in customer.reply()


def test_a_number_out_of_range_asks_again_and_books_nothing(system, customer):
    system.post_event(failed_event())
    customer.reply(), customer.reply()
    customer.say("7")
    assert "number from 1 to 3" in customer.reply()
    customer.silence()
    assert system.shipper.callbacks == []


def test_every_text_fits_in_two_segments(system):
    from fakes.twilio_api import num_segments

    for n, lang in enumerate(("en", "es")):
        phone = f"+1555123001{n}"
        system.post_event(failed_event(phone=phone, language=lang))
        person = system.customer(phone)
        person.reply()
        person.say("el domingo" if lang == "es" else "sunday")
        person.reply()
    system.drain()
    assert system.twilio.messages
    for message in system.twilio.messages:
        assert num_segments(message["body"]) <= 2, message["body"]


def test_logs_hold_no_phone_numbers_bodies_or_secrets(system, customer, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    system.twilio.fail_next(1, status=503)  # a retry path logs too
    system.post_event(failed_event())
    customer.offered()
    customer.book("can u come tomorrow after 5 pls, gate code 4417")
    system.shipper.wait_for_callbacks(1)
    text = caplog.text
    assert caplog.records, "expected some log lines"
    for secret in ("5551230001", "gate code", "4417", "Ana", "Oak St",
                   system.settings.twilio_auth_token, system.settings.events_webhook_secret):
        assert secret not in text
