"""When the bot hands a conversation to a person: each rule, the queue entry, the ETA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.escalation import alarm_in, eta_minutes, eta_text
from support import failed_event


def _escalated(system, case_id: str) -> dict:
    """The case's row in the support queue (fails if it is not there)."""
    rows = system.runtime.inbox.conversations(status="escalated")
    row = next((r for r in rows if r["id"] == case_id), None)
    assert row is not None, f"{case_id} is not in the escalated queue: {rows}"
    return row


def test_asking_for_a_person_queues_the_case_with_a_summary_and_an_eta(system, customer):
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.offered()
    customer.say("can I talk to a person please")
    assert "person from our team" in customer.reply()
    eta = customer.reply()
    assert "30 minutes" in eta  # nobody at the console: the overdue limit is the honest ETA
    callback = system.shipper.wait_for_callbacks(1)[0]["payload"]
    assert callback["type"] == "case.escalated"
    assert callback["data"]["case_id"] == case_id
    assert callback["data"]["reason"] == "customer asked for a person"
    row = _escalated(system, case_id)
    assert row["escalation"]["reason"] == "customer asked for a person"
    assert row["escalation"]["assignee"] is None and row["escalation"]["eta_minutes"] == 30
    summary = row["escalation"]["summary"]
    assert summary["exception"]["type"] == "delivery.failed"
    assert summary["exception"]["reason"] == "recipient_absent"
    assert summary["flow"] == "reschedule"
    said = [m["text"] for m in summary["last_messages"]]
    assert "can I talk to a person please" in said
    assert any("Pick a new time" in t for t in said)  # the bot's offer is there too
    customer.say("hello??")
    assert "will reply here" in customer.reply()
    customer.say("anyone?")
    customer.silence()  # one holding message, then the bot stays out of the way


def test_the_eta_comes_from_live_queue_figures(system, customer):
    store = system.runtime.store
    store.touch_staff("sam@example.com")
    for seconds in (120, 240, 360):
        store.record_claim_wait(seconds)
    system.post_event(failed_event())
    customer.offered()
    customer.say("I want to speak to a human")
    customer.reply()
    eta = customer.reply()
    assert eta.startswith("Someone usually replies within about 4 minutes. Follow your case "
                          f"here: {system.settings.public_url}/t/"), eta


def test_two_messages_the_bot_cannot_read_in_a_row_go_to_a_person(system, customer):
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.offered()
    customer.say("purple monkey dishwasher")
    assert "didn't get that" in customer.reply()
    assert system.case(case_id).status == "awaiting_customer"
    customer.say("zebra trampoline saxophone")
    assert "not getting it" in customer.reply()
    customer.reply()  # the ETA
    assert system.case(case_id).status == "escalated"
    assert _escalated(system, case_id)["escalation"]["reason"] == "bot did not understand twice"


@pytest.mark.parametrize("between, answers", [
    ("where is my package", ("delivery was attempted", "Reply with a number")),
    ("thanks", ("You're welcome!",)),
])
def test_a_readable_message_between_two_unreadable_ones_resets_the_count(system, customer,
                                                                         between, answers):
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.offered()
    customer.say("purple monkey dishwasher")
    customer.reply()
    customer.say(between)
    for answer in answers:
        assert answer in customer.reply()
    customer.say("zebra trampoline saxophone")
    assert "didn't get that" in customer.reply()
    assert system.case(case_id).status == "awaiting_customer"


def test_three_answers_that_fail_validation_go_to_a_person(system, customer):
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.offered()
    for _ in range(2):
        customer.say("9")
        assert "1" in customer.reply()  # "pick 1 to 3", with the list again
    customer.say("9")
    assert "not getting it" in customer.reply()
    assert "within about" in customer.reply()
    customer.silence()  # not the flow's "pick 1 to 3" as well
    assert _escalated(system, case_id)["escalation"]["reason"] == \
        "answers not understood three times"


@pytest.mark.parametrize("text, kind, reason", [
    ("this is ridiculous, I'm calling my lawyer", "legal", "legal threat"),
    ("the box smells like gas, it's dangerous", "danger", "danger reported"),
    ("I need my insulin today, it's urgent", "urgent", "urgent request"),
    ("esto es una estafa", "anger", "angry customer"),
])
def test_anger_legal_threats_danger_and_urgency_go_to_a_person(system, customer, text, kind,
                                                                reason):
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.offered()
    customer.say(text)
    first = customer.reply()
    assert "person from our team" in first or "persona de nuestro equipo" in first
    customer.reply()  # the ETA
    row = _escalated(system, case_id)
    assert row["escalation"]["reason"] == reason
    assert row["escalation"]["summary"]["collected"] == {"message": text}


def test_words_denied_or_harmless_do_not_escalate(system, customer):
    case_id = system.post_event(failed_event()).json()["case_id"]
    customer.offered()
    customer.say("not urgent, option 1 is fine")
    assert "YES" in customer.reply()
    assert system.case(case_id).status == "awaiting_customer"


def test_alarm_words_are_whole_words_in_either_language():
    assert alarm_in("WTF is going on") == "anger"
    assert alarm_in("Voy a llamar a mi abogado") == "legal"
    assert alarm_in("es urgente, es un medicamento") == "urgent"
    assert alarm_in("no es peligroso") is None
    assert alarm_in("it's not dangerous at all") is None
    assert alarm_in("please leave it with the assistant") is None  # "ass" inside a word
    assert alarm_in("Sussex Street") is None  # "sue" inside a word
    assert alarm_in("leave it with Sue next door") is None
    assert alarm_in("the new address is 12 Oak Court, Fire Lane") is None
    assert alarm_in("tomorrow after 5") is None


def test_eta_figures():
    half_hour = 30 * 60
    assert eta_minutes(0, 0, [], half_hour) == 30  # nobody online: the overdue limit
    assert eta_minutes(0, 1, [], half_hour) == 5  # no history: five minutes a claim
    assert eta_minutes(3, 1, [60.0] * 5, half_hour) == 4  # three ahead, one agent
    assert eta_minutes(3, 2, [60.0] * 5, half_hour) == 2
    assert eta_minutes(40, 1, [600.0], half_hour) == 30  # never beyond the overdue limit
    assert eta_text("en", 1) == "2 minutes"
    assert eta_text("es", 45) == "45 minutos"
    assert eta_text("en", 120) == "2 hours"


def test_delay_notice_gives_the_new_eta_in_the_customers_language(system):
    eta = (datetime.now(UTC) + timedelta(days=2)).replace(hour=15, minute=0, second=0,
                                                          microsecond=0)
    event = failed_event(type_="delivery.delayed", language="es", windows=False,
                         new_eta=eta.isoformat())
    assert system.post_event(event).status_code == 202
    notice = system.customer("+15551230001").reply()
    assert "viene con retraso" in notice
