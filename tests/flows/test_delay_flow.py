"""The delay flow as a pure state machine: show the new estimate, accept, reschedule, a person."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from replies import fits, said

from bot.models import Case
from channels.render import render_sms, segments
from flows.base import Callback, Escalate, FlowContext, Resolve, Step, SwitchFlow
from flows.delay import DelayFlow
from flows.messages import TEXTS, moment_label
from nlu.base import Entity, Intent, ParseResult

TZ = "America/New_York"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(TZ))
ETA = "2026-11-26T22:00:00+00:00"  # 5pm in New York
flow = DelayFlow()


def parse(intent: str = "inform", text: str = "", **entities: object) -> ParseResult:
    return ParseResult(text=text, intent=Intent(intent, 0.9),
                       entities=tuple(Entity(k, v, 0, 0) for k, v in entities.items()))


def make_ctx(lang: str = "en", trigger: str = "event", eta: str | None = ETA) -> FlowContext:
    case = Case(id="cs_1", type="delivery.delayed", status="awaiting_customer",
                tracking_number="1Z999AA10123456784", carrier="acme", order_ref="A-1001",
                recipient_name="Ana Diaz", phone="+15551230001", telegram_chat_id=None,
                language=lang, timezone=TZ, reason=None,
                details={"new_eta": eta} if eta else {}, shipment={},
                created_at=NOW.isoformat(), updated_at=NOW.isoformat())
    return FlowContext(case=case, now=NOW, language=lang, trigger=trigger)




def asked(lang: str = "en") -> dict:
    return fits(flow.start(make_ctx(lang), [])).state


def answer(reply: ParseResult, lang: str = "en", state: dict | None = None) -> Step:
    return fits(flow.step(state or asked(lang), reply, make_ctx(lang)))


ACCEPTED = (Callback("case.delay_acknowledged", {"new_eta": ETA}),
            Resolve("delay_accepted", {"new_eta": ETA}))


@pytest.mark.parametrize("lang,when,label", [
    ("en", ETA, "Thu Nov 26, 5pm"),
    ("es", ETA, "jue 26 nov, 17 h"),
    ("en", "2026-11-27T09:30:00-05:00", "Fri Nov 27, 9:30am"),
    ("es", "2026-11-27T14:30:00Z", "vie 27 nov, 9:30 h"),
    ("en", "2026-11-28T05:00:00+00:00", "Sat Nov 28, 12am"),
])
def test_eta_is_shown_in_the_case_timezone(lang, when, label):
    assert moment_label(lang, datetime.fromisoformat(when), TZ) == label


def test_every_delay_text_fits_two_segments_in_both_languages():
    values = {"name": " Maximiliana", "carrier": "Acme Logistics", "eta": "mié 30 dic, 12:30 h",
              "parcel": "su paquete ORDER-2026-000123456"}
    for lang in ("en", "es"):
        labels = tuple(TEXTS[lang][f"delay.choice.{c}"] for c in ("fine", "reschedule", "human"))
        for key, template in TEXTS[lang].items():
            if key.startswith("delay."):
                body = render_sms(template.format(**values), labels)
                assert segments(body) <= 2, (lang, key)


def test_event_start_greets_and_offers_three_numbered_choices():
    step = fits(flow.start(make_ctx(), []))
    (first,) = step.replies  # channel rules ("Reply STOP") are the case opener's
    assert first.text == ("Hi Ana, Acme says your parcel A-1001 is running late. New estimated "
                          "delivery: Thu Nov 26, 5pm. Does that work for you?")
    assert first.choices == ("That's fine", "Choose another time", "Talk to a person")
    assert step.state == {"step": "ask", "new_eta": ETA, "misses": 0}


def test_event_start_in_spanish():
    step = fits(flow.start(make_ctx("es"), []))
    assert step.replies[0].text.startswith("Hola Ana, Acme nos informa que su paquete A-1001")
    assert "jue 26 nov, 17 h" in step.replies[0].text
    assert step.replies[0].choices == ("Está bien", "Elegir otro horario",
                                       "Hablar con una persona")
    assert len(step.replies) == 1


@pytest.mark.parametrize("lang,reply,thanks", [
    ("en", parse(option_number="1"), "Thanks, we'll deliver it as estimated: Thu Nov 26, 5pm."),
    ("en", parse("affirm", "ok"), "Thanks, we'll deliver it"),
    ("en", parse("thanks", "thank you"), "Thanks, we'll deliver it"),
    ("en", parse("out_of_scope", "fine"), "Thanks, we'll deliver it"),
    ("es", parse(option_number=1), "Gracias, lo entregaremos según lo estimado: jue 26 nov, 17 h."),
    ("es", parse("out_of_scope", "vale"), "Gracias, lo entregaremos"),
])
def test_accepting_the_new_estimate_resolves_the_case(lang, reply, thanks):
    step = answer(reply, lang)
    assert said(step).startswith(thanks)
    assert step.state["step"] == "done"
    assert step.effects == ACCEPTED


@pytest.mark.parametrize("reply", [
    parse(option_number="2"), parse("reschedule", "can you come another day"),
    parse("inform", "saturday", date="2026-11-28"),
    parse("inform", "after 6", time_window={"start": "18:00", "end": "21:00"}),
])
def test_wanting_another_time_hands_over_to_the_reschedule_flow_silently(reply):
    step = answer(reply)
    assert step.replies == ()
    assert step.effects == (SwitchFlow("reschedule"),)
    assert step.state["step"] == "switched"


@pytest.mark.parametrize("lang,reply", [
    ("en", parse(option_number="3")), ("en", parse("human", "let me talk to someone")),
    ("es", parse(option_number="3")),
])
def test_asking_for_a_person_escalates(lang, reply):
    step = answer(reply, lang)
    assert said(step) == TEXTS[lang]["human"]
    assert step.effects == (Escalate("customer asked for a person", {"new_eta": ETA}),)


def test_an_answer_not_understood_is_asked_again_and_three_go_to_a_person():
    step = answer(parse("out_of_scope", "purple monkey"))
    assert step.state["misses"] == 1 and step.effects == ()
    assert said(step) == "Sorry, I didn't get that. Please reply 1, 2 or 3:"
    assert len(step.replies[0].choices) == 3
    step = answer(parse(option_number="4"), state=step.state)
    assert step.state["misses"] == 2
    step = answer(parse("where_is_my_package", "where is it now"), state=step.state)
    assert step.state["step"] == "escalated"
    assert step.effects == (Escalate("customer not understood", {"new_eta": ETA}),)
    assert "A person from our team will reply here" in said(step)


def test_a_no_points_at_the_other_choices_without_counting_a_miss():
    step = answer(parse("deny", "no"), "es")
    assert said(step).startswith("Lo sentimos. Responda 2 para elegir otro horario")
    assert step.state["misses"] == 0 and step.effects == ()


def test_claims_yes_and_thanks_only_at_the_question():
    state = asked()
    assert flow.claims(state, parse("affirm", "ok"))
    assert flow.claims(state, parse("thanks", "ok thanks"))
    assert not flow.claims(state, parse("human", "a person"))
    assert not flow.claims(answer(parse(option_number="1")).state, parse("thanks", "thanks"))


def test_customer_asking_mid_conversation_gets_a_short_question():
    step = fits(flow.start(make_ctx(trigger="customer"), [],
                           parse("where_is_my_package", "where is my parcel?")))
    assert [r.text for r in step.replies] == [
        "The new estimated delivery for your parcel A-1001 is Thu Nov 26, 5pm. "
        "Does that work for you?"]
    assert len(step.replies[0].choices) == 3


def test_customer_naming_a_day_at_the_start_goes_straight_to_rescheduling():
    step = fits(flow.start(make_ctx(trigger="customer"), [],
                           parse("reschedule", "can it come friday", date="2026-11-27")))
    assert step.effects == (SwitchFlow("reschedule"),) and step.replies == ()


def test_without_an_estimate_the_flow_still_asks():
    step = fits(flow.start(make_ctx(trigger="customer", eta=None), []))
    assert "as soon as possible" in said(step)


def test_after_accepting_messages_repeat_the_estimate():
    done = answer(parse(option_number="1"), "es")
    again = fits(flow.step(done.state, parse("greet", "hola"), make_ctx("es")))
    assert again.state == done.state and again.effects == ()
    assert said(again) == ("Esperamos entregar su paquete A-1001: jue 26 nov, 17 h. "
                           "Responda aquí si necesita algo.")
    assert flow.reserved(done.state, True, make_ctx()) == Step(done.state)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_prompt_repeats_the_question_with_its_choices(lang):
    prompt = flow.prompt(asked(lang), make_ctx(lang))
    assert segments(render_sms(prompt.text, prompt.choices)) <= 2
    assert len(prompt.choices) == 3
    held = flow.prompt({"step": "escalated", "new_eta": ETA}, make_ctx(lang))
    assert held.text == TEXTS[lang]["escalated_hold"]
