"""SMS rendering: numbered choices within two segments."""

from __future__ import annotations

from channels.render import fold_to_gsm7, render_sms, segments


def test_choices_are_numbered_lines():
    assert render_sms("Pick one:", ("a", "b")) == "Pick one:\n1) a\n2) b"


def test_segment_counts_follow_gsm7_and_ucs2_limits():
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("{" * 80) == 1 and segments("{" * 81) == 2  # extension chars count twice
    assert segments("ó" * 70) == 1 and segments("ó" * 71) == 2
    assert segments("ó" * 134) == 2 and segments("ó" * 135) == 3


def test_long_spanish_text_is_folded_to_gsm7_only_when_it_saves_segments():
    short = "¿Mañana a qué hora?"
    assert render_sms(short) == short
    long = "Elija otro horario con un número, o díganos día y hora " * 3
    rendered = render_sms(long)
    assert segments(rendered) <= 2
    assert "numero" in rendered and "Elija" in rendered
    assert "ñ" in fold_to_gsm7("mañana")  # ñ is GSM-7: kept
