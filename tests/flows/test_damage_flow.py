"""The damage flow as a pure state machine: description, photos, remedy, claim, escalation."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from replies import fits, said

from bot.models import Case
from channels.render import render_sms, segments
from flows.base import Callback, Escalate, FlowConfig, FlowContext, MediaItem, Resolve, Step
from flows.damage import DamageFlow, claim_reference
from flows.messages import TEXTS
from nlu.base import Entity, Intent, ParseResult

TZ = "America/New_York"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(TZ))
CASE_ID = "cs_0123456789abcdef"
REF = "CL-89ABCDEF"
flow = DamageFlow()


def parse(intent: str = "inform", text: str = "", **entities: object) -> ParseResult:
    return ParseResult(text=text, intent=Intent(intent, 0.9),
                       entities=tuple(Entity(k, v, 0, 0) for k, v in entities.items()))


def photos(*numbers: int) -> tuple[MediaItem, ...]:
    return tuple(MediaItem(f"m{n}", "image/jpeg", 1000 + n) for n in numbers)


def make_ctx(lang: str = "en", trigger: str = "event", media: tuple[MediaItem, ...] = (),
             value: float | None = None, limit: float | None = None,
             max_photos: int = 5) -> FlowContext:
    shipment = {"value": {"amount": value, "currency": "USD"}} if value is not None else {}
    case = Case(id=CASE_ID, type="delivery.damaged", status="awaiting_customer",
                tracking_number="1Z999AA10123456784", carrier="acme", order_ref="A-1001",
                recipient_name="Ana Diaz", phone="+15551230001", telegram_chat_id=None,
                language=lang, timezone=TZ, reason=None, details={}, shipment=shipment,
                created_at=NOW.isoformat(), updated_at=NOW.isoformat())
    config = FlowConfig(damage_value_limit=limit, max_photos=max_photos)
    return FlowContext(case=case, now=NOW, language=lang, config=config, media=media,
                       trigger=trigger)




def run(state: dict, answer: ParseResult, ctx: FlowContext) -> Step:
    return fits(flow.step(state, answer, ctx))


def report(**overrides: object) -> dict:
    data = {"claim_reference": REF, "description": "box crushed, lamp cracked",
            "photos": [{"media_id": "m1", "content_type": "image/jpeg"},
                       {"media_id": "m2", "content_type": "image/jpeg"}],
            "photos_skipped_reason": None, "preferred_remedy": "refund", "dangerous": False}
    return {**data, **overrides}


def test_every_damage_text_fits_two_segments_in_both_languages():
    values = {"name": " Maximiliana", "carrier": "Acme Logistics", "n": 4, "max": 5, "ref": REF,
              "parcel": "your parcel ORDER-2026-000123456"}
    for lang in ("en", "es"):
        for key, template in TEXTS[lang].items():
            if key.startswith("damage."):
                assert segments(render_sms(template.format(**values))) <= 2, (lang, key)


def test_event_start_greets_names_the_parcel_and_asks_for_a_description():
    step = fits(flow.start(make_ctx(), []))
    assert step.state["step"] == "describe"
    (first,) = step.replies  # channel rules ("Reply STOP") are the case opener's
    assert first.text.startswith("Hi Ana, Acme reports that your parcel A-1001 was damaged")
    assert "describe the damage" in first.text


def test_full_path_in_english_posts_the_claim_and_resolves():
    ctx = make_ctx()
    step = flow.start(ctx, [])
    step = run(step.state, parse("report_damage", "box crushed, lamp cracked"), ctx)
    assert step.state["step"] == "photos"
    assert "send 1 to 5 photos" in said(step) and "NO PHOTOS" in said(step)
    assert step.replies[0].quick_replies == (("No photos", "skip"),)
    step = run(step.state, parse("out_of_scope"), make_ctx(media=photos(1, 2)))
    assert said(step) == "Got it: 2 of 5 photos. Send more, or reply DONE."
    assert step.replies[0].quick_replies == (("Done", "done"),)
    step = run(step.state, parse("goodbye", "done"), ctx)
    assert step.state["step"] == "remedy"
    assert step.replies[0].choices == ("Replacement", "Refund", "Keep it with a discount")
    step = run(step.state, parse(option_number="2"), ctx)
    assert step.state["step"] == "done"
    assert REF in said(step) and "reply here" in said(step)
    assert step.effects == (Callback("case.damage_reported", report()),
                            Resolve("damage_reported", report()))


def test_full_path_in_spanish_with_a_captioned_photo_and_a_remedy_in_words():
    ctx = make_ctx("es")
    step = fits(flow.start(ctx, []))
    assert step.replies[0].text.startswith("Hola Ana, Acme nos informa que su paquete A-1001")
    assert len(step.replies) == 1
    step = run(step.state, parse("report_damage", "caja aplastada, lámpara rota"),
               make_ctx("es", media=photos(1)))
    assert said(step) == "Recibido: 1 de 5 fotos. Envíe más, o responda LISTO."
    assert step.replies[0].quick_replies == (("Listo", "listo"),)
    step = run(step.state, parse(), make_ctx("es", media=photos(2)))
    step = run(step.state, parse("affirm", "listo"), ctx)
    assert step.replies[0].choices == ("Reemplazo", "Reembolso", "Quedármelo con descuento")
    step = run(step.state, parse("delivery_instructions", "me lo quedo con descuento"), ctx)
    assert "número de reclamación es " + REF in said(step)
    expected = report(description="caja aplastada, lámpara rota",
                      preferred_remedy="keep_with_discount")
    assert step.effects[0] == Callback("case.damage_reported", expected)


def test_customer_report_without_photos_asks_for_the_description_briefly():
    step = fits(flow.start(make_ctx(trigger="customer"), [],
                           parse("report_damage", "my parcel arrived damaged")))
    assert step.state["step"] == "describe"
    assert [r.text for r in step.replies] == [
        "Sorry to hear that. Please describe the damage in a few words "
        "(e.g. box crushed, item cracked)."]


def test_customer_report_with_a_captioned_photo_is_description_and_photo():
    ctx = make_ctx(trigger="customer", media=photos(1))
    step = fits(flow.start(ctx, [], parse("report_damage", "screen cracked, see photo")))
    assert step.state["step"] == "photos"
    assert step.state["description"] == "screen cracked, see photo"
    assert said(step) == "Got it: 1 of 5 photos. Send more, or reply DONE."
    assert not any("STOP" in r.text for r in step.replies)


def test_a_photo_without_text_while_describing_keeps_it_and_asks_for_words():
    ctx = make_ctx()
    step = run(flow.start(ctx, []).state, parse("out_of_scope"), make_ctx(media=photos(1)))
    assert step.state["step"] == "describe" and len(step.state["photos"]) == 1
    assert "1 of 5 photos" in said(step) and "describe" in said(step)
    step = run(step.state, parse("report_damage", "handle snapped off"), ctx)
    assert step.state["step"] == "photos" and "1 of 5" in said(step)


def test_photos_stop_at_the_limit_and_the_flow_moves_on_by_itself():
    ctx = make_ctx()
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    step = run(step.state, parse(), make_ctx(media=photos(1, 2, 3, 4)))
    assert "4 of 5" in said(step) and step.state["step"] == "photos"
    step = run(step.state, parse(), make_ctx(media=photos(5, 6, 7)))
    assert step.state["step"] == "remedy"
    assert said(step).startswith("Got 5 photos, the most we can take. Thanks. What would")
    assert [p["media_id"] for p in step.state["photos"]] == ["m1", "m2", "m3", "m4", "m5"]
    step = run(step.state, parse(option_number="1"), ctx)
    assert len(step.effects[0].data["photos"]) == 5
    assert step.effects[0].data["preferred_remedy"] == "replacement"


def test_max_photos_comes_from_the_config_and_repeats_are_not_counted_twice():
    ctx = make_ctx(max_photos=2)
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    assert "1 to 2 photos" in said(step)
    step = run(step.state, parse(), make_ctx(max_photos=2, media=photos(1)))
    step = run(step.state, parse(), make_ctx(max_photos=2, media=photos(1)))
    assert "1 of 2" in said(step)
    step = run(step.state, parse(), make_ctx(max_photos=2, media=photos(2, 3)))
    assert step.state["step"] == "remedy" and len(step.state["photos"]) == 2


@pytest.mark.parametrize("lang,skip,reason_question", [
    ("en", parse("deny", "no photos"), "OK. Why can't you send photos?"),
    ("en", parse("cancel", "skip"), "OK. Why can't you send photos?"),
    ("es", parse("out_of_scope", "sin fotos"), "De acuerdo. ¿Por qué no puede enviar fotos?"),
])
def test_skipping_photos_asks_why_and_keeps_the_reason(lang, skip, reason_question):
    ctx = make_ctx(lang)
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    assert flow.claims(step.state, skip)
    step = run(step.state, skip, ctx)
    assert step.state["step"] == "skip_reason" and said(step) == reason_question
    step = run(step.state, parse("out_of_scope", "I threw the box away"), ctx)
    assert step.state["step"] == "remedy"
    step = run(step.state, parse(option_number="2"), ctx)
    assert step.effects[0] == Callback("case.damage_reported", report(
        description="box crushed", photos=[], photos_skipped_reason="I threw the box away"))


def test_a_skip_that_explains_itself_is_not_asked_why():
    ctx = make_ctx()
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    step = run(step.state, parse("out_of_scope", "I can't take photos, my phone is broken"), ctx)
    assert step.state["step"] == "remedy"
    assert step.state["photos_skipped_reason"] == "I can't take photos, my phone is broken"


def test_done_without_any_photo_and_chatter_get_a_clear_hint():
    ctx = make_ctx()
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    done = run(step.state, parse("goodbye", "done"), ctx)
    assert done.state["step"] == "photos" and done.state["misses"] == 1
    assert "attach photos" in said(done) and "NO PHOTOS" in said(done)
    step = run(step.state, parse(), make_ctx(media=photos(1)))
    chatter = run(step.state, parse("where_is_my_package", "when will you fix it"), ctx)
    assert chatter.state["step"] == "photos"
    assert said(chatter) == "Please attach more photos, or reply DONE if that's all " \
                            "(1 of 5 so far)."
    assert chatter.replies[0].quick_replies == (("Done", "done"),)


def test_three_unusable_answers_in_a_row_go_to_a_person():
    ctx = make_ctx()
    step = flow.start(ctx, [])
    for _ in range(2):
        step = run(step.state, parse("affirm", "ok"), ctx)
        assert "what is damaged" in said(step)
    step = run(step.state, parse("affirm", "ok"), ctx)
    assert step.state["step"] == "escalated"
    assert [type(e) for e in step.effects] == [Escalate]
    assert step.effects[0].reason == "customer not understood"


@pytest.mark.parametrize("lang,description,safety", [
    ("en", "the bottle inside is leaking some chemical", "don't open or handle it"),
    ("es", "la botella de dentro gotea un químico", "no lo abra ni lo manipule"),
])
def test_dangerous_damage_warns_at_once_then_escalates_with_the_evidence(lang, description,
                                                                         safety):
    ctx = make_ctx(lang)
    step = run(flow.start(ctx, []).state, parse("report_damage", description), ctx)
    assert safety in said(step) and step.state["dangerous"] is True
    assert step.state["step"] == "photos" and step.replies[0].quick_replies[0][1] != "done"
    step = run(step.state, parse(), make_ctx(lang, media=photos(1)))
    step = run(step.state, parse("affirm", "listo" if lang == "es" else "done"), ctx)
    assert step.state["step"] == "escalated"
    assert REF in said(step)
    data = report(description=description, photos=report()["photos"][:1],
                  preferred_remedy=None, dangerous=True)
    summary = {k: v for k, v in data.items() if k != "preferred_remedy"}
    assert step.effects == (Callback("case.damage_reported", data),
                            Escalate("dangerous damage", {**summary, "value": None}))


def test_dangerous_damage_photos_are_optional_and_not_asked_why():
    ctx = make_ctx(trigger="customer")
    step = fits(flow.start(ctx, [], parse("report_damage", "my parcel is smoking!")))
    assert "keep people and pets away" in said(step) and "NO PHOTOS" in said(step)
    step = run(step.state, parse("deny", "no photos"), ctx)
    assert step.state["step"] == "escalated"
    assert step.effects[1] == Escalate("dangerous damage", {
        "claim_reference": REF, "description": "my parcel is smoking!", "photos": [],
        "photos_skipped_reason": None, "dangerous": True, "value": None})


def test_danger_mentioned_at_the_remedy_question_escalates_instead():
    ctx = make_ctx()
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    step = run(step.state, parse(), make_ctx(media=photos(1)))
    step = run(step.state, parse("goodbye", "done"), ctx)
    step = run(step.state, parse("report_damage", "wait, it's leaking now"), ctx)
    assert step.state["step"] == "escalated"
    assert step.effects[0].data["description"] == "box crushed / wait, it's leaking now"
    assert step.effects[1].reason == "dangerous damage"


def test_a_claim_above_the_value_limit_goes_to_staff_after_the_photos():
    ctx = make_ctx(value=900.0, limit=500.0)
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed, lamp cracked"), ctx)
    step = run(step.state, parse(), make_ctx(value=900.0, limit=500.0, media=photos(1, 2)))
    step = run(step.state, parse("goodbye", "that's all"), ctx)
    assert step.state["step"] == "escalated"
    assert "person from our team will follow up" in said(step)
    data = report(preferred_remedy=None)
    summary = {k: v for k, v in data.items() if k != "preferred_remedy"}
    assert step.effects == (
        Callback("case.damage_reported", data),
        Escalate("claim above value limit",
                 {**summary, "value": {"amount": 900.0, "currency": "USD"}}))


@pytest.mark.parametrize("value,limit", [(500.0, 500.0), (900.0, None), (None, 10.0)])
def test_claims_at_or_below_the_limit_or_without_one_ask_the_remedy(value, limit):
    ctx = make_ctx(value=value, limit=limit)
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    step = run(step.state, parse("deny", "no"), ctx)
    step = run(step.state, parse("inform", "already recycled the box"), ctx)
    assert step.state["step"] == "remedy"


def test_a_remedy_the_flow_cannot_read_repeats_the_choices():
    ctx = make_ctx("es")
    step = run(flow.start(ctx, []).state, parse("inform", "caja aplastada"), ctx)
    step = run(step.state, parse(), make_ctx("es", media=photos(1)))
    step = run(step.state, parse("affirm", "listo"), ctx)
    again = run(step.state, parse(option_number="7"), ctx)
    assert again.state["step"] == "remedy" and again.replies[0].text == "Responda 1, 2 o 3:"
    assert len(again.replies[0].choices) == 3


def test_a_late_photo_at_the_remedy_question_is_kept_and_the_question_repeated():
    ctx = make_ctx()
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    step = run(step.state, parse(), make_ctx(media=photos(1)))
    step = run(step.state, parse("goodbye", "done"), ctx)
    late = run(step.state, parse(), make_ctx(media=photos(2)))
    assert late.state["step"] == "remedy" and late.state["misses"] == 0
    assert said(late) == "Photo kept (2 of 5). Thanks. What would you prefer?"
    assert len(late.replies[0].choices) == 3
    assert len(run(late.state, parse(option_number="1"), ctx).effects[0].data["photos"]) == 2


def test_photos_sent_after_skipping_count_again():
    ctx = make_ctx()
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    step = run(step.state, parse("cancel", "skip"), ctx)
    step = run(step.state, parse(), make_ctx(media=photos(1)))
    assert step.state["step"] == "photos" and step.state["photos_skipped_reason"] is None
    assert "1 of 5" in said(step)


def test_claim_reference_comes_from_the_case_id_alone():
    ctx = make_ctx()
    assert claim_reference(ctx.case) == REF
    assert flow.start(ctx, []).state["claim_reference"] == flow.start(ctx, []).state[
        "claim_reference"]


def test_what_the_flow_claims_from_the_engine():
    ctx = make_ctx()
    describe = flow.start(ctx, []).state
    assert flow.claims(describe, parse("help", "help the box is totally crushed"))
    assert not flow.claims(describe, parse("thanks", "thanks"))
    assert not flow.claims(describe, parse("human", "I want to talk to a person"))
    photos_step = run(describe, parse("inform", "box crushed"), ctx).state
    assert flow.claims(photos_step, parse("goodbye", "that's all"))
    assert not flow.claims(photos_step, parse("cancel", "cancel"))
    remedy = run(photos_step, parse("cancel", "skip"), ctx).state
    remedy = run(remedy, parse("inform", "box already gone"), ctx).state
    assert flow.claims(remedy, parse("cancel", "keep it"))
    assert flow.claims(remedy, parse("cancel", "money back"))


def test_after_the_claim_any_message_repeats_the_reference():
    ctx = make_ctx()
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    step = run(step.state, parse("cancel", "skip"), ctx)
    step = run(step.state, parse("inform", "gone"), ctx)
    step = run(step.state, parse(option_number="3"), ctx)
    after = run(step.state, parse("thanks", "thanks"), ctx)
    assert after.state == step.state and after.effects == ()
    assert said(after) == f"Your claim {REF} is with our team. They will reply here."
    assert flow.reserved(step.state, True, ctx) == Step(step.state)


def test_asking_for_a_person_midway_escalates_with_what_was_collected():
    ctx = make_ctx()
    step = run(flow.start(ctx, []).state, parse("inform", "box crushed"), ctx)
    step = run(step.state, parse("human", "person please", option_number="3"), ctx)
    assert step.state["step"] == "escalated"
    assert step.effects == (Escalate("customer asked for a person", {
        "claim_reference": REF, "description": "box crushed", "photos": [],
        "photos_skipped_reason": None, "dangerous": False, "value": None}),)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_prompts_repeat_each_question(lang):
    ctx = make_ctx(lang)
    state = flow.start(ctx, []).state
    seen = []
    for answer, media in [(parse("inform", "box crushed"), ()), (parse(), photos(1)),
                          (parse("goodbye", "done"), ())]:
        prompt = flow.prompt(state, ctx)
        assert segments(render_sms(prompt.text, prompt.choices)) <= 2
        seen.append(prompt)
        state = run(state, answer, make_ctx(lang, media=media)).state
    assert [p.quick_replies != () for p in seen] == [False, True, True]
    assert flow.prompt(state, ctx).choices == tuple(
        TEXTS[lang][f"damage.remedy.{r}"] for r in ("replacement", "refund", "keep_with_discount"))
