"""Address entities: which spans are addresses, where they end and how they are parsed."""

from __future__ import annotations

from typing import Any

import pytest

from nlu.entities import fold
from nlu.entities.addresses import extract_addresses


def address(text: str) -> dict[str, Any]:
    """The value of the only address in ``text``."""
    [entity] = extract_addresses(text)
    assert entity.entity == "address"
    assert text[entity.start:entity.end] == entity.text == entity.value["text"]
    return entity.value


def test_full_address_with_unit_city_state_and_zip_is_parsed() -> None:
    assert address("wrong address, its 118 Oak St Apt 4B, Springfield IL 62704") == {
        "text": "118 Oak St Apt 4B, Springfield IL 62704", "line1": "118 Oak St",
        "line2": "Apt 4B", "city": "Springfield", "region": "IL", "postal_code": "62704"}


def test_address_stops_before_instead() -> None:
    assert address("deliver to 22 elm street instead") == {
        "text": "22 elm street", "line1": "22 elm street", "line2": None, "city": None,
        "region": None, "postal_code": None}


def test_spanish_message_with_apto_puts_the_unit_in_line2() -> None:
    value = address("mi dirección es 118 Oak St apto 4")
    assert value["line1"] == "118 Oak St"
    assert value["line2"] == "apto 4"


def test_hash_unit_and_two_word_city_after_direction_prefix() -> None:
    assert address("new address: 4500 W Sunset Blvd #210 Los Angeles CA 90027") == {
        "text": "4500 W Sunset Blvd #210 Los Angeles CA 90027", "line1": "4500 W Sunset Blvd",
        "line2": "#210", "city": "Los Angeles", "region": "CA", "postal_code": "90027"}


@pytest.mark.parametrize(("unit", "line2"), [
    ("apt 4", "apt 4"), ("Apt. 4B", "Apt. 4B"), ("Suite 200", "Suite 200"), ("# 12", "# 12"),
    ("depto 3B", "depto 3B"), ("departamento 2", "departamento 2"), ("unidad 5", "unidad 5"),
    ("casa 2", "casa 2"), ("Unit B", "Unit B"), ("apt4b", "apt4b"),
])
def test_unit_words_in_english_and_spanish_map_to_line2(unit: str, line2: str) -> None:
    value = address(f"send it to 87 Pine Ave {unit}, Houston TX 77002 please")
    assert value["line1"] == "87 Pine Ave"
    assert value["line2"] == line2
    assert (value["city"], value["region"], value["postal_code"]) == ("Houston", "TX", "77002")


@pytest.mark.parametrize(("text", "span"), [
    ("its 118 Oak St please", "118 Oak St"),
    ("118 Oak St pls", "118 Oak St"),
    ("118 Oak St por favor", "118 Oak St"),
    ("118 Oak St, thanks!", "118 Oak St"),
    ("118 Oak St gracias", "118 Oak St"),
    ("118 Oak St but after 5", "118 Oak St"),
    ("118 Oak St pero mañana", "118 Oak St"),
    ("118 Oak St. I'll be home after 5", "118 Oak St"),
    ("118 Oak St, can you come tomorrow", "118 Oak St"),
    ("118 Oak St gate code 4411", "118 Oak St"),
    ("I live at 118 oak street, apt 4. Thanks", "118 oak street, apt 4"),
])
def test_span_stops_at_clause_words_and_sentence_punctuation(text: str, span: str) -> None:
    assert address(text)["text"] == span


def test_period_after_abbreviation_does_not_end_the_address() -> None:
    value = address("118 Oak St. Springfield IL")
    assert value["text"] == "118 Oak St. Springfield IL"
    assert (value["line1"], value["city"], value["region"]) == ("118 Oak St", "Springfield", "IL")


def test_full_state_name_and_zip_plus_four_are_normalised() -> None:
    value = address("118 oak st springfield illinois 62704-1234")
    assert (value["city"], value["region"], value["postal_code"]) == (
        "springfield", "IL", "62704-1234")


def test_post_direction_stays_in_line1() -> None:
    value = address("1600 Pennsylvania Ave NW, Washington, DC 20500")
    assert value["line1"] == "1600 Pennsylvania Ave NW"
    assert (value["city"], value["region"]) == ("Washington", "DC")


def test_lone_city_after_comma_needs_capitals() -> None:
    assert address("22 Elm St, Springfield")["city"] == "Springfield"
    assert address("22 elm st, springfield")["text"] == "22 elm st"


def test_state_that_is_also_a_word_needs_capitals_or_a_zip() -> None:
    assert address("its 118 oak st springfield in")["text"] == "118 oak st"
    assert address("118 oak st springfield IN")["region"] == "IN"
    assert address("118 oak st springfield in 46201")["region"] == "IN"


def test_street_without_suffix_is_found_only_after_an_address_cue_when_capitalised() -> None:
    assert address("my address is 118 Broadway")["line1"] == "118 Broadway"
    assert extract_addresses("deliver to 22 elm instead") == []
    assert extract_addresses("118 Broadway") == []


def test_offsets_point_at_original_text_after_accents() -> None:
    text = "¿Podrían cambiar la dirección? Es 118 Peña Ave apto 4"
    [entity] = extract_addresses(text)
    assert text[entity.start:entity.end] == "118 Peña Ave apto 4"
    assert entity.value["line1"] == "118 Peña Ave"


def test_already_folded_input_maps_offsets_to_the_original() -> None:
    text = "Dirección: 4510 W Flagler St apto 12, Miami FL 33134"
    [entity] = extract_addresses(fold(text))
    assert entity.text == "4510 W Flagler St apto 12, Miami FL 33134"
    assert entity.start == text.index("4510")


def test_two_addresses_in_one_message_are_both_found() -> None:
    found = extract_addresses("not 12 Main St, its 21 Main St")
    assert [e.value["line1"] for e in found] == ["12 Main St", "21 Main St"]


@pytest.mark.parametrize("text", [
    "leave it at the door",
    "i'm at work till 5",
    "call me at 555 123 4567",
    "the 2nd one",
    "after 5",
    "tracking 1Z999AA10123456784",
    "gate code 4411",
    "box 3 of 4",
    "apt 4",
    "wrong house number its 118",
    "es el 118 no el 181",
    "my zip is 62704",
    "2 packages on the way",
    "come at 5 pm on main st",
    "option 2 please",
    "deliver on 12/2 oak st",
    "it was $5 main st",
])
def test_messages_without_an_address_give_nothing(text: str) -> None:
    assert extract_addresses(text) == []


@pytest.mark.parametrize("text", ["", "   ", "\n", "😀📦🚚", "gracias!!"])
def test_empty_or_emoji_only_input_gives_nothing(text: str) -> None:
    assert extract_addresses(text) == []


def test_emoji_around_an_address_keeps_offsets_right() -> None:
    text = "📦📦 118 Oak St 🙏"
    [entity] = extract_addresses(text)
    assert entity.text == "118 Oak St"
    assert text[entity.start:entity.end] == "118 Oak St"


def test_very_long_message_is_handled() -> None:
    filler = "sorry i missed you, call me at 555 123 4567 after 5 pls. " * 180
    text = filler + "new address: 9 N Main St Ste 200 Austin TX 78701. " + filler
    assert len(text) > 10_000
    found = extract_addresses(text)
    assert [e.value["text"] for e in found] == ["9 N Main St Ste 200 Austin TX 78701"]
