"""Entity extraction helpers shared by the date, time-window and option extractors.

Every extractor works on a *folded* copy of the message (lower case, accents removed,
curly quotes and dashes made ASCII) so its patterns can be written once, and maps each
match back to character offsets in the original text through :class:`Folded`.

This module also holds the cross-cutting post-processing: choosing the longest of
overlapping candidates (:func:`select`) and dropping entities the customer negated
("can't do Friday, can you come Saturday?" keeps only Saturday; :func:`drop_negated`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nlu.base import Entity

__all__ = ["Folded", "fold", "as_folded", "make_entity", "select", "drop_negated", "alternation"]

_ASCII = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'",
                        "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One folded character for ``ch``, or "" for a combining mark."""
    for c in unicodedata.normalize("NFD", ch.translate(_ASCII).lower()):
        if not unicodedata.combining(c):
            return c
    return ""


@dataclass(frozen=True)
class Folded:
    """A folded message plus the map from folded to original offsets."""

    original: str
    text: str
    index: tuple[int, ...]  # index[i] = original offset of text[i]; one extra = len(original)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` for the folded slice ``text[start:end]``."""
        return self.index[start], self.index[end]


def alternation(words: Iterable[object]) -> str:
    """Regex alternation of ``words``, longest first so "fri" never shadows "friday";
    spaces inside a word match any run of whitespace."""
    return "|".join(sorted((re.escape(str(w)).replace(r"\ ", r"\s+") for w in words),
                           key=len, reverse=True))


def fold(text: str) -> Folded:
    """Lower-case ``text`` and strip its accents, keeping a map back to the original."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        f = _fold_char(ch)
        if f:
            chars.append(f)
            index.append(i)
    index.append(len(text))
    return Folded(text, "".join(chars), tuple(index))


def as_folded(text: str | Folded) -> Folded:
    """Accept either raw text or an already folded message."""
    return text if isinstance(text, Folded) else fold(text)


def make_entity(f: Folded, name: str, value: Any, start: int, end: int) -> Entity:
    """Build an entity from a folded match, with original offsets and text."""
    s, e = f.span(start, end)
    return Entity(name, value, s, e, f.original[s:e])


def select(candidates: Iterable[Entity]) -> list[Entity]:
    """Keep the longest of overlapping candidates (earliest on ties), in text order."""
    chosen: list[Entity] = []
    for c in sorted(candidates, key=lambda e: (e.start - e.end, e.start)):
        if all(c.end <= o.start or c.start >= o.end for o in chosen):
            chosen.append(c)
    return sorted(chosen, key=lambda e: e.start)


# A clause ends at punctuation or where a new request starts ("..., can you come sat").
_CLAUSE_BREAK = re.compile(
    r"[,.;:!?\u00bf\u00a1\n]+|\b(?:but|pero|so|asi que|how about|what about|que tal"
    r"|can (?:you|u)|could (?:you|u)|would (?:you|u)|will (?:you|u)|maybe|pueden|puede|podrian"
    r"|podria|prefiero|i prefer|i'd prefer)\b")
_NEGATION = re.compile(
    r"\b(?:not|cant|can't|cannot|won't|wont|don't|dont|doesn't|doesnt|isn't|isnt|aren't"
    r"|unable|no one|nobody|nadie|ni|nunca|no (?:good|bueno|way)|bad|busy|impossible|imposible"
    r"|ocupad[oa]s?)\b"
    r"|\bno (?:voy a |vamos a |va a )?(?:puedo|podre|podemos|puede|pueden|estoy|estare|estamos"
    r"|estaremos|estara|estar|voy|vamos|hay|me|nos|quiero|sirve|funciona|es|esta)\b")
_TRAILING_NO = re.compile(r"\bno\s*$")  # "hoy no", "el viernes no"
# A negation right before an entity negates that entity only: "SAT MORNING NOT TODAY",
# "sunday instead of today". (A bare "no" does not: "no, friday" is an answer.)
_TARGETED = re.compile(r"\b(?:not|ni|instead of|rather than|except|en vez de|en lugar de)"
                       r"\s+(?:(?:on|the|this|el|la|este|esta)\s+)?$")
_POSITIVE = re.compile(r"\b(?:instead|rather|better|prefer|mejor|en vez|en lugar)\b")


def drop_negated(entities: Sequence[Entity], text: str | Folded) -> list[Entity]:
    """Drop entities in a clause that negates them ("not friday", "no puedo el lunes").

    Negation words inside an entity's own text ("not before 5") do not count.
    """
    f = as_folded(text)
    if not entities:
        return []
    bounds = [0]
    for m in _CLAUSE_BREAK.finditer(f.text):
        bounds += [m.start(), m.end()]
    bounds.append(len(f.text))
    clauses = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]
    chars = list(f.text)
    reverse = {o: i for i, o in enumerate(f.index)}
    for e in entities:  # blank entity text so its own words are not read as negation
        s, t = reverse.get(e.start, 0), reverse.get(e.end, len(chars))
        chars[s:t] = " " * (t - s)
    blanked = "".join(chars)
    targeted = set()
    for e in entities:  # "not today": that entity is out, and the "not" is used up
        pos = reverse.get(e.start, 0)
        m = _TARGETED.search(blanked, 0, pos)
        if m and m.end() == pos:
            targeted.add(id(e))
            blanked = blanked[:m.start()] + " " * (m.end() - m.start()) + blanked[m.end():]
    kept = []
    for e in entities:
        if id(e) in targeted:
            continue
        pos = reverse.get(e.start, 0)
        cs, ce = next(((a, b) for a, b in clauses if a <= pos < b), (0, len(blanked)))
        clause = blanked[cs:ce]
        negated = _NEGATION.search(clause) or _TRAILING_NO.search(clause)
        if negated and not _POSITIVE.search(clause):
            continue
        kept.append(e)
    return kept
