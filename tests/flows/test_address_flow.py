"""The address correction flow as a pure state machine, read like a transcript."""

from __future__ import annotations

import pytest
from address_dialogue import (
    FULL_ADDRESS,
    OLD,
    OLD_WITH_UNIT,
    make_ctx,
    parse,
    said,
    to_confirm,
    to_instructions,
)

from bot.models import Reply
from channels.render import render_sms, segments
from flows.base import (
    Callback,
    PickupPoint,
    Resolve,
    Step,
    UpdateCase,
)


# -- starting ----------------------------------------------------------------
@pytest.mark.parametrize("lang, greeting, question", [
    ("en", "Hi Ana, Acme couldn't find the address for your parcel A-1001.",
     "full correct address"),
    ("es", "Hola Ana, Acme no encontró la dirección de su paquete A-1001.",
     "dirección correcta completa"),
])
def test_event_start_greets_by_first_name_and_asks_for_the_address(
        flow, lang, greeting, question):
    step = flow.start(make_ctx(lang), [])
    (first,) = step.replies  # channel rules ("Reply STOP") are the case opener's, not the flow's
    assert first.text.startswith(greeting) and question in first.text
    assert step.state["step"] == "collect" and step.effects == ()


@pytest.mark.parametrize("lang, text", [
    ("en", "Sure. What's the correct delivery address for your parcel A-1001?"),
    ("es", "Claro. ¿Cuál es la dirección de entrega correcta para su paquete A-1001?"),
])
def test_customer_start_without_an_address_asks_briefly(flow, lang, text):
    step = flow.start(make_ctx(lang, "customer"), [], said("my address is wrong",
                                                           "change_address"))
    assert [r.text for r in step.replies] == [text]
    assert step.state["step"] == "collect"


@pytest.mark.parametrize("lang, message, readback", [
    ("en", "wrong address, its 12 Oak St Apt 4, Boston MA 02110",
     "New address: 12 Oak St, Apt 4, Boston, MA 02110. Is that right?"),
    ("es", "mi dirección es 12 Oak St apto 4, Boston MA 02110",
     "Nueva dirección: 12 Oak St, Apto 4, Boston, MA 02110. ¿Es correcta?"),
])
def test_customer_start_with_an_address_reads_it_back_at_once(flow, lang, message, readback):
    step = flow.start(make_ctx(lang, "customer"), [], said(message, "change_address"))
    assert step.state["step"] == "confirm"
    assert step.replies[0].text.startswith(readback)


# -- the happy path ----------------------------------------------------------
@pytest.mark.parametrize("lang, yes, yes_label, thanks", [
    ("en", "yes", "Yes", "Thank you! We'll deliver your parcel A-1001 to "),
    ("es", "sí", "Sí", "¡Gracias! Entregaremos su paquete A-1001 en "),
])
def test_happy_path_updates_the_case_and_posts_address_changed(flow, lang, yes, yes_label,
                                                               thanks):
    ctx = make_ctx(lang)
    confirm = to_confirm(flow, ctx)
    reply = confirm.replies[0]
    assert ("Reply YES" if lang == "en" else "Responda SI") in reply.text
    assert (" or NO " if lang == "en" else " o NO ") in reply.text
    assert reply.quick_replies == ((yes_label, "yes"), ("No", "no"))
    ask = flow.step(confirm.state, parse("affirm", yes), ctx)
    assert ask.replies[0].quick_replies[0][1] == "no"
    done = flow.step(ask.state, parse("inform", "Gate code 1234, leave it with the concierge"),
                     ctx)
    instructions = "Gate code 1234, leave it with the concierge"
    assert done.state["step"] == "done"
    assert done.replies[0].text == thanks + "12 Oak St, Apt 4, Boston, MA 02110."
    assert done.effects == (
        UpdateCase(shipment={"address": FULL_ADDRESS}, details={"instructions": instructions}),
        Callback("case.address_changed", {"address": FULL_ADDRESS,
                                          "instructions": instructions}),
        Resolve("address_changed", {"address": FULL_ADDRESS}),
    )


