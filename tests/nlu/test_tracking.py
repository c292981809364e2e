"""Tracking-number entities: which numbers are found, their values, offsets and carriers."""

from __future__ import annotations

import pytest

from nlu.entities import fold
from nlu.entities.tracking import carrier_of, extract_tracking_numbers

# Real-format numbers whose check digits the tracking-numbers library accepts.
UPS = "1Z999AA10123456784"
USPS_22 = "9205590164917312751089"
USPS_20 = "03071790000523483741"
FEDEX_12 = "986578788855"
FEDEX_15 = "449044304137821"
FEDEX_22 = "9612019123456789012343"
DHL = "3318810025"
AMAZON = "TBA123456789012"


def values(text: str) -> list[str]:
    return [e.value for e in extract_tracking_numbers(text)]


@pytest.mark.parametrize(("number", "carrier"), [
    (UPS, "ups"), ("1Z5R89390357567127", "ups"), (USPS_22, "usps"), (USPS_20, "usps"),
    (FEDEX_12, "fedex"), (FEDEX_15, "fedex"), (FEDEX_22, "fedex"), (AMAZON, "amazon"),
    ("C11031500001879", "ontrac"),
])
def test_each_carrier_format_is_found_in_a_sentence(number: str, carrier: str) -> None:
    text = f"where is my package {number} it never came"
    [entity] = extract_tracking_numbers(text)
    assert entity.entity == "tracking_number"
    assert entity.value == number
    assert text[entity.start:entity.end] == entity.text == number
    assert carrier_of(entity.value) == carrier


def test_ups_number_with_spaces_is_found_and_normalised() -> None:
    text = "my tracking is 1Z 999 AA1 01234 56784 thanks"
    [entity] = extract_tracking_numbers(text)
    assert entity.value == UPS
    assert entity.text == "1Z 999 AA1 01234 56784"
    assert (entity.start, entity.end) == (15, 37)


def test_dashed_usps_number_is_found_and_normalised() -> None:
    [entity] = extract_tracking_numbers("usps said 9400-1000-0000-0000-0000-06 was delivered")
    assert entity.value == "9400100000000000000006"
    assert entity.text == "9400-1000-0000-0000-0000-06"


def test_lower_case_number_is_upper_cased() -> None:
    assert values("check 1z5r89390357567127 pls") == ["1Z5R89390357567127"]
    assert values("tba123456789012") == [AMAZON]


def test_amazon_number_with_space_after_prefix_is_found() -> None:
    [entity] = extract_tracking_numbers("amazon tba 123456789012")
    assert (entity.value, entity.text) == (AMAZON, "tba 123456789012")


def test_offsets_point_at_original_text_after_accents() -> None:
    text = "número de rastreo: 1Z 999 AA1 01234 56784, ¿dónde está?"
    [entity] = extract_tracking_numbers(text)
    assert entity.text == "1Z 999 AA1 01234 56784"
    assert text[entity.start:entity.end] == entity.text
    assert entity.start == text.index("1Z")


def test_already_folded_input_maps_offsets_to_the_original() -> None:
    text = "Guía: 9205 5901 6491 7312 7510 89 ¡gracias!"
    [entity] = extract_tracking_numbers(fold(text))
    assert entity.value == USPS_22
    assert text[entity.start:entity.end] == "9205 5901 6491 7312 7510 89"


def test_two_numbers_in_one_message_are_both_found() -> None:
    text = f"usps {USPS_22} and fedex {FEDEX_15}"
    assert values(text) == [USPS_22, FEDEX_15]


def test_number_stops_before_a_following_phone_number() -> None:
    assert values(f"tracking {FEDEX_15} 555 123 4567") == [FEDEX_15]


@pytest.mark.parametrize("text", [
    "call me at 555 123 4566",
    "my cell is 5551234566",
    "5551234566",  # a phone number that passes DHL's mod-7 check
    "(555) 123-4566",
    "+44 20 7946 0957",  # passes FedEx Express's check once compacted
    "Springfield IL 62704 5551234567",  # ZIP + phone passes FedEx Ground's check
    "my zip is 62704",
    "deliver on 12/2 or 12/3",
    "it cost $1234567890.50",
    "gate code 4411",
    "option 2",
    "box 3 of 4",
    "order 112-1234567-1234567",  # Amazon order number, holds a DHL-valid 112-1234567
    "when does 612999887766 get delivered",  # 12 digits, wrong FedEx check digit
    "is 123456789 us",
])
def test_numbers_that_are_not_tracking_numbers_are_ignored(text: str) -> None:
    assert values(text) == []


def test_dhl_number_needs_a_cue_because_it_looks_like_a_phone_number() -> None:
    assert values(DHL) == []
    assert values(f"dhl {DHL}") == [DHL]
    assert values(f"DHL Express: {DHL}") == [DHL]
    assert values(f"tracking # {DHL}") == [DHL]


def test_carrier_cue_only_vouches_for_its_own_carrier() -> None:
    assert values("dhl 5551234566") == ["5551234566"]
    assert values("ups 5551234566") == []


@pytest.mark.parametrize("text", [
    "tracking # 1Z999AA10123456785",
    "trk: 1Z999AA10123456785",
    "mi numero de rastreo es 1Z999AA10123456785",
    "guia 1Z999AA10123456785",
    "1Z999AA10123456785 is my tracking number",
])
def test_failed_check_digit_is_kept_when_the_customer_calls_it_tracking(text: str) -> None:
    assert values(text) == ["1Z999AA10123456785"]


def test_failed_check_digit_on_plain_digits_needs_a_cue() -> None:
    assert values("status update pls 780312457689") == []
    assert values("tracking # 780312457689") == ["780312457689"]
    assert values("el numero de guia es 780312457689") == ["780312457689"]
    assert carrier_of("780312457689") == "fedex"  # the only format that fits


def test_unmistakable_format_with_failed_check_digit_is_kept_without_cue() -> None:
    assert values("whats the latest on 1Z6F32A40391827564") == ["1Z6F32A40391827564"]
    assert values("could you look up 9400110200881234567890") == ["9400110200881234567890"]


def test_unknown_carrier_number_is_kept_only_after_a_tracking_cue() -> None:
    assert values("trk#: 112-1234567-1234567") == ["11212345671234567"]
    assert carrier_of("11212345671234567") is None
    assert values("ref 11212345671234567") == []


def test_cue_after_the_number_counts_in_spanish() -> None:
    assert values(f"{DHL} es mi numero de guia") == [DHL]


def test_ups_shaped_number_ending_in_a_letter_does_not_crash() -> None:
    # tracking-numbers 0.1.8 raises ValueError from get_tracking_number on this shape.
    assert values("look up 1Z999999999999999Z") == ["1Z999999999999999Z"]
    assert carrier_of("1Z999999999999999Z") == "ups"


def test_carrier_of_accepts_spaced_input_and_rejects_noise() -> None:
    assert carrier_of("1z 999 aa1 01234 56784") == "ups"
    assert carrier_of("hello") is None
    assert carrier_of("") is None


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "😀📦🚚", "ok"])
def test_empty_or_emoji_only_input_gives_nothing(text: str) -> None:
    assert values(text) == []


def test_very_long_message_is_handled() -> None:
    filler = "where is my parcel 555 123 4567 $12.50 12/2 " * 250
    text = filler + f"tracking {UPS} " + filler
    assert len(text) > 10_000
    found = extract_tracking_numbers(text)
    assert [e.value for e in found] == [UPS]
    assert text[found[0].start:found[0].end] == UPS
