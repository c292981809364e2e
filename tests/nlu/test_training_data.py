"""The committed NLU data: valid Rasa 3.x NLU YAML, every intent in both languages, and a
test split that training never sees. Also the loader's annotation parsing and its errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from nlu.text import canonicalize
from nlu.training_data import DATA_DIR, TrainingDataError, load, parse_example

INTENTS = {"reschedule", "change_address", "report_damage", "where_is_my_package",
           "not_received", "delivery_instructions", "human", "affirm", "deny", "cancel",
           "greet", "thanks", "goodbye", "help", "opt_out", "inform", "out_of_scope"}
ENTITIES = {"date", "time_window", "option_number", "tracking_number", "address"}
HELD_OUT = ("test", "fresh")
FILES = sorted(p for split in ("train", *HELD_OUT) for p in (DATA_DIR / split).glob("*.yml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_file_has_rasas_nlu_shape(path: Path) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(doc) <= {"version", "nlu"}
    assert doc["version"] == "3.1"
    seen_intents = []
    for block in doc["nlu"]:
        kinds = [k for k in ("intent", "regex", "lookup", "synonym") if k in block]
        assert len(kinds) == 1, block
        assert set(block) <= {kinds[0], "examples", "metadata"}
        assert isinstance(block["examples"], str)
        lines = [x for x in block["examples"].splitlines() if x.strip()]
        assert lines and all(x.lstrip().startswith("- ") for x in lines)
        if kinds[0] == "intent":
            seen_intents.append(block["intent"])
        if kinds[0] == "regex":
            for x in lines:
                re.compile(x.lstrip()[2:])
    assert len(seen_intents) == len(set(seen_intents)), "an intent block is repeated"


@pytest.mark.parametrize("split", ["train", *HELD_OUT])
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_intent_is_present_in_each_language(split: str, language: str) -> None:
    examples = load(DATA_DIR / split / f"{language}.yml").examples
    assert {e.intent for e in examples} == INTENTS
    for e in examples:
        for a in e.entities:
            assert a.entity in ENTITIES
            assert e.text[a.start:a.end] == a.text


@pytest.mark.parametrize("split", HELD_OUT)
def test_held_out_annotations_carry_values_and_training_never_sees_them(split: str) -> None:
    train = load(DATA_DIR / "train")
    test = load(DATA_DIR / split)
    assert all(a.value is not None for e in test.examples for a in e.entities)
    seen = {canonicalize(e.text) for e in train.examples}
    leaked = [e.text for e in test.examples if canonicalize(e.text) in seen]
    assert leaked == []
    assert len(test.examples) >= (500 if split == "test" else 250)


def test_annotations_are_parsed_with_their_offsets_and_values() -> None:
    text, ann = parse_example('can u come [tmrw](date) [after 5]{"entity": "time_window", '
                              '"value": "17:00-21:00"} or [#2](option_number:2)')
    assert text == "can u come tmrw after 5 or #2"
    assert [(a.entity, a.text, a.value) for a in ann] == [
        ("date", "tmrw", None), ("time_window", "after 5", "17:00-21:00"),
        ("option_number", "#2", "2")]
    assert [text[a.start:a.end] for a in ann] == ["tmrw", "after 5", "#2"]


@pytest.mark.parametrize("content, message", [
    ("nlu: [", "not valid YAML"),
    ("version: '3.1'\n", "'nlu:' list"),
    ("nlu:\n- intent: greet\n", "'examples' must be"),
    ("nlu:\n- intent: greet\n  examples: |\n    hello\n", "must start with '- '"),
    ("nlu:\n- intent: greet\n  examples: |\n    - [hi]{\"value\": 1}\n", "needs an \"entity\""),
    ("nlu:\n- banana: x\n", "unknown block"),
])
def test_malformed_files_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "en.yml").write_text(content)
    with pytest.raises(TrainingDataError, match=re.escape(message)):
        load(tmp_path)


def test_intents_outside_a_language_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "extra.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - hi\n")
    with pytest.raises(TrainingDataError, match="en.yml or es.yml"):
        load(tmp_path)