def test_thanks_at_the_confirmation_accepts_the_address(flow):
    ctx = make_ctx()
    step = flow.step(to_confirm(flow, ctx).state, parse("thanks", "ok thanks"), ctx)
    assert step.state["step"] == "instructions"


@pytest.mark.parametrize("answer", [
    parse("deny", "no"), parse("deny", "No thanks"), parse("inform", "none"),
    parse("inform", "skip"), parse("inform", "ninguna"), parse("deny", "no gracias"),
])
def test_skipped_instructions_post_none_and_leave_details_alone(flow, answer):
    ctx = make_ctx()
    done = flow.step(to_instructions(flow, ctx).state, answer, ctx)
    update, callback, _ = done.effects
    assert update == UpdateCase(shipment={"address": FULL_ADDRESS}, details={})
    assert callback.data == {"address": FULL_ADDRESS, "instructions": None}


def test_a_no_that_carries_an_instruction_is_kept(flow):
    ctx = make_ctx()
    done = flow.step(to_instructions(flow, ctx).state,
                     parse("deny", "no, leave it at the back door"), ctx)
    assert done.effects[1].data["instructions"] == "no, leave it at the back door"


def test_instructions_are_trimmed_and_capped_at_500_characters(flow):
    ctx = make_ctx()
    done = flow.step(to_instructions(flow, ctx).state, parse("inform", "  ring  " + "x" * 600),
                     ctx)
    instructions = done.effects[1].data["instructions"]
    assert instructions.startswith("ring x") and len(instructions) == 500


# -- normalising -------------------------------------------------------------
def test_address_is_normalised_case_spaces_state_name_and_zip_plus_four(flow):
    ctx = make_ctx(old={**OLD, "country": "us"})
    step = flow.step(flow.start(ctx, []).state, parse(address={
        "text": "...", "line1": " 12  oak   st ", "line2": "apt 4b", "city": "boston",
        "region": "Massachusetts", "postal_code": "02110-1234"}), ctx)
    assert step.state["address"] == {"line1": "12 Oak St", "line2": "Apt 4B", "city": "Boston",
                                     "region": "MA", "postal_code": "02110-1234",
                                     "country": "US"}


def test_city_and_region_come_from_the_old_address_when_the_zip_is_the_same(flow):
    ctx = make_ctx()
    step = to_confirm(flow, ctx, "12 Oak St 02110")
    assert step.state["address"]["city"] == "Boston"
    assert step.state["address"]["region"] == "MA"


def test_country_defaults_to_us_without_an_old_address(flow):
    ctx = make_ctx(old=None)
    assert to_confirm(flow, ctx).state["address"]["country"] == "US"


# -- missing postal code or unit -----------------------------------------------
@pytest.mark.parametrize("lang, question", [
    ("en", "Thanks. What's the ZIP code for 12 Oak St?"),
    ("es", "Gracias. ¿Cuál es el código postal (ZIP) de 12 Oak St?"),
])
def test_missing_postal_code_is_asked_then_a_bare_zip_completes_it(flow, lang, question):
    ctx = make_ctx(lang)
    step = flow.step(flow.start(ctx, []).state, said("12 Oak St, Boston"), ctx)
    assert step.state["step"] == "postal_code"
    assert step.replies[0].text == question
    step = flow.step(step.state, said("02110"), ctx)
    assert step.state["step"] == "confirm"
    assert step.state["address"] == {**FULL_ADDRESS, "line2": None}


def test_postal_code_question_accepts_a_full_address_again(flow):
    ctx = make_ctx()
    step = flow.step(flow.start(ctx, []).state, said("12 Oak St"), ctx)
    step = flow.step(step.state, said("14 Oak St, Cambridge MA 02139"), ctx)
    assert step.state["step"] == "confirm"
    assert step.state["address"]["line1"] == "14 Oak St"
    assert step.state["address"]["postal_code"] == "02139"


def test_an_unreadable_postal_code_is_asked_again_with_an_example(flow):
    ctx = make_ctx()
    step = flow.step(flow.start(ctx, []).state, said("12 Oak St"), ctx)
    step = flow.step(step.state, said("not sure"), ctx)
    assert step.state["step"] == "postal_code" and step.state["misses"] == 1
    assert "5-digit ZIP code for 12 Oak St, e.g. 02110" in step.replies[0].text


