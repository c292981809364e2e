"""Reschedule and address correction, end to end on SMS and Telegram, in English and Spanish.

Each test drives the real webhooks (shipper event in, customer messages in) and checks
what the customer reads and the signed callback the shipper receives.
"""

from __future__ import annotations

from datetime import datetime

from chatter import EVERY_WAY, Chatter, callback_types, callbacks, says

from support import failed_event

BOOKED = {"en": "Booked", "es": "Reservado"}
NEW_ADDRESS = {"en": "45 Elm Street Apt 2, Boston MA 02110",
               "es": "mi nueva dirección es 45 Elm Street apto 2, Boston MA 02110"}
UNIT = {"en": "Apt 2", "es": "Apto 2"}  # as the customer wrote it
INSTRUCTIONS = {"en": "please leave it with the concierge",
                "es": "por favor déjelo con el conserje"}
PICKUP_POINTS = "Acme Depot|1 Dock Rd, Boston MA 02110;Corner Shop|9 Main St, Boston MA 02111"


@EVERY_WAY
def test_reschedule_by_choice_books_the_window_and_resolves_the_case(system, channel, lang):
    me = Chatter(system, channel, lang)
    event = failed_event()
    case_id = me.open(event)

    first = me.first()
    assert says(first, "couldn't deliver" if lang == "en" else "no pudo entregar")
    offered = me.choices()
    assert len(offered) == 3
    if channel == "sms":
        assert "1) " in first and "3) " in first
    else:
        assert "1) " not in first  # the choices are buttons

    me.choose(2)
    confirm = me.reply()
    assert offered[1] in confirm
    assert ("YES" if lang == "en" else "SI") in confirm
    if channel == "telegram":
        assert me.buttons() == (["Yes", "No"] if lang == "en" else ["Sí", "No"])
    me.yes()
    booked = me.reply()
    assert booked.startswith(BOOKED[lang]) and offered[1] in booked

    data = callbacks(system, "case.rescheduled")["case.rescheduled"]
    assert data["case_id"] == case_id
    assert data["tracking_number"] == event["shipment"]["tracking_number"]
    assert data["order_ref"] == "A-1001"
    window = event["details"]["available_windows"][1]
    assert datetime.fromisoformat(data["window"]["start"]) == datetime.fromisoformat(
        window["start"])
    assert datetime.fromisoformat(data["window"]["end"]) == datetime.fromisoformat(window["end"])
    assert system.case(case_id).status == "resolved"
    me.silence()
    assert callback_types(system) == ["case.rescheduled"]


@EVERY_WAY
def test_address_in_free_text_is_confirmed_and_sent_with_instructions(system, channel, lang):
    me = Chatter(system, channel, lang)
    event = failed_event(type_="delivery.address_invalid", reason="address_not_found")
    case_id = me.open(event)
    first = me.first()
    assert says(first, "couldn't find the address" if lang == "en" else "no encontró la dirección")

    me.say(NEW_ADDRESS[lang])
    confirm = me.reply()
    assert "45 Elm Street, " + UNIT[lang] + ", Boston, MA 02110" in confirm
    if channel == "telegram":
        assert me.buttons() == (["Yes", "No"] if lang == "en" else ["Sí", "No"])
    me.yes()
    ask = me.reply()
    assert says(ask, "delivery instructions" if lang == "en" else "instrucción de entrega")
    me.say(INSTRUCTIONS[lang])
    saved = me.reply()
    assert says(saved, "Thank you" if lang == "en" else "Gracias", "45 Elm Street")

    data = callbacks(system, "case.address_changed")["case.address_changed"]
    assert data["case_id"] == case_id
    assert data["tracking_number"] == event["shipment"]["tracking_number"]
    assert data["address"] == {"line1": "45 Elm Street", "line2": UNIT[lang], "city": "Boston",
                               "region": "MA", "postal_code": "02110", "country": "US"}
    assert data["instructions"] == INSTRUCTIONS[lang]
    case = system.case(case_id)
    assert case.status == "resolved"
    assert case.shipment["address"]["line1"] == "45 Elm Street"
    me.silence()
    assert callback_types(system) == ["case.address_changed"]


