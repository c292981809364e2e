"""Staff take a conversation over: the bot is silent, staff talk through the customer's own
channel, then hand back to the bot or resolve; unclaimed escalations become overdue."""

from __future__ import annotations

import threading
import time

import pytest
from console_support import escalate

from bot.desk import Actor
from bot.errors import Conflict, Invalid
from bot.models import Outbound
from support import failed_event

SAM = Actor("sam@example.com", "Sam", "agent")
KIM = Actor("kim@example.com", "Kim", "agent")
BOSS = Actor("boss@example.com", "Lee", "supervisor")


def test_a_claimed_conversation_hears_only_from_staff(system, customer):
    case_id = escalate(system, customer)
    desk = system.runtime.desk
    row = desk.claim(case_id, SAM)
    assert row["status"] == "held" and row["escalation"]["assignee_name"] == "Sam"
    assert customer.reply() == "You're chatting with Sam from support."
    customer.say("my door code is 4411, and I'm home after 6")
    customer.say("help")
    customer.silence()  # not even the holding message or the HELP text
    sent = desk.send_message(case_id, SAM, "Thanks! I've booked tomorrow after 6pm for you.")
    assert customer.reply() == "Thanks! I've booked tomorrow after 6pm for you."
    system.drain()  # Twilio answered; the worker records the send right after
    view = system.runtime.inbox.conversation(case_id)
    said = [(m["author"], m["text"]) for m in view["transcript"]]
    assert ("customer", "my door code is 4411, and I'm home after 6") in said
    assert ("staff", "Thanks! I've booked tomorrow after 6pm for you.") in said
    mine = next(m for m in view["transcript"] if m["key"] == sent["key"])
    assert mine["author_name"] == "Sam" and mine["delivery"] in ("sent", "delivered")
    assert "bot.silenced" in system.timeline_kinds(case_id)


