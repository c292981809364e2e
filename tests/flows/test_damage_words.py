"""Reading a damage report's words: what is dangerous, which remedy is named."""

from __future__ import annotations

import pytest

from flows.damage_words import is_dangerous, remedy_of


@pytest.mark.parametrize("text", [
    "It's leaking all over the floor", "broken glass everywhere", "there is smoke coming out",
    "smells of chemicals", "the battery is swollen", "la caja gotea", "hay vidrio roto",
    "sale humo", "huele a químico", "está quemado",
])
def test_dangerous_descriptions_are_recognised(text):
    assert is_dangerous(text)


@pytest.mark.parametrize("text", [
    "it's not leaking, just dented", "box crushed, nothing is leaking", "no gotea, solo golpe",
    "the corner is torn", "la caja está abollada",
])
def test_harmless_descriptions_are_not_dangerous(text):
    assert not is_dangerous(text)


@pytest.mark.parametrize("text,remedy", [
    ("a replacement please", "replacement"), ("send me a new one", "replacement"),
    ("quiero uno nuevo", "replacement"), ("refund", "refund"), ("I want my money back", "refund"),
    ("la devolución del dinero", "refund"), ("reembolso", "refund"),
    ("keep it with a discount", "keep_with_discount"), ("me lo quedo", "keep_with_discount"),
    ("descuento", "keep_with_discount"), ("no idea", None), ("refund or replacement", None),
])
def test_remedy_in_words(text, remedy):
    assert remedy_of(text) == remedy
