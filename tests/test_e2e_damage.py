"""Damage claims end to end: description, photos over MMS or Telegram, remedy, escalations.

Also the files a customer may send that cannot be used: too big, not a photo, or an MMS
whose media never arrives. The customer is told why, and the rest of the turn goes on.
"""

from __future__ import annotations

import pytest
from chatter import EVERY_WAY, Chatter, callback_types, callbacks, says
from images import jpeg_bytes, pdf_bytes, png_bytes

from support import failed_event

DESCRIPTION = {"en": "the box is crushed and the lamp inside is cracked",
               "es": "la caja está aplastada y la lámpara de adentro está rota"}
LEAKING = {"en": "the box is wet, it's leaking", "es": "la caja está mojada, está goteando"}
NO_PHOTOS = {"en": ("No photos", "no photos"), "es": ("Sin fotos", "sin fotos")}
DONE = {"en": ("Done", "done"), "es": ("Listo", "listo")}
SKIP_REASON = {"en": "my phone camera is broken", "es": "la cámara de mi teléfono no funciona"}
CLAIM = {"en": "claim reference is CL-", "es": "número de reclamación es CL-"}
ONE_WAY_EACH = pytest.mark.parametrize(("channel", "lang"), [("sms", "es"), ("telegram", "en")],
                                       ids=["sms-es", "telegram-en"])


def damaged_event(**details: object) -> dict:
    return failed_event(type_="delivery.damaged", windows=False, reason="damaged_in_transit",
                        **details)


def describe(me: Chatter, text: str) -> str:
    """Open the claim's first question, answer it; the bot's answer."""
    first = me.first()
    assert says(first, "damaged in transit" if me.lang == "en" else "se dañó")
    me.say(text)
    return me.reply()


def refusals(system, case_id: str) -> list[str]:
    """Why files were refused, from the case timeline."""
    return [e["reason"] for e in system.runtime.store.timeline(case_id)
            if e["kind"] == "media.refused"]


def stored(system, media_id: str) -> bytes:
    found = system.runtime.engine.media.store.get(media_id)
    assert found is not None, f"{media_id} is not in the media store"
    return found[0]


@EVERY_WAY
def test_damage_claim_with_photos_and_remedy_reports_the_stored_photos(
        system, media_server, channel, lang):
    me = Chatter(system, channel, lang, media_server=media_server)
    event = damaged_event()
    case_id = me.open(event)
    ask_photos = describe(me, DESCRIPTION[lang])
    assert says(ask_photos, "photos" if lang == "en" else "fotos")
    if channel == "telegram":
        assert me.buttons() == [NO_PHOTOS[lang][0]]

    me.photo(png_bytes(), "image/png")
    assert says(me.reply(), "1 of 5" if lang == "en" else "1 de 5")
    me.photo(jpeg_bytes(), "image/jpeg")
    assert says(me.reply(), "2 of 5" if lang == "en" else "2 de 5")
    me.tap(*DONE[lang])
    remedy = me.reply()
    assert me.choices() == (["Replacement", "Refund", "Keep it with a discount"] if lang == "en"
                            else ["Reemplazo", "Reembolso", "Quedármelo con descuento"])
    assert says(remedy, "What would you prefer" if lang == "en" else "Qué prefiere")
    me.choose(1)
    done = me.reply()
    assert says(done, CLAIM[lang])

    data = callbacks(system, "case.damage_reported")["case.damage_reported"]
    assert data["case_id"] == case_id
    assert data["tracking_number"] == event["shipment"]["tracking_number"]
    assert data["claim_reference"].startswith("CL-") and data["claim_reference"] in done
    assert data["description"] == DESCRIPTION[lang]
    assert [p["content_type"] for p in data["photos"]] == ["image/png", "image/jpeg"]
    assert stored(system, data["photos"][0]["media_id"]) == png_bytes()
    assert stored(system, data["photos"][1]["media_id"]) == jpeg_bytes()
    assert data["photos_skipped_reason"] is None
    assert data["preferred_remedy"] == "replacement"
    assert data["dangerous"] is False
    assert system.case(case_id).status == "resolved"
    me.silence()
    assert callback_types(system) == ["case.damage_reported"]


