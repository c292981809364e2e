"""Side questions in the middle of a flow, end to end on SMS and Telegram.

"Where is my package?" is answered and the current question comes back; with two open
cases the bot first asks which parcel. Delivery instructions are stored, sent to the
shipper as ``case.instructions_added``, and the flow carries on where it was.
"""

from __future__ import annotations

import pytest
from chatter import EVERY_WAY, Chatter, callback_types, callbacks, says

from support import failed_event

WHERE = {"en": "where is my package?", "es": "¿dónde está mi paquete?"}
ATTEMPTED = {"en": ("delivery was attempted", "but failed", "nobody was home"),
             "es": ("se intentó entregar", "no se pudo", "no había nadie en casa")}
ASK_AGAIN = {"en": "needs a new delivery time", "es": "necesita un nuevo horario"}
INSTRUCTIONS = {"en": "please leave it with the concierge",
                "es": "por favor déjelo con el conserje"}
BOOKED = {"en": "Booked", "es": "Reservado"}
TWO_WAYS = pytest.mark.parametrize(("channel", "lang"), [("sms", "en"), ("telegram", "es")],
                                   ids=["sms-en", "telegram-es"])


def book_first_window(me: Chatter, offered: list[str]) -> str:
    """Pick window 1, confirm; the booking text."""
    me.choose(1)
    assert offered[0] in me.reply()
    me.yes()
    booked = me.reply()
    assert booked.startswith(BOOKED[me.lang]) and offered[0] in booked
    return booked


@EVERY_WAY
def test_where_is_my_package_mid_reschedule_is_answered_then_asked_again(
        system, channel, lang):
    me = Chatter(system, channel, lang)
    case_id = me.open(failed_event())
    me.first()
    offered = me.choices()

    me.say(WHERE[lang])
    status = me.reply()
    assert says(status, "A-1001", *ATTEMPTED[lang])
    again = me.reply()
    assert says(again, ASK_AGAIN[lang])
    assert me.choices() == offered

    book_first_window(me, offered)
    data = callbacks(system, "case.rescheduled")["case.rescheduled"]
    assert data["case_id"] == case_id
    assert system.case(case_id).status == "resolved"
    me.silence()
    assert callback_types(system) == ["case.rescheduled"]


@TWO_WAYS
def test_with_two_open_parcels_the_bot_asks_which_one_first(system, channel, lang):
    me = Chatter(system, channel, lang)
    older = failed_event(type_="delivery.delayed", windows=False, reason="weather",
                         new_eta="2030-01-15T15:00:00-05:00")
    older["shipment"]["order_ref"] = "B-2002"
    older_id = me.open(older)
    me.first()
    me.open(failed_event())
    me.first()
    offered = me.choices()

    me.say(WHERE[lang])
    which = me.reply()
    assert says(which, "Which parcel" if lang == "en" else "A qué paquete")
    parcels = me.choices()
    assert len(parcels) == 2
    assert sorted(p[-6:] for p in parcels) == ["A-1001", "B-2002"]
    me.choose(next(i for i, p in enumerate(parcels, 1) if p.endswith("B-2002")))
    status = me.reply()
    assert says(status, "B-2002", "is delayed" if lang == "en" else "viene con retraso")
    assert says(status, "Jan 15" if lang == "en" else "15 ene")
    assert says(me.reply(), ASK_AGAIN[lang])  # back to the current parcel's question
    assert me.choices() == offered

    book_first_window(me, offered)
    data = callbacks(system, "case.rescheduled")["case.rescheduled"]
    assert data["order_ref"] == "A-1001"
    assert system.case(older_id).status == "awaiting_customer"
    me.silence()


@EVERY_WAY
def test_delivery_instructions_are_passed_on_and_the_flow_continues(system, channel, lang):
    me = Chatter(system, channel, lang)
    event = failed_event()
    case_id = me.open(event)
    me.first()
    offered = me.choices()

    me.say(INSTRUCTIONS[lang])
    saved = me.reply()
    assert says(saved, INSTRUCTIONS[lang])
    assert says(saved, "passed this on to the driver" if lang == "en" else "repartidor")
    assert says(me.reply(), ASK_AGAIN[lang])
    assert me.choices() == offered

    data = callbacks(system, "case.instructions_added")["case.instructions_added"]
    assert data["case_id"] == case_id
    assert data["tracking_number"] == event["shipment"]["tracking_number"]
    assert data["instructions"] == INSTRUCTIONS[lang]
    assert system.case(case_id).details["instructions"] == INSTRUCTIONS[lang]

    book_first_window(me, offered)
    callbacks(system, "case.rescheduled")
    assert system.case(case_id).status == "resolved"
    me.silence()
    assert callback_types(system) == ["case.instructions_added", "case.rescheduled"]


@TWO_WAYS
def test_instructions_given_while_confirming_keep_the_pending_window(system, channel, lang):
    me = Chatter(system, channel, lang)
    me.open(failed_event())
    me.first()
    offered = me.choices()
    me.choose(2)
    assert offered[1] in me.reply()
    me.say(INSTRUCTIONS[lang])
    assert says(me.reply(), INSTRUCTIONS[lang])
    assert offered[1] in me.reply()  # the confirmation question again
    me.yes()
    assert me.reply().startswith(BOOKED[lang])
    data = callbacks(system, "case.rescheduled", "case.instructions_added")
    assert data["case.instructions_added"]["instructions"] == INSTRUCTIONS[lang]
    me.silence()
