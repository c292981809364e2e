"""Asking for a person, and the notices sent for other exception types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import failed_event


def test_asking_for_a_person_escalates_and_tells_the_shipper(system, customer):
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.reply(), customer.reply()
    customer.say("can I talk to a person please")
    assert "person from our team" in customer.reply()
    callback = system.shipper.wait_for_callbacks(1)[0]["payload"]
    assert callback["type"] == "case.escalated"
    assert callback["data"]["case_id"] == case_id and callback["data"]["reason"]
    assert system.case(case_id).status == "escalated"
    customer.say("hello??")
    assert "will reply here" in customer.reply()
    customer.say("anyone?")
    customer.silence()  # the bot stays out of the way after one holding message


def test_delay_notice_gives_the_new_eta_in_the_customers_language(system):
    eta = (datetime.now(UTC) + timedelta(days=2)).replace(hour=15, minute=0, second=0,
                                                          microsecond=0)
    event = failed_event(type_="delivery.delayed", language="es", windows=False,
                         new_eta=eta.isoformat())
    assert system.post_event(event).status_code == 202
    notice = system.customer("+15551230001").reply()
    assert "viene con retraso" in notice
