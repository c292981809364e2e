"""The missing-parcel flow as a pure state machine: a few questions, then a person."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from replies import fits as _fits
from replies import said as _said

from bot.models import Case
from channels.render import render_sms, segments
from flows.base import Callback, Escalate, FlowContext, MediaItem, Step
from flows.messages import TEXTS
from flows.missing import MissingFlow, yes_or_no
from nlu.base import Entity, Intent, ParseResult

TZ = "America/New_York"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(TZ))
REFUND_WORDS = ("refund", "reembolso", "money back", "devol")
flow = MissingFlow()


def parse(intent: str = "inform", text: str = "", **entities: object) -> ParseResult:
    return ParseResult(text=text, intent=Intent(intent, 0.9),
                       entities=tuple(Entity(k, v, 0, 0) for k, v in entities.items()))


def make_ctx(lang: str = "en", trigger: str = "event",
             media: tuple[MediaItem, ...] = ()) -> FlowContext:
    case = Case(id="cs_1", type="delivery.misrouted", status="awaiting_customer",
                tracking_number="1Z999AA10123456784", carrier="acme", order_ref="A-1001",
                recipient_name="Ana Diaz", phone="+15551230001", telegram_chat_id=None,
                language=lang, timezone=TZ, reason=None, details={}, shipment={},
                created_at=NOW.isoformat(), updated_at=NOW.isoformat())
    return FlowContext(case=case, now=NOW, language=lang, trigger=trigger, media=media)




def run(state: dict, answer: ParseResult, lang: str = "en") -> Step:
    return fits(flow.step(state, answer, make_ctx(lang)))


def summary(**overrides: object) -> dict:
    data = {"last_checked": "this morning", "last_checked_date": "2026-11-24",
            "checked_neighbours_and_safe_place": True, "checked_answer": "yes"}
    return {**data, **overrides}


def test_no_text_of_this_flow_promises_a_refund_in_either_language():
    for lang in ("en", "es"):
        texts = [t for k, t in TEXTS[lang].items() if k.startswith("missing.")]
        assert len(texts) == 6
        for text in texts:
            assert not any(w in text.lower() for w in REFUND_WORDS), text
            values = {"name": " Maximiliana", "carrier": "Acme Logistics",
                      "parcel": "your parcel ORDER-2026-000123456"}
            assert segments(render_sms(text.format(**values))) <= 2, text


def test_misrouted_event_explains_the_reroute_and_waits():
    step = fits(flow.start(make_ctx(), []))
    (first,) = step.replies  # channel rules ("Reply STOP") are the case opener's
    assert first.text.startswith("Hi Ana, your parcel A-1001 from Acme went to the wrong "
                                 "depot and is being rerouted")
    assert "reply here" in first.text
    assert step.state["step"] == "noticed" and step.effects == ()


@pytest.mark.parametrize("lang,thanks,welcome", [
    ("en", parse("thanks", "thanks!"), "You're welcome! We'll keep you posted here."),
    ("es", parse("affirm", "ok"), "¡De nada! Le mantendremos informado por aquí."),
])
def test_thanks_after_the_notice_gets_a_short_answer_and_changes_nothing(lang, thanks, welcome):
    state = flow.start(make_ctx(lang), []).state
    assert flow.claims(state, thanks)
    step = run(state, thanks, lang)
    assert said(step) == welcome and step.state == state and step.effects == ()


def test_full_path_in_english_escalates_with_the_summary():
    state = flow.start(make_ctx(), []).state
    step = run(state, parse("not_received", "it still hasn't arrived"))
    assert step.state["step"] == "last_checked"
    assert said(step) == "Sorry it hasn't arrived. When did you last check for it (day and time)?"
    step = run(step.state, parse("inform", "this morning", date="2026-11-24",
                                 time_window={"start": "08:00", "end": "12:00"}))
    assert step.state["step"] == "neighbours"
    assert said(step) == ("Did you check with neighbours and around the door or any safe "
                          "place? Reply YES or NO.")
    assert step.replies[0].quick_replies == (("Yes", "yes"), ("No", "no"))
    step = run(step.state, parse("affirm", "yes"))
    assert step.state["step"] == "escalated"
    assert said(step) == "Thank you. A person from our team will look into it and reply here."
    assert step.effects == (Callback("case.missing_reported", summary()),
                            Escalate("parcel missing", summary()))


def test_full_path_in_spanish():
    state = flow.start(make_ctx("es"), []).state
    step = run(state, parse("out_of_scope", "todavía nada"), "es")
    assert said(step).startswith("Lamentamos que no haya llegado.")
    step = run(step.state, parse("out_of_scope", "ayer por la tarde"), "es")
    assert step.replies[0].quick_replies == (("Sí", "sí"), ("No", "no"))
    step = run(step.state, parse("deny", "no"), "es")
    assert said(step) == "Gracias. Una persona de nuestro equipo lo investigará y le " \
                         "responderá aquí."
    expected = summary(last_checked="ayer por la tarde", last_checked_date=None,
                       checked_neighbours_and_safe_place=False, checked_answer="no")
    assert step.effects == (Callback("case.missing_reported", expected),
                            Escalate("parcel missing", expected))


@pytest.mark.parametrize("reply,value", [
    (parse("affirm", "yes I asked them"), True), (parse("deny", "nope"), False),
    (parse("out_of_scope", "si, en todos lados"), True), (parse("inform", "no one had it"), False),
    (parse("inform", "only the porch"), None),
])
def test_yes_or_no(reply, value):
    assert yes_or_no(reply) is value


def test_an_answer_that_is_neither_yes_nor_no_is_kept_as_written():
    state = run(flow.start(make_ctx(), []).state, parse("not_received", "never came")).state
    state = run(state, parse("inform", "yesterday", date="2026-11-23")).state
    step = run(state, parse("inform", "the porch, but the neighbours were out"))
    assert step.effects[1] == Escalate("parcel missing", summary(
        last_checked="yesterday", last_checked_date="2026-11-23",
        checked_neighbours_and_safe_place=None,
        checked_answer="the porch, but the neighbours were out"))


def test_customer_saying_it_never_arrived_is_asked_without_a_greeting():
    step = fits(flow.start(make_ctx(trigger="customer"), [],
                           parse("not_received", "my package never arrived")))
    assert step.state["step"] == "last_checked"
    assert [r.text for r in step.replies] == [TEXTS["en"]["missing.ask_last_checked"]]


def test_a_report_that_says_when_they_checked_skips_that_question():
    report = parse("not_received", "never arrived, I checked this morning", date="2026-11-24")
    step = fits(flow.start(make_ctx(trigger="customer"), [], report))
    assert step.state["step"] == "neighbours"
    assert step.state["last_checked"] == "never arrived, I checked this morning"
    assert step.state["last_checked_date"] == "2026-11-24"


def test_a_reply_to_the_notice_that_says_when_they_checked_skips_that_question():
    state = flow.start(make_ctx("es"), []).state
    step = run(state, parse("not_received", "no ha llegado, revisé ayer", date="2026-11-23"),
               "es")
    assert step.state["step"] == "neighbours" and step.state["last_checked_date"] == "2026-11-23"
    assert said(step).endswith("Responda SI o NO.")


def test_a_photo_without_words_repeats_the_question():
    state = run(flow.start(make_ctx(), []).state, parse("not_received", "not here")).state
    step = fits(flow.step(state, parse("out_of_scope"),
                          make_ctx(media=(MediaItem("m1", "image/jpeg", 10),))))
    assert step.state == state and said(step) == TEXTS["en"]["missing.ask_last_checked"]


def test_free_text_answers_are_claimed_but_never_a_person_or_a_cancel():
    asking = run(flow.start(make_ctx(), []).state, parse("not_received", "not here")).state
    assert flow.claims(asking, parse("thanks", "thanks, this morning"))
    assert flow.claims(asking, parse("out_of_scope", "around 9"))
    assert not flow.claims(asking, parse("human", "a person please"))
    assert not flow.claims(asking, parse("cancel", "cancel"))
    yes_no = run(asking, parse("inform", "today")).state
    assert flow.claims(yes_no, parse("affirm", "yes"))
    assert not flow.claims(yes_no, parse("human", "agent"))
    noticed = flow.start(make_ctx(), []).state
    assert not flow.claims(noticed, parse("not_received", "still not here"))


def test_asking_for_a_person_escalates_with_what_is_known():
    state = run(flow.start(make_ctx(), []).state, parse("not_received", "not here")).state
    state = run(state, parse("inform", "today", date="2026-11-24")).state
    step = run(state, parse("human", "a person, now", option_number="1"))
    assert step.effects == (Escalate("customer asked for a person", summary(
        last_checked="today", checked_neighbours_and_safe_place=None, checked_answer=None)),)
    assert said(step) == TEXTS["en"]["human"]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_prompts_repeat_each_question_without_refunds(lang):
    ctx = make_ctx(lang)
    state = flow.start(ctx, []).state
    for answer in (parse("not_received", "nothing yet"), parse("inform", "today"),
                   parse("affirm", "yes")):
        prompt = flow.prompt(state, ctx)
        fits(Step(state, (prompt,)))
        state = run(state, answer, lang).state
    assert flow.prompt(state, ctx).text == TEXTS[lang]["escalated_hold"]
    after = run(state, parse("thanks", "thanks"), lang)
    assert after.state == state and after.effects == ()
    assert flow.reserved(state, True, ctx) == Step(state)


def fits(step: Step) -> Step:
    """Every reply fits two SMS segments and never mentions refunds."""
    return _fits(step, tuple(REFUND_WORDS))


def said(step: Step) -> str:
    return _said(step, tuple(REFUND_WORDS))