def wait_for_log(caplog, text: str, timeout: float = 15.0) -> None:
    """Wait until a queue job logged ``text`` (the timer fired and its job ran)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in r.getMessage() for r in caplog.records):
            return
        time.sleep(0.1)
    raise AssertionError(f"no log line with {text!r} within {timeout}s")


def test_a_reminder_timer_firing_during_takeover_sends_nothing(make_system, caplog):
    caplog.set_level("INFO", logger="doorstep.queue")
    system = make_system(REMINDER_AFTER_MINUTES="0.05")  # 3 s
    customer = system.customer("+15551230001")
    case_id = escalate(system, customer)
    system.runtime.desk.claim(case_id, SAM)
    customer.reply()
    wait_for_log(caplog, f"idle check remind for case {case_id}: stale")
    customer.silence()
    kinds = system.timeline_kinds(case_id)
    assert "reminder.sent" not in kinds and "case.expired" not in kinds


def test_new_events_during_takeover_reach_staff_not_the_customer(system, customer):
    event = failed_event()
    case_id = escalate(system, customer, tracking=event["shipment"]["tracking_number"])
    system.runtime.desk.claim(case_id, SAM)
    customer.reply()
    again = failed_event(tracking=event["shipment"]["tracking_number"])
    assert system.post_event(again).json()["case_id"] == case_id
    delivered = failed_event(type_="delivery.delivered",
                             tracking=event["shipment"]["tracking_number"])
    assert system.post_event(delivered).json()["case_id"] == case_id
    customer.silence()
    case = system.case(case_id)
    assert case.status == "escalated" and case.held_by == SAM.email
    assert system.timeline_kinds(case_id).count("event.received") == 3


def test_a_proactive_bot_text_queued_before_the_takeover_is_not_sent(system, customer):
    case_id = escalate(system, customer)
    system.runtime.desk.claim(case_id, SAM)
    customer.reply()
    late = Outbound(key=f"late:{case_id}", channel="sms", to=customer.phone,
                    text="Reminder: pick a new delivery time.", case_id=case_id,
                    proactive=True)
    system.runtime.queue.send([late])
    customer.silence()
    assert system.runtime.store.outbound_record(late.key)["status"] == "suppressed"


def test_staff_reply_goes_out_on_telegram_when_that_is_the_customers_channel(system):
    event = failed_event(phone=None)
    event["shipment"]["recipient"]["telegram_chat_id"] = 4242
    event["shipment"]["recipient"]["phone"] = None
    case_id = system.post_event(event).json()["case_id"]
    chat = system.chat(4242)
    chat.reply()
    chat.say("I want to talk to a person")
    chat.reply(), chat.reply()
    system.runtime.desk.claim(case_id, SAM)
    assert chat.reply() == "You're chatting with Sam from support."
    system.runtime.desk.send_message(case_id, SAM, "Hi, Sam here. Let me check.")
    assert chat.reply() == "Hi, Sam here. Let me check."


def test_two_agents_claiming_at_once_get_one_winner(system, customer):
    case_id = escalate(system, customer)
    outcomes: list[str] = []

    def claim(actor: Actor) -> None:
        try:
            system.runtime.desk.claim(case_id, actor)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=claim, args=(a,)) for a in (SAM, KIM)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    holder = system.case(case_id).held_by
    assert holder in (SAM.email, KIM.email)
    customer.reply()
    customer.silence()  # one "you're chatting with" message
    loser = KIM if holder == SAM.email else SAM
    with pytest.raises(Conflict):
        system.runtime.desk.send_message(case_id, loser, "hello")


def test_release_puts_it_back_and_a_supervisor_can_take_over(system, customer):
    desk = system.runtime.desk
    case_id = escalate(system, customer)
    desk.claim(case_id, SAM)
    customer.reply()
    with pytest.raises(Conflict):
        desk.release(case_id, KIM)
    assert desk.release(case_id, SAM)["status"] == "escalated"
    assert desk.claim(case_id, KIM)["escalation"]["assignee"] == KIM.email
    assert customer.reply() == "You're chatting with Kim from support."
    assert desk.release(case_id, BOSS)["status"] == "escalated"


def test_hand_back_resumes_the_dialogue_where_it_stood(system, customer):
    desk = system.runtime.desk
    case_id = escalate(system, customer)
    desk.claim(case_id, SAM)
    customer.reply()
    assert desk.hand_back(case_id, SAM)["status"] == "bot"
    back = customer.reply()
    assert back.startswith("Thanks for your patience. I'm the automated assistant again.")
    assert "1)" in back
    customer.book("2")
    callback_types = [c["payload"]["type"] for c in system.shipper.wait_for_callbacks(2)]
    assert callback_types == ["case.escalated", "case.rescheduled"]
    assert system.case(case_id).status == "resolved"


def test_hand_back_can_restart_the_flow(system, customer):
    desk = system.runtime.desk
    case_id = escalate(system, customer)
    desk.claim(case_id, SAM)
    customer.reply()
    desk.hand_back(case_id, SAM, restart=True)
    assert customer.reply() == "Thanks for your patience. I'm the automated assistant again."
    assert "Pick a new time" in customer.reply()


def test_resolving_records_the_code_and_note_and_tells_the_shipper(system, customer):
    desk = system.runtime.desk
    case_id = escalate(system, customer)
    desk.claim(case_id, SAM)
    customer.reply()
    with pytest.raises(Invalid):
        desk.resolve(case_id, SAM, "made_up_code", "x")
    with pytest.raises(Invalid):
        desk.resolve(case_id, SAM, "redelivery_scheduled", "   ")
    assert system.case(case_id).status == "escalated"
    with pytest.raises(Conflict):
        desk.resolve(case_id, KIM, "redelivery_scheduled", "not mine")
    row = desk.resolve(case_id, SAM, "redelivery_scheduled", "Booked Thu 5-9pm by phone")
    assert row["status"] == "closed"
    callbacks = system.shipper.wait_for_callbacks(2)
    resolved = callbacks[-1]["payload"]
    assert resolved["type"] == "case.resolved"
    assert resolved["data"]["resolution_code"] == "redelivery_scheduled"
    assert resolved["data"]["note"] == "Booked Thu 5-9pm by phone"
    case = system.case(case_id)
    assert case.resolution["resolution_code"] == "redelivery_scheduled"
    assert case.resolution["resolved_by"] == SAM.email
    customer.silence()
    customer.say("thanks!")
    assert "no open delivery issue" in customer.reply().lower()


def test_notes_are_internal(system, customer):
    case_id = escalate(system, customer)
    system.runtime.desk.add_note(case_id, KIM, "Customer called the depot too.")
    customer.silence()
    notes = system.runtime.inbox.conversation(case_id)["notes"]
    assert [(n["author_name"], n["text"]) for n in notes] == \
        [("Kim", "Customer called the depot too.")]


def test_an_unclaimed_escalation_becomes_overdue_with_an_honest_update(make_system):
    system = make_system(ESCALATION_OVERDUE_MINUTES="0.05")  # 3 s
    customer = system.customer("+15551230001")
    case_id = escalate(system, customer)
    update = customer.reply(timeout=15)
    assert "taking longer than usual" in update
    rows = system.runtime.inbox.conversations(view="overdue")
    assert [r["id"] for r in rows] == [case_id]
    assert system.runtime.inbox.queue_figures()["overdue"] == 1
    system.runtime.desk.claim(case_id, SAM)
    assert customer.reply() == "You're chatting with Sam from support."
    assert system.runtime.inbox.conversations(view="overdue") == []


def test_a_claim_in_time_means_no_overdue_message(make_system, caplog):
    caplog.set_level("INFO", logger="doorstep.queue")
    system = make_system(ESCALATION_OVERDUE_MINUTES="0.05")
    customer = system.customer("+15551230001")
    case_id = escalate(system, customer)
    system.runtime.desk.claim(case_id, SAM)
    customer.reply()
    wait_for_log(caplog, f"overdue check for case {case_id}: stale")
    customer.silence()
    assert "escalation.overdue" not in system.timeline_kinds(case_id)


def test_inbox_lists_filters_and_finds_conversations(system, customer):
    inbox = system.runtime.inbox
    case_id = escalate(system, customer)
    other = system.post_event(failed_event(phone="+15551230002",
                                           type_="delivery.damaged")).json()["case_id"]
    tracking = system.case(case_id).tracking_number
    assert [r["id"] for r in inbox.conversations()] == [case_id]
    assert [r["id"] for r in inbox.conversations(view="unassigned")] == [case_id]
    assert [r["id"] for r in inbox.conversations(status="bot")] == [other]
    assert [r["id"] for r in inbox.conversations(status="bot", type_="delivery.failed")] == []
    for query in (tracking.lower(), "(555) 123-0001", "5551230001", "ana diaz"):
        found = [r["id"] for r in inbox.conversations(status="escalated", q=query)]
        assert found == [case_id], query
    system.runtime.desk.claim(case_id, SAM)
    assert [r["id"] for r in inbox.conversations(view="mine", staff_email=SAM.email)] == \
        [case_id]
    assert inbox.conversations(view="mine", staff_email=KIM.email) == []
    assert inbox.conversations(view="unassigned") == []
    row = inbox.conversations(status="held")[0]
    assert row["last_message"]["text"] == "You're chatting with Sam from support."