def test_unit_is_not_asked_when_the_old_address_had_none(flow):
    step = to_confirm(flow, make_ctx(), "12 Oak St, Boston MA 02110")
    assert step.state["address"]["line2"] is None


@pytest.mark.parametrize("lang, answer", [
    ("en", parse("inform", "none")), ("en", parse("deny", "no")),
    ("en", parse("deny", "nope, there isn't one")), ("es", parse("inform", "ninguno")),
    ("es", parse("inform", "no tengo")),
])
def test_unit_is_asked_when_the_old_address_had_one_and_none_means_no_unit(flow, lang,
                                                                           answer):
    ctx = make_ctx(lang, old=OLD_WITH_UNIT)
    step = flow.step(flow.start(ctx, []).state, said("12 Oak St, Boston MA 02110"), ctx)
    assert step.state["step"] == "unit"
    assert ("NONE" if lang == "en" else "NINGUNO") in step.replies[0].text
    step = flow.step(step.state, answer, ctx)
    assert step.state["step"] == "confirm"
    assert step.state["address"]["line2"] is None


@pytest.mark.parametrize("answer, unit", [("Apt 5B", "Apt 5B"), ("5B", "Apt 5B"),
                                          ("#12", "#12"), ("it's unit 3", "Unit 3")])
def test_unit_answers_become_line2(flow, answer, unit):
    ctx = make_ctx(old=OLD_WITH_UNIT)
    step = flow.step(flow.start(ctx, []).state, said("12 Oak St, Boston MA 02110"), ctx)
    step = flow.step(step.state, parse("inform", answer), ctx)
    assert step.state["address"]["line2"] == unit
    assert f"12 Oak St, {unit}, Boston, MA 02110" in step.replies[0].text


def test_unit_is_asked_when_the_reason_says_it_was_missing(flow):
    ctx = make_ctx(reason="apartment_missing")
    step = flow.step(flow.start(ctx, []).state, said("12 Oak St, Boston MA 02110"), ctx)
    assert step.state["step"] == "unit"


# -- corrections and misunderstandings ---------------------------------------------
@pytest.mark.parametrize("lang, again", [
    ("en", "No problem. Please send the correct address, e.g. 12 Oak St Apt 4, Boston MA 02110"),
    ("es", "De acuerdo. Envíe la dirección correcta, p. ej. 12 Oak St Apt 4, Boston MA 02110"),
])
def test_no_at_the_confirmation_asks_for_the_address_again(flow, lang, again):
    ctx = make_ctx(lang)
    step = flow.step(to_confirm(flow, ctx).state, parse("deny", "no"), ctx)
    assert step.state["step"] == "collect" and step.state["address"] is None
    assert step.replies[0].text == again
    assert step.effects == ()


def test_a_new_address_at_the_confirmation_replaces_the_pending_one(flow):
    ctx = make_ctx()
    step = flow.step(to_confirm(flow, ctx).state,
                     said("no, it's 14 Oak St Apt 4, Boston MA 02110", "deny"), ctx)
    assert step.state["step"] == "confirm"
    assert step.state["address"]["line1"] == "14 Oak St"


@pytest.mark.parametrize("lang, gave_up", [
    ("en", "a person from our team"), ("es", "una persona de nuestro equipo"),
])
def test_three_unreadable_messages_in_a_row_escalate(flow, lang, gave_up):
    ctx = make_ctx(lang)
    state = flow.start(ctx, []).state
    for attempt in ("hello?", "the blue house", "near the park"):
        step = flow.step(state, said(attempt, "out_of_scope"), ctx)
        state = step.state
        if state["misses"] < 3:
            assert "12 Oak St Apt 4, Boston MA 02110" in step.replies[0].text
    assert state["step"] == "escalated"
    assert gave_up in step.replies[0].text.lower()
    (escalate,) = step.effects
    assert escalate.reason == "address not understood"
    assert escalate.summary["messages"] == ["hello?", "the blue house", "near the park"]


