"""The embedded NLU end to end: intents, entities and their offsets, as a spec.

The engine is the trained model of this test run (``nlu_model_dir`` in conftest), so these
are the replies the flows depend on, checked against what the training data teaches.
Reference time: Tuesday 2026-11-24 10:00 in America/New_York.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nlu.base import NLU, ParseResult
from nlu.embedded import EmbeddedNLU, load_model
from nlu.entities.options import extract_options
from nlu.text import canonicalize

TZ = "America/New_York"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(TZ))


@cache
def engine() -> EmbeddedNLU:
    return EmbeddedNLU.from_dir(Path(os.environ["NLU_MODEL_DIR"]))


def parse(text: str, language: str | None = None) -> ParseResult:
    return engine().parse(text, NOW, TZ, language)


def slots(result: ParseResult) -> list[tuple[str, Any]]:
    return [(e.entity, e.value) for e in result.entities]


INTENT_EXAMPLES = {
    "affirm": ["yes", "Yes!", "yep", "y", "ok", "OK 👍", "sure", "correct", "sounds good",
               "yes please", "Yesss", "si", "sí", "Sí.", "claro", "vale", "de acuerdo",
               "perfecto", "k", "that works"],
    "deny": ["no", "No.", "nope", "not that one", "no gracias", "ninguna", "none of them",
             "that doesn't work", "no me sirve", "el viernes no"],
    "reschedule": ["reschedule please", "pls reschedule", "otro día", "otro dia",
                   "quiero cambiar la entrega", "can I change the delivery date?",
                   "I won't be home", "no estoy en casa", "different day please"],
    "human": ["talk to a person", "agent", "human please", "I want to speak to a real person",
              "hablar con una persona", "un agente", "quiero hablar con alguien"],
    "help": ["help", "HELP!", "what is this", "what's this?", "ayuda", "¿qué es esto?"],
    "cancel": ["cancel", "never mind", "nvm", "forget it", "cancelar", "olvídalo", "olvidalo"],
    "greet": ["hi", "hello", "hey there", "hola", "buenas", "buenos días", "good morning"],
    "thanks": ["thanks", "thank you", "thx", "ty", "gracias", "muchas gracias", "thanks!!"],
    "goodbye": ["bye", "goodbye", "see ya", "adiós", "adios", "chao", "hasta luego"],
    "opt_out": ["STOP", "stop", "unsubscribe", "stop texting me", "darme de baja"],
    "where_is_my_package": ["where is my package", "where's my parcel?", "wheres my pkg",
                            "when will my package arrive?", "dónde está mi paquete",
                            "donde esta mi pedido", "cuándo llega mi paquete"],
    "inform": ["2", "#2", "2.", "option 3", "the second one", "tomorrow", "tmrw", "2moro",
               "el viernes por la tarde", "mañana", "la segunda", "la opción 2", "Dec 2",
               "sat morning", "after 5", "el 30"],
    "out_of_scope": ["asdf qwerty", "my dog likes pizza", "", "   ", "🙂"],
}


@pytest.mark.parametrize(("text", "intent"), [
    (text, intent) for intent, texts in INTENT_EXAMPLES.items() for text in texts])
def test_intent(text: str, intent: str) -> None:
    assert parse(text).intent.name == intent


@pytest.mark.parametrize(("text", "intents"), [
    # a request with verbs may come back as reschedule or inform: the flow treats both alike
    ("can you come tomorrow after 5", {"reschedule"}),
    ("cant be home fri, can u come sat morning", {"reschedule"}),
    ("¿pueden venir el viernes por la tarde?", {"reschedule"}),
    ("no, friday instead", {"deny", "reschedule"}),
    ("how about thursday?", {"reschedule", "inform"}),
    ("yes, friday", {"inform"}),
    # the reschedule flow reads thanks as yes at its yes/no question
    ("ok gracias", {"affirm", "thanks"}),
    ("ok thanks", {"affirm", "thanks"}),
    ("sure, the second one", {"inform"}),
    ("si, el jueves está bien", {"inform"}),
])
def test_intent_with_slots(text: str, intents: set[str]) -> None:
    assert parse(text).intent.name in intents


@pytest.mark.parametrize(("text", "expected"), [
    ("can you come tomorrow after 5",
     [("date", "2026-11-25"), ("time_window", {"start": "17:00", "end": "21:00"})]),
    ("no, friday instead", [("date", "2026-11-27")]),
    # the negated Friday is dropped; Saturday morning is what they want
    ("cant be home fri, can u come sat morning",
     [("date", "2026-11-28"), ("time_window", {"start": "08:00", "end": "12:00"})]),
    ("¿pueden venir el viernes por la tarde?",
     [("date", "2026-11-27"), ("time_window", {"start": "12:00", "end": "17:00"})]),
    ("mañana por la mañana",
     [("date", "2026-11-25"), ("time_window", {"start": "08:00", "end": "12:00"})]),
    ("no puedo el lunes, mejor el martes", [("date", "2026-12-01")]),
    ("hoy no, mañana sí", [("date", "2026-11-25")]),
    ("I won't be home today so can you come tomorrow", [("date", "2026-11-25")]),
    ("not friday", []),
    # a negation right before a day rules out that day only
    ("NEED IT SATURDAY MORNING NOT TODAY",
     [("date", "2026-11-28"), ("time_window", {"start": "08:00", "end": "12:00"})]),
    ("can you make it sunday afternoon instead of today",
     [("date", "2026-11-29"), ("time_window", {"start": "12:00", "end": "17:00"})]),
    # the day's own number is not an hour
    ("send it dec 7 in the afternoon",
     [("date", "2026-12-07"), ("time_window", {"start": "12:00", "end": "17:00"})]),
    ("I'm busy friday, saturday works", [("date", "2026-11-28")]),
    ("today doesn't work. tomorrow?", [("date", "2026-11-25")]),
    ("Tmrw pls 😊", [("date", "2026-11-25")]),
    ("tonight", [("date", "2026-11-24"), ("time_window", {"start": "17:00", "end": "21:00"})]),
    ("Dec 2 between 2 and 4pm",
     [("date", "2026-12-02"), ("time_window", {"start": "14:00", "end": "16:00"})]),
    ("2", [("option_number", 2)]),
    ("the second one", [("option_number", 2)]),
    ("el 3", [("option_number", 3)]),
    ("el 30", [("date", "2026-11-30")]),
    ("el 3 de diciembre", [("date", "2026-12-03")]),
    ("in 2 days", [("date", "2026-11-26")]),
    ("talk to a person", []),
    ("help", []),
])
def test_entities(text: str, expected: list[tuple[str, Any]]) -> None:
    assert slots(parse(text)) == expected


@pytest.mark.parametrize(("text", "number"), [
    ("2", 2), ("#2", 2), ("# 2", 2), ("2.", 2), ("3)", 3), ("option 3", 3), ("Option #3", 3),
    ("number 1", 1), ("option two", 2), ("the second one", 2), ("second", 2), ("first", 1),
    ("the 3rd one", 3), ("2nd one", 2), ("two", 2), ("la opción 2", 2), ("opcion 2", 2),
    ("la segunda", 2), ("la primera", 1), ("el 3", 3), ("la 2", 2), ("dos", 2),
    ("2 please", 2), ("yes 2", 2), ("I'll take 3", 3), ("quiero la 1", 1), ("2 works for me", 2),
])
def test_option_number(text: str, number: int) -> None:
    [e] = extract_options(text)
    assert e.entity == "option_number"
    assert e.value == number
    assert text[e.start:e.end] == e.text


@pytest.mark.parametrize("text", [
    "10", "0", "2 days", "2 packages", "wait a second", "first thing", "I have 2 kids at home now",
    "the first of december", "12/2", "5:30", "I ordered 2 things", "apt #2", "my apt is #2",
    "Apt. 2", "order #12345",
])
def test_not_an_option(text: str) -> None:
    assert extract_options(text) == []


@pytest.mark.parametrize("text", [
    "can you come tomorrow after 5",
    "¿Pueden venir el VIERNES por la tarde? 🙏",
    "cant be home fri, can u come sat morning",
    "mañana por la mañana, entre las 2 y las 4",
    "Option #2 pls",
    "Dec. 2nd after 3:30pm",
])
def test_entity_offsets_point_into_the_original(text: str) -> None:
    result = parse(text)
    assert result.entities
    for e in result.entities:
        assert text[e.start:e.end] == e.text
    assert [e.start for e in result.entities] == sorted(e.start for e in result.entities)


def test_timezone_edge_still_yesterday_locally() -> None:
    # 03:00 UTC on the 25th is still the evening of Nov 24 in Los Angeles
    late = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert engine().parse("tomorrow", late, "America/Los_Angeles").first("date") == "2026-11-25"
    assert engine().parse("tomorrow", late, "Europe/Madrid").first("date") == "2026-11-26"
    assert engine().parse("today", late, "America/Los_Angeles").first("date") == "2026-11-24"


def test_entities_use_both_languages_whatever_the_hint() -> None:
    assert parse("mañana por la tarde", language="en").first("date") == "2026-11-25"
    assert parse("tomorrow after 5", language="es").first("time_window") == {
        "start": "17:00", "end": "21:00"}


def test_spanish_reads_numeric_dates_day_first() -> None:
    assert parse("2/12", language="en").first("date") == "2027-02-12"
    assert parse("2/12", language="es").first("date") == "2026-12-02"


def test_ranking_is_best_first_with_probabilities() -> None:
    result = parse("ok gracias")
    confidences = [i.confidence for i in result.intent_ranking]
    assert result.intent == result.intent_ranking[0]
    assert result.intent.name in ("affirm", "thanks")
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert sum(confidences) <= 1.0001


def test_result_round_trips_through_the_rasa_shape() -> None:
    result = parse("can you come tomorrow after 5")
    data = result.to_dict()
    assert data["intent"]["name"] == "reschedule"
    assert data["language"] == "en"
    assert data["entities"][0] == {"entity": "date", "value": "2026-11-25", "start": 13,
                                   "end": 21, "confidence": 1.0, "extractor": "doorstep",
                                   "text": "tomorrow"}
    assert ParseResult.from_dict(data) == result


def test_low_confidence_becomes_out_of_scope_at_the_configured_threshold() -> None:
    model = engine().model
    strict = EmbeddedNLU(model, threshold=0.999)
    result = strict.parse("can you maybe come by later in the week", NOW, TZ)
    assert result.intent.name == "out_of_scope"
    assert result.intent.confidence == 0.999
    assert result.intent_ranking[1].name != "out_of_scope"
    relaxed = EmbeddedNLU(model, threshold=0.0)
    assert relaxed.parse("can you come tomorrow", NOW, TZ).intent.name == "reschedule"
    with pytest.raises(ValueError):
        EmbeddedNLU(model, threshold=1.0)


def test_default_language_is_used_for_messages_without_words() -> None:
    spanish: NLU = EmbeddedNLU(engine().model, default_language="es")
    assert spanish.parse("2", NOW, TZ).language == "es"
    assert spanish.parse("👍", NOW, TZ).language == "es"
    assert parse("2").language == "en"
    with pytest.raises(ValueError):
        EmbeddedNLU(engine().model, default_language="fr")


@pytest.mark.parametrize(("text", "language"), [
    ("can you come tomorrow", "en"), ("yes please", "en"), ("where is my package", "en"),
    ("¿pueden venir mañana?", "es"), ("sí, gracias", "es"), ("quiero cambiar la entrega", "es"),
    ("el viernes por la tarde", "es"), ("la caja llego aplastada", "es"),
    ("mi direccion esta mal", "es"), ("my address is wrong", "en"),
])
def test_language_is_detected_without_a_hint(text: str, language: str) -> None:
    assert parse(text).language == language


@pytest.mark.parametrize(("text", "hint"), [("ok", "es"), ("ok", "en"), ("2", "es"),
                                            ("no", "es"), ("no", "en")])
def test_a_known_language_is_kept_for_words_both_languages_use(text: str, hint: str) -> None:
    assert parse(text, language=hint).language == hint


def test_a_clear_message_in_the_other_language_overrides_the_hint() -> None:
    assert parse("can you come tomorrow afternoon please", language="es").language == "en"
    assert parse("no voy a estar en casa el viernes", language="en").language == "es"


@pytest.mark.parametrize(("text", "canonical"), [
    ("Can't u come 2moro, pls?", "cant you come tomorrow please"),
    ("¿Dónde está mi PAQUETE?", "donde esta mi paquete"),
    ("Yesss!!! 👍", "yes ok"),
])
def test_canonicalize(text: str, canonical: str) -> None:
    assert canonicalize(text) == canonical


def test_cached_model_is_reused_and_retrained_when_the_data_changes(tmp_path: Path) -> None:
    data = tmp_path / "train"
    data.mkdir()
    (data / "en.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: affirm\n  examples: |\n    - yes\n    - sure\n'
        '- intent: deny\n  examples: |\n    - no\n    - nope\n')
    models = tmp_path / "models"
    first, trained = load_model(models, data)
    assert trained
    again, trained_again = load_model(models, data)
    assert not trained_again
    assert EmbeddedNLU(again).parse("sure", NOW, TZ).intent.name == "affirm"
    with (data / "en.yml").open("a") as f:
        f.write("- intent: greet\n  examples: |\n    - hello\n    - hi there\n")
    changed, retrained = load_model(models, data)
    assert retrained
    assert EmbeddedNLU(changed, threshold=0.0).parse("hello", NOW, TZ).intent.name == "greet"


def test_an_unreadable_cached_model_is_replaced(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "intent-model.joblib").write_bytes(b"not a model")
    model, trained = load_model(models)
    assert trained
    assert EmbeddedNLU(model).parse("yes", NOW, TZ).intent.name == "affirm"


@pytest.mark.parametrize("text", ["mi dirección está mal", "mi direccion esta mal",
                                  "MI DIRECCION ESTA MAL"])
def test_spanish_reads_the_same_with_or_without_accents(text: str) -> None:
    result = parse(text)
    assert result.intent.name == "change_address"
    assert result.language == "es"


def test_manana_without_tilde_is_still_tomorrow_afternoon() -> None:
    assert slots(parse("manana por la tarde")) == slots(parse("mañana por la tarde")) == [
        ("date", "2026-11-25"), ("time_window", {"start": "12:00", "end": "17:00"})]


@pytest.mark.parametrize("text", ["can u come tmrw after 5", "la caja llegó aplastada",
                                  "wrong house number its 118", "zzzz", "2"])
def test_fast_scoring_equals_scikit_learns_own(text: str) -> None:
    import numpy as np
    from scipy.sparse import hstack

    from nlu.classifier import featurize
    from nlu.text import fold_text

    model = engine().model
    doc = featurize(text, engine().entities(text, NOW, TZ), model.features)
    x = hstack([model.words.transform([doc]), model.chars.transform([doc])]).tocsr()
    assert np.allclose(model.probabilities(doc), model.intents.predict_proba(x)[0])
    expected = model.languages.predict_proba(model.lang_chars.transform([fold_text(text)]))[0]
    language, probability = model.language(text)
    assert language == model.languages.classes_[expected.argmax()]
    assert probability == pytest.approx(expected.max())
