"""Date entities: what each phrase resolves to, relative to a fixed reference day.

The reference day is Tuesday 2026-11-24 (America/New_York) unless a row says otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.entities.dates import (
    calendar_date,
    extract_dates,
    local_today,
    next_day_of_month,
    next_weekday,
)

TUESDAY = date(2026, 11, 24)


def values(text: str, today: date = TUESDAY, **kw: bool) -> list[str]:
    return [e.value for e in extract_dates(text, today, **kw)]


@pytest.mark.parametrize(("text", "expected"), [
    # relative words, English
    ("today", "2026-11-24"),
    ("tonight", "2026-11-24"),
    ("this afternoon", "2026-11-24"),
    ("tomorrow", "2026-11-25"),
    ("Tomorrow!", "2026-11-25"),
    ("tmrw", "2026-11-25"),
    ("tmr", "2026-11-25"),
    ("2moro", "2026-11-25"),
    ("day after tomorrow", "2026-11-26"),
    ("I checked yesterday evening", "2026-11-23"),
    ("the day before yesterday", "2026-11-22"),
    ("ayer por la tarde", "2026-11-23"),
    ("anteayer", "2026-11-22"),
    ("the day after tmrw", "2026-11-26"),
    ("in 3 days", "2026-11-27"),
    ("in three days", "2026-11-27"),
    ("in a week", "2026-12-01"),
    # weekdays: nearest occurrence strictly after today
    ("fri", "2026-11-27"),
    ("friday", "2026-11-27"),
    ("FRIDAY", "2026-11-27"),
    ("sat", "2026-11-28"),
    ("this saturday", "2026-11-28"),
    ("next monday", "2026-11-30"),
    ("wed", "2026-11-25"),
    ("tuesday", "2026-12-01"),  # today is Tuesday: bare weekday means next week's
    ("friday next week", "2026-12-04"),
    # day of month: next occurrence, today counts
    ("the 30th", "2026-11-30"),
    ("the 24th", "2026-11-24"),
    ("the 2nd", "2026-12-02"),
    ("on the 31st", "2026-12-31"),  # November has no 31st
    # month names and numeric dates
    ("Dec 2", "2026-12-02"),
    ("dec. 2", "2026-12-02"),
    ("December 2nd", "2026-12-02"),
    ("2 Dec", "2026-12-02"),
    ("2nd of December", "2026-12-02"),
    ("December 2, 2027", "2027-12-02"),
    ("Nov 2", "2027-11-02"),  # already past this year: rolls to next year
    ("Nov 24", "2026-11-24"),
    ("12/2", "2026-12-02"),
    ("12/2/2026", "2026-12-02"),
    ("12/2/26", "2026-12-02"),
    ("2026-12-02", "2026-12-02"),
    # Spanish
    ("hoy", "2026-11-24"),
    ("esta tarde", "2026-11-24"),
    ("mañana", "2026-11-25"),
    ("manana", "2026-11-25"),
    ("MAÑANA", "2026-11-25"),
    ("pasado mañana", "2026-11-26"),
    ("pasado manana", "2026-11-26"),
    ("el jueves", "2026-11-26"),
    ("el miércoles", "2026-11-25"),
    ("el miercoles", "2026-11-25"),
    ("el próximo lunes", "2026-11-30"),
    ("el viernes que viene", "2026-11-27"),
    ("en 3 días", "2026-11-27"),
    ("en una semana", "2026-12-01"),
    ("el 30", "2026-11-30"),
    ("el día 2", "2026-12-02"),
    ("2 de diciembre", "2026-12-02"),
    ("el 3 de diciembre", "2026-12-03"),
    ("2 de diciembre de 2027", "2027-12-02"),
])
def test_single_date(text: str, expected: str) -> None:
    assert values(text) == [expected]


@pytest.mark.parametrize("text", [
    "2", "#2", "option 3", "el 3", "la 2", "the second one", "2nd one", "I have 2 boxes",
    "por la mañana", "en la mañana", "de la mañana", "la mañana",
    "after 5", "5pm", "17:00", "between 2 and 4", "555-1234", "hasta mañana", "buenos días",
    "good morning", "wait a second", "12/45", "13/13", "may I help", "",
])
def test_not_a_date(text: str) -> None:
    assert values(text) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("mañana por la mañana", ["2026-11-25"]),
    ("mañana en la tarde", ["2026-11-25"]),
    ("cant do fri, how about sat", ["2026-11-27", "2026-11-28"]),
    ("tomorrow or the day after tomorrow", ["2026-11-25", "2026-11-26"]),
])
def test_several_dates_in_text_order(text: str, expected: list[str]) -> None:
    assert values(text) == expected


@pytest.mark.parametrize(("text", "day_first", "expected"), [
    ("2/12", False, "2027-02-12"),  # US: February 12th, already past -> next year
    ("2/12", True, "2026-12-02"),  # Spanish habit: 2 December
    ("30/11", False, "2026-11-30"),  # month > 12 can only be day-first
])
def test_numeric_order(text: str, day_first: bool, expected: str) -> None:
    assert values(text, day_first=day_first) == [expected]


def test_offsets_and_text_point_into_the_original() -> None:
    text = "¿Pueden venir el Viernes o pasado MAÑANA?"
    found = extract_dates(text, TUESDAY)
    assert [(e.text, e.value) for e in found] == [("el Viernes", "2026-11-27"),
                                                   ("pasado MAÑANA", "2026-11-26")]
    for e in found:
        assert text[e.start:e.end] == e.text
        assert e.entity == "date"


def test_offsets_survive_decomposed_accents() -> None:
    text = "ok man\u0303ana por favor"  # "mañana" typed as n + combining tilde
    [e] = extract_dates(text, TUESDAY)
    assert (e.start, e.end, e.text) == (3, 10, "man\u0303ana")
    assert e.value == "2026-11-25"


@pytest.mark.parametrize(("today", "text", "expected"), [
    (date(2026, 11, 27), "friday", "2026-12-04"),  # a Friday: next week's
    (date(2026, 11, 27), "today", "2026-11-27"),
    (date(2026, 12, 31), "tomorrow", "2027-01-01"),
    (date(2026, 12, 31), "Jan 2", "2027-01-02"),
    (date(2026, 12, 31), "the 1st", "2027-01-01"),
    (date(2027, 2, 10), "the 30th", "2027-03-30"),  # February has no 30th
    (date(2027, 3, 1), "Feb 29", "2028-02-29"),  # next leap year
])
def test_rollover(today: date, text: str, expected: str) -> None:
    assert values(text, today) == [expected]


def test_local_today_uses_the_shipment_timezone() -> None:
    late_utc = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert local_today(late_utc, "America/Los_Angeles") == date(2026, 11, 24)
    assert local_today(late_utc, "Europe/Madrid") == date(2026, 11, 25)
    naive = datetime(2026, 11, 24, 23, 30)
    assert local_today(naive, "Asia/Tokyo") == date(2026, 11, 24)
    aware = datetime(2026, 11, 24, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert local_today(aware, "America/New_York") == date(2026, 11, 24)


def test_helpers() -> None:
    assert next_weekday(TUESDAY, 1) == date(2026, 12, 1)
    assert next_weekday(TUESDAY, 2) == date(2026, 11, 25)
    assert next_day_of_month(TUESDAY, 24) == TUESDAY
    assert next_day_of_month(TUESDAY, 23) == date(2026, 12, 23)
    assert calendar_date(TUESDAY, 2, 30) is None
    assert calendar_date(TUESDAY, 1, 5, 27) == date(2027, 1, 5)