@EVERY_WAY
def test_a_leaking_parcel_is_escalated_with_its_report(system, media_server, channel, lang):
    me = Chatter(system, channel, lang, media_server=media_server)
    case_id = me.open(damaged_event())
    answer = describe(me, LEAKING[lang])
    assert says(answer, "For your safety" if lang == "en" else "Por su seguridad")
    me.tap(*NO_PHOTOS[lang])
    escalated = me.reply()
    assert says(escalated, CLAIM[lang], "person from our team" if lang == "en"
                else "persona de nuestro equipo")

    sent = callbacks(system, "case.damage_reported", "case.escalated")
    report = sent["case.damage_reported"]
    assert report["dangerous"] is True and report["description"] == LEAKING[lang]
    assert report["photos"] == [] and report["preferred_remedy"] is None
    assert sent["case.escalated"]["reason"] == "dangerous damage"
    assert sent["case.escalated"]["summary"]["claim_reference"] == report["claim_reference"]
    assert sent["case.escalated"]["summary"]["dangerous"] is True
    assert system.case(case_id).status == "escalated"
    me.eta()
    me.silence()


@ONE_WAY_EACH
def test_a_claim_above_the_value_limit_goes_to_a_person(make_system, media_server, channel,
                                                        lang):
    system = make_system(DAMAGE_VALUE_LIMIT="100")  # the parcel is worth 129.99
    me = Chatter(system, channel, lang, media_server=media_server)
    case_id = me.open(damaged_event())
    describe(me, DESCRIPTION[lang])
    me.photo(png_bytes())
    me.reply()
    me.tap(*DONE[lang])
    assert says(me.reply(), CLAIM[lang])

    sent = callbacks(system, "case.damage_reported", "case.escalated")
    assert len(sent["case.damage_reported"]["photos"]) == 1
    assert sent["case.damage_reported"]["preferred_remedy"] is None
    assert sent["case.escalated"]["reason"] == "claim above value limit"
    assert sent["case.escalated"]["summary"]["value"] == {"amount": 129.99, "currency": "USD"}
    assert system.case(case_id).status == "escalated"
    me.eta()
    me.silence()


@ONE_WAY_EACH
def test_photos_can_be_skipped_with_a_reason(system, channel, lang):
    me = Chatter(system, channel, lang)
    case_id = me.open(damaged_event())
    describe(me, DESCRIPTION[lang])
    me.tap(*NO_PHOTOS[lang])
    assert says(me.reply(), "Why can't you send photos" if lang == "en"
                else "Por qué no puede enviar fotos")
    me.say(SKIP_REASON[lang])
    me.reply()
    me.choose(3)
    assert says(me.reply(), CLAIM[lang])

    data = callbacks(system, "case.damage_reported")["case.damage_reported"]
    assert data["photos"] == []
    assert data["photos_skipped_reason"] == SKIP_REASON[lang]
    assert data["preferred_remedy"] == "keep_with_discount"
    assert system.case(case_id).status == "resolved"
    me.silence()


# -- files that cannot be used ------------------------------------------------------
def test_a_25_mb_telegram_photo_is_refused_as_too_big_and_nothing_is_stored(system):
    me = Chatter(system, "telegram", "en")
    case_id = me.open(damaged_event())
    describe(me, DESCRIPTION["en"])
    me.telegram_photo(png_bytes(), file_size=25 * 2**20)
    too_big = me.reply()
    assert "too big" in too_big and "10 MB" in too_big
    assert "photos" in me.reply()  # the question again
    assert refusals(system, case_id) == ["too_large"]
    assert "media.received" not in system.timeline_kinds(case_id)
    media_dir = system.settings.media_dir
    assert not media_dir.exists() or list(media_dir.iterdir()) == []
    me.silence()
    assert system.shipper.callbacks == []


@pytest.mark.parametrize("channel", ["telegram", "sms"])
def test_a_pdf_called_photo_jpg_gets_the_only_photos_answer(system, media_server, channel):
    me = Chatter(system, channel, "en", media_server=media_server)
    case_id = me.open(damaged_event())
    describe(me, DESCRIPTION["en"])
    if channel == "telegram":
        me.telegram_document(pdf_bytes(), "photo.jpg", "image/jpeg")
    else:
        me.photo(pdf_bytes(), "image/jpeg")
    refused = me.reply()
    assert "only use photos" in refused
    assert "photos" in me.reply()
    assert refusals(system, case_id) == ["unsupported"]
    assert "media.received" not in system.timeline_kinds(case_id)
    me.silence()


def test_an_mms_whose_media_times_out_is_refused_but_its_text_is_answered(system, media_server):
    me = Chatter(system, "sms", "en", media_server=media_server)
    case_id = me.open(damaged_event())
    me.first()
    me.photo(png_bytes(), caption=DESCRIPTION["en"], delay_s=5)
    answers = [me.reply(timeout=15), me.reply()]
    assert any("couldn't receive your photo" in a for a in answers), answers
    assert any("Please send 1 to 5 photos" in a for a in answers), answers
    assert refusals(system, case_id) == ["unavailable"]
    assert "media.received" not in system.timeline_kinds(case_id)
    me.photo(png_bytes())  # sent again, it arrives
    assert "1 of 5" in me.reply()
    me.silence()
