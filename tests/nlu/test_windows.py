"""Time-window entities: each phrase and the ``{"start", "end"}`` it stands for."""

from __future__ import annotations

import pytest

from nlu.entities.windows import extract_windows


def spans(text: str) -> list[tuple[str, str]]:
    return [(e.value["start"], e.value["end"]) for e in extract_windows(text)]


@pytest.mark.parametrize(("text", "start", "end"), [
    # parts of the day
    ("morning", "08:00", "12:00"),
    ("in the morning", "08:00", "12:00"),
    ("sat morning", "08:00", "12:00"),
    ("afternoon", "12:00", "17:00"),
    ("this afternoon", "12:00", "17:00"),
    ("evening", "17:00", "21:00"),
    ("tonight", "17:00", "21:00"),
    ("tmrw night", "17:00", "21:00"),
    ("fri pm", "12:00", "17:00"),
    ("in the am", "08:00", "12:00"),
    # after / before, bare hours 1-7 read as pm
    ("after 5", "17:00", "21:00"),
    ("after 5pm", "17:00", "21:00"),
    ("anytime after 3:30", "15:30", "21:00"),
    ("after 10am", "10:00", "21:00"),
    ("after noon", "12:00", "21:00"),
    ("not before 4", "16:00", "21:00"),
    ("after 9pm", "21:00", "23:59"),
    ("before 3", "08:00", "15:00"),
    ("before noon", "08:00", "12:00"),
    ("before 11", "08:00", "11:00"),
    ("by 2", "08:00", "14:00"),
    ("b4 5", "08:00", "17:00"),
    # ranges
    ("between 2 and 4", "14:00", "16:00"),
    ("between 10 and 2", "10:00", "14:00"),
    ("2-4", "14:00", "16:00"),
    ("2 - 4pm", "14:00", "16:00"),
    ("2–4", "14:00", "16:00"),  # en dash
    ("10 to 2", "10:00", "14:00"),
    ("from 9 to 11", "09:00", "11:00"),
    ("9am-1", "09:00", "13:00"),
    ("10-2pm", "10:00", "14:00"),
    ("6-8am", "06:00", "08:00"),
    ("7-9", "19:00", "21:00"),
    ("13:00-15:30", "13:00", "15:30"),
    # a single time: two hours around it
    ("5pm", "16:00", "18:00"),
    ("5:30 pm", "16:30", "18:30"),
    ("5 p.m.", "16:00", "18:00"),
    ("17:00", "16:00", "18:00"),
    ("at 5", "16:00", "18:00"),
    ("around 11am", "10:00", "12:00"),
    ("noon", "11:00", "13:00"),
    ("12pm", "11:00", "13:00"),
    # Spanish
    ("por la mañana", "08:00", "12:00"),
    ("por la manana", "08:00", "12:00"),
    ("en la mañana", "08:00", "12:00"),
    ("por la tarde", "12:00", "17:00"),
    ("en la tarde", "12:00", "17:00"),
    ("el viernes tarde", "12:00", "17:00"),
    ("por la noche", "17:00", "21:00"),
    ("esta noche", "17:00", "21:00"),
    ("después de las 5", "17:00", "21:00"),
    ("despues de las 5", "17:00", "21:00"),
    ("a partir de las 4", "16:00", "21:00"),
    ("después del mediodía", "12:00", "21:00"),
    ("antes de las 3", "08:00", "15:00"),
    ("antes del mediodía", "08:00", "12:00"),
    ("entre las 2 y las 4", "14:00", "16:00"),
    ("entre 2 y 4", "14:00", "16:00"),
    ("de 2 a 4", "14:00", "16:00"),
    ("de las 10 a las 12", "10:00", "12:00"),
    ("desde las 9 hasta las 11", "09:00", "11:00"),
    ("a las 5 de la tarde", "16:00", "18:00"),
    ("a las 10 de la mañana", "09:00", "11:00"),
    ("mediodía", "11:00", "13:00"),
    ("al mediodia", "11:00", "13:00"),
    # a part of the day next to an explicit time is narrowed by it
    ("morning after 10", "10:00", "12:00"),
    ("afternoon, before 3", "12:00", "15:00"),
    ("por la tarde después de las 3", "15:00", "17:00"),
    ("after 5 in the evening", "17:00", "21:00"),
])
def test_single_window(text: str, start: str, end: str) -> None:
    assert spans(text) == [(start, end)]


@pytest.mark.parametrize("text", [
    "2", "#2", "option 3", "good morning", "good evening", "good night", "buenas tardes",
    "buenas noches", "mañana", "manana", "12/2", "Dec 2", "in 2 days", "in 2 to 3 days",
    "2 hours", "555-1234", "call 555-0142", "at 2 Main St", "at 4 oak street", "last night",
    "after 3 days", "2 de diciembre", "the 30th", "",
])
def test_not_a_window(text: str) -> None:
    assert spans(text) == []


def test_offsets_and_text_point_into_the_original() -> None:
    text = "Mañana POR LA TARDE, después de las 3!"
    [e] = extract_windows(text)
    assert e.entity == "time_window"
    assert e.text == "POR LA TARDE, después de las 3"
    assert text[e.start:e.end] == e.text
    assert e.value == {"start": "15:00", "end": "17:00"}


def test_tomorrow_morning_in_spanish_is_a_window_once() -> None:
    text = "mañana por la mañana"
    [e] = extract_windows(text)
    assert (e.text, e.start) == ("por la mañana", 7)


def test_two_windows_far_apart_stay_separate() -> None:
    assert spans("not in the morning, the evening is better") == [("08:00", "12:00"),
                                                                   ("17:00", "21:00")]
