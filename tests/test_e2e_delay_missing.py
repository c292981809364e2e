"""Late and missing parcels end to end, on SMS and Telegram, in English and Spanish.

A delay notice shows the new estimate in the customer's own timezone and lets them
accept it, pick another time (the reschedule flow) or ask for a person. A parcel that
went astray, or that the customer says never came, ends with a person and a summary;
the bot never talks about refunds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from chatter import EVERY_WAY, Chatter, callback_types, callbacks, plain, says

from support import failed_event

TZ = "America/Los_Angeles"  # the estimate is sent in UTC; the customer reads Pacific time
DAYS = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")}
MONTHS = {"en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec"),
          "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov",
                 "dic")}
FINE = {"en": ["That's fine", "Choose another time", "Talk to a person"],
        "es": ["Está bien", "Elegir otro horario", "Hablar con una persona"]}
LAST_CHECKED = {"en": "this morning around 9", "es": "esta mañana a las 9"}
NEVER_GOT = {"en": "I never got my parcel", "es": "nunca recibí mi paquete"}
BOOKED = {"en": "Booked", "es": "Reservado"}
TWO_WAYS = pytest.mark.parametrize(("channel", "lang"), [("sms", "en"), ("telegram", "es")],
                                   ids=["sms-en", "telegram-es"])


def late_evening_eta() -> tuple[str, str, dict[str, str]]:
    """An estimate two days out at 5:30pm Pacific, written in UTC (the next day there);
    the ISO value sent and how each language should show it."""
    local_day = datetime.now(ZoneInfo(TZ)).date() + timedelta(days=2)
    local = datetime(local_day.year, local_day.month, local_day.day, 17, 30, tzinfo=ZoneInfo(TZ))
    sent = local.astimezone(UTC)
    assert sent.date() != local.date()  # a naive reading would show the wrong day
    wd, month = local.weekday(), local.month - 1
    shown = {"en": f"{DAYS['en'][wd]} {MONTHS['en'][month]} {local.day}, 5:30pm",
             "es": f"{DAYS['es'][wd]} {local.day} {MONTHS['es'][month]}, 17:30 h"}
    return sent.isoformat().replace("+00:00", "Z"), local.isoformat(), shown


def delayed_event(new_eta: str) -> dict:
    return failed_event(type_="delivery.delayed", tz=TZ, reason="weather", new_eta=new_eta)


def no_refund_talk(me: Chatter) -> None:
    for text in me.sent_texts():
        assert not any(word in plain(text).lower() for word in ("refund", "reembolso")), text


# -- delay ---------------------------------------------------------------------------
@EVERY_WAY
def test_delay_shows_the_local_estimate_and_thats_fine_acknowledges_it(system, channel, lang):
    me = Chatter(system, channel, lang)
    sent, local, shown = late_evening_eta()
    event = delayed_event(sent)
    case_id = me.open(event)

    notice = me.first()
    assert says(notice, "running late" if lang == "en" else "viene con retraso", shown[lang])
    assert [plain(c) for c in me.choices()] == [plain(c) for c in FINE[lang]]
    me.choose(1)
    accepted = me.reply()
    assert says(accepted, "Thanks" if lang == "en" else "Gracias", shown[lang])

    data = callbacks(system, "case.delay_acknowledged")["case.delay_acknowledged"]
    assert data["case_id"] == case_id
    assert data["tracking_number"] == event["shipment"]["tracking_number"]
    assert datetime.fromisoformat(data["new_eta"]) == datetime.fromisoformat(local)
    assert system.case(case_id).status == "resolved"
    me.silence()
    assert callback_types(system) == ["case.delay_acknowledged"]


@EVERY_WAY
def test_choosing_another_time_on_a_delay_books_a_window(system, channel, lang):
    me = Chatter(system, channel, lang)
    event = delayed_event(late_evening_eta()[0])
    case_id = me.open(event)
    me.first()
    me.choose(2)
    windows = me.reply()
    assert says(windows, "Pick a new delivery time" if lang == "en" else "Elija un nuevo horario")
    offered = me.choices()
    assert len(offered) == 3
    me.choose(3)
    assert offered[2] in me.reply()
    me.yes()
    booked = me.reply()
    assert booked.startswith(BOOKED[lang]) and offered[2] in booked

    data = callbacks(system, "case.rescheduled")["case.rescheduled"]
    assert data["window"]["start"] == event["details"]["available_windows"][2]["start"]
    assert system.case(case_id).status == "resolved"
    me.silence()
    assert callback_types(system) == ["case.rescheduled"]


@EVERY_WAY
def test_asking_for_a_person_on_a_delay_escalates(system, channel, lang):
    me = Chatter(system, channel, lang)
    sent, local, _ = late_evening_eta()
    case_id = me.open(delayed_event(sent))
    me.first()
    me.choose(3)
    assert says(me.reply(), "a person from our team" if lang == "en"
                else "una persona de nuestro equipo")

    data = callbacks(system, "case.escalated")["case.escalated"]
    assert data["reason"] == "customer asked for a person"
    assert datetime.fromisoformat(data["summary"]["new_eta"]) == datetime.fromisoformat(local)
    assert system.case(case_id).status == "escalated"
    me.eta()
    me.silence()
    assert callback_types(system) == ["case.escalated"]


# -- missing -------------------------------------------------------------------------
def answer_missing_questions(me: Chatter) -> None:
    """When did you last check? Did you ask the neighbours? The customer answers both."""
    assert says(me.reply(), "When did you last check" if me.lang == "en"
                else "Cuándo lo buscó por última vez")
    me.say(LAST_CHECKED[me.lang])
    assert says(me.reply(), "neighbours" if me.lang == "en" else "vecinos")
    if me.channel == "telegram":
        assert me.buttons() == (["Yes", "No"] if me.lang == "en" else ["Sí", "No"])
    me.yes()
    assert says(me.reply(), "A person from our team will look into it" if me.lang == "en"
                else "Una persona de nuestro equipo lo investigará")


def check_missing_report(system, me: Chatter, case_id: str) -> None:
    sent = callbacks(system, "case.missing_reported", "case.escalated")
    report = sent["case.missing_reported"]
    assert report["case_id"] == case_id
    today = datetime.now(ZoneInfo("America/New_York")).date()
    assert report["last_checked"] == LAST_CHECKED[me.lang]
    assert report["last_checked_date"] == today.isoformat()
    assert report["checked_neighbours_and_safe_place"] is True
    escalated = sent["case.escalated"]
    assert escalated["reason"] == "parcel missing"
    assert escalated["summary"] == {k: v for k, v in report.items()
                                    if k not in ("case_id", "tracking_number", "order_ref")}
    assert system.case(case_id).status == "escalated"
    me.eta()
    me.silence()
    no_refund_talk(me)


@EVERY_WAY
def test_a_misrouted_parcel_that_never_came_goes_to_a_person_with_a_summary(
        system, channel, lang):
    me = Chatter(system, channel, lang)
    case_id = me.open(failed_event(type_="delivery.misrouted", windows=False,
                                   reason="wrong_depot"))
    notice = me.first()
    assert says(notice, "wrong depot" if lang == "en" else "otro depósito")
    me.say(NEVER_GOT[lang])
    answer_missing_questions(me)
    check_missing_report(system, me, case_id)


@TWO_WAYS
def test_never_got_my_parcel_mid_reschedule_becomes_a_missing_report(system, channel, lang):
    me = Chatter(system, channel, lang)
    case_id = me.open(failed_event())
    me.first()
    me.say(NEVER_GOT[lang])
    answer_missing_questions(me)
    assert "flow.switched" in system.timeline_kinds(case_id)
    check_missing_report(system, me, case_id)
    assert "case.rescheduled" not in callback_types(system)


def test_the_day_the_customer_last_looked_is_a_day_in_the_past(system):
    me = Chatter(system, "sms", "en")
    me.open(failed_event(type_="delivery.misrouted", windows=False, reason="wrong_depot"))
    me.first()
    me.say(NEVER_GOT["en"])
    me.reply()
    me.say("yesterday evening")
    me.reply()
    me.no()
    me.reply()
    report = callbacks(system, "case.missing_reported")["case.missing_reported"]
    yesterday = datetime.now(ZoneInfo("America/New_York")).date() - timedelta(days=1)
    assert report["last_checked"] == "yesterday evening"
    assert report["checked_neighbours_and_safe_place"] is False
    assert report["last_checked_date"] == yesterday.isoformat()
    me.eta()
    me.silence()