def test_an_address_outside_the_service_area_offers_pickup_points(make_system):
    system = make_system(SERVICE_AREA="021,10001", PICKUP_POINTS=PICKUP_POINTS)
    me = Chatter(system, "sms", "en")
    case_id = me.open(failed_event(type_="delivery.address_invalid"))
    me.first()

    me.say("45 Elm Street Apt 2, Springfield IL 62701")
    outside = me.reply()
    assert "don't deliver to ZIP 62701" in outside
    points = me.choices()
    assert points == ["Acme Depot, 1 Dock Rd, Boston MA 02110",
                      "Corner Shop, 9 Main St, Boston MA 02111", "Talk to a person"]
    me.choose(2)
    done = me.reply()
    assert "Corner Shop" in done

    data = callbacks(system, "case.pickup_selected")["case.pickup_selected"]
    assert data["case_id"] == case_id
    assert data["pickup_point"] == {"name": "Corner Shop", "address": "9 Main St, Boston MA 02111"}
    assert system.case(case_id).status == "resolved"
    me.silence()
    assert callback_types(system) == ["case.pickup_selected"]


def test_pickup_points_are_buttons_on_telegram_in_spanish(make_system):
    system = make_system(SERVICE_AREA="021,10001", PICKUP_POINTS=PICKUP_POINTS)
    me = Chatter(system, "telegram", "es")
    case_id = me.open(failed_event(type_="delivery.address_invalid"))
    me.first()
    me.say("mi nueva dirección es 45 Elm Street apto 2, Springfield IL 62701")
    assert "62701" in me.reply()
    assert me.choices()[0].startswith("Acme Depot")
    me.choose(1)
    assert "Acme Depot" in me.reply()
    data = callbacks(system, "case.pickup_selected")["case.pickup_selected"]
    assert data["pickup_point"]["name"] == "Acme Depot"
    assert system.case(case_id).status == "resolved"
    me.silence()


def test_my_address_is_wrong_mid_reschedule_switches_to_the_address_flow(system):
    me = Chatter(system, "sms", "en")
    case_id = me.open(failed_event())
    me.first()
    me.say("my address is wrong")
    ask = me.reply()
    assert "correct delivery address" in ask
    me.say("45 Elm Street Apt 2, Boston MA 02110")
    assert "45 Elm Street, Apt 2, Boston, MA 02110" in me.reply()
    me.yes()
    me.reply()
    me.no()
    assert "45 Elm Street" in me.reply()

    data = callbacks(system, "case.address_changed")["case.address_changed"]
    assert data["address"]["line1"] == "45 Elm Street"
    assert data["address"]["postal_code"] == "02110"
    assert data["instructions"] is None
    assert "flow.switched" in system.timeline_kinds(case_id)
    assert system.case(case_id).status == "resolved"
    me.silence()
    assert callback_types(system) == ["case.address_changed"]


def test_telegram_customer_switches_to_the_address_flow_in_spanish(system):
    me = Chatter(system, "telegram", "es")
    me.open(failed_event())
    me.first()
    me.say("mi dirección está mal")
    assert says(me.reply(), "dirección")
    me.say("45 Elm Street apto 2, Boston MA 02110")
    assert "45 Elm Street" in me.reply()
    me.yes()
    me.reply()
    me.tap("Sin instrucciones", "no")
    assert "45 Elm Street" in me.reply()
    data = callbacks(system, "case.address_changed")["case.address_changed"]
    assert data["address"]["line2"] == "Apto 2" and data["instructions"] is None
    me.silence()


# -- a newer event overtakes the conversation ----------------------------------------
@EVERY_WAY
def test_a_delivered_event_mid_confirmation_closes_the_case_and_books_nothing(
        system, channel, lang):
    me = Chatter(system, channel, lang)
    event = failed_event()
    case_id = me.open(event)
    me.first()
    offered = me.choices()
    me.choose(1)
    assert offered[0] in me.reply()

    delivered = failed_event(type_="delivery.delivered", windows=False,
                             tracking=event["shipment"]["tracking_number"])
    assert me.open(delivered) == case_id
    told = me.reply()
    assert says(told, "has been delivered" if lang == "en" else "ya fue entregado", "A-1001")
    data = callbacks(system, "case.resolved")["case.resolved"]
    assert data["case_id"] == case_id and data["resolution"] == "delivered"
    assert system.case(case_id).status == "resolved"

    me.yes()  # a late answer to the confirmation question
    late = me.reply()
    assert says(late, "no open delivery issue" if lang == "en"
                else "ninguna entrega pendiente")
    me.silence()
    assert callback_types(system) == ["case.resolved"]
    assert system.case(case_id).resolution["outcome"] == "delivered"