def test_a_readable_address_resets_the_miss_count(flow):
    ctx = make_ctx()
    state = flow.step(flow.start(ctx, []).state, said("hello?"), ctx).state
    state = flow.step(state, said("12 Oak St"), ctx).state
    assert state["step"] == "postal_code" and state["misses"] == 0


# -- claims, prompts, after the end ----------------------------------------------
@pytest.mark.parametrize("step_name, intent, claimed", [
    ("collect", "greet", True), ("collect", "reschedule", True), ("unit", "deny", True),
    ("postal_code", "out_of_scope", True), ("instructions", "thanks", True),
    ("instructions", "human", False), ("collect", "cancel", False),
    ("confirm", "affirm", True), ("confirm", "thanks", True), ("confirm", "greet", False),
    ("confirm", "human", False), ("outside", "greet", False), ("done", "thanks", False),
])
def test_claims_free_text_while_asking_and_yes_at_the_confirmation(flow, step_name, intent,
                                                                   claimed):
    assert flow.claims({"step": step_name}, parse(intent, "hi")) is claimed


def test_prompt_repeats_the_current_question(flow):
    ctx = make_ctx()
    confirm = to_confirm(flow, ctx)
    assert flow.prompt(confirm.state, ctx) == confirm.replies[0]
    assert "correct delivery address" in flow.prompt(flow.start(ctx, []).state, ctx).text


def test_after_the_address_is_saved_a_message_repeats_it(flow):
    ctx = make_ctx()
    done = flow.step(to_instructions(flow, ctx).state, parse("deny", "no"), ctx)
    after = flow.step(done.state, parse("thanks", "thanks!"), ctx)
    assert after.replies[0].text == ("Your new address is saved: "
                                     "12 Oak St, Apt 4, Boston, MA 02110.")
    assert after.effects == ()


def test_reserved_is_a_no_op(flow):
    state = {"step": "confirm"}
    assert flow.reserved(state, True, make_ctx()) == Step(state)


# -- SMS length -----------------------------------------------------------------
LONG_POINTS = tuple(PickupPoint(f"Doorstep Partner Store {n}", f"{n}00 Massachusetts Ave "
                                f"Suite 1200, Cambridge MA 0213{n}") for n in range(1, 4))
LONG = "12345 North Commonwealth Avenue Apt 1234, West Springfield MA 01089-1234"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_reply_in_every_state_fits_two_sms_segments(flow, lang):
    replies: list[Reply] = []
    ctx = make_ctx(lang, reason="unit_missing", area=("021",), points=LONG_POINTS)
    replies += flow.start(ctx, []).replies
    replies += flow.start(make_ctx(lang, "customer"), []).replies
    state = flow.start(ctx, []).state
    for message in ("???", "12345 North Commonwealth Avenue", "nope", "99"):
        step = flow.step(state, said(message), ctx)
        replies += step.replies
        state = step.state
    outside = flow.step(state, said("12345 North Commonwealth Avenue Apt 1234, "
                                    "West Springfield MA 01089-1234"), ctx)
    replies += outside.replies + flow.step(outside.state, parse(option_number=9), ctx).replies
    replies += flow.step(outside.state, parse(option_number=1), ctx).replies
    replies += flow.step(outside.state, parse(option_number=4), ctx).replies
    inside = make_ctx(lang, old=OLD_WITH_UNIT)
    unit = flow.step(flow.start(inside, []).state, said("12345 North Commonwealth Avenue, "
                                                        "Boston MA 02110"), inside)
    replies += unit.replies + flow.step(unit.state, said("what"), inside).replies
    confirm = flow.step(unit.state, parse("inform", "Apt 1234"), inside)
    ask = flow.step(confirm.state, parse("affirm"), inside)
    done = flow.step(ask.state, parse("inform", "x" * 500), inside)
    replies += [*confirm.replies, *ask.replies, *done.replies,
                *flow.step(done.state, parse("thanks"), inside).replies,
                *flow.step(confirm.state, parse("deny"), inside).replies]
    no_points = make_ctx(lang, area=("021",))
    replies += flow.step(flow.start(no_points, []).state, said(LONG), no_points).replies
    assert len(replies) >= 15
    for reply in replies:
        body = render_sms(reply.text, reply.choices)
        assert segments(body) <= 2, body
