"""The embedded NLU: fast, rule-based understanding of English and Spanish SMS.

:class:`EmbeddedNLU` implements :class:`nlu.base.NLU` with no model, network or data
files; everything is regular expressions over a folded copy of the message (lower case,
accents removed), so "MAÑANA", "mañana" and "manana" read alike, and entity offsets
still point into the original text.

What it understands
-------------------
Intents: ``reschedule``, ``affirm``, ``deny``, ``cancel``, ``human``, ``help``,
``greet``, ``thanks``, ``goodbye``, ``opt_out``, ``where_is_my_package``, ``inform``
(a bare slot answer: "tomorrow", "#2", "el viernes por la tarde") and ``out_of_scope``
(nothing matched, confidence 0.3). The keyword table is
:data:`nlu.intents.INTENT_PATTERNS`. A message that carries a slot entity leans to
``inform``/``reschedule``: "yes, friday" is inform, "no, friday instead" is reschedule
(with the date), and small talk never outranks a slot answer.

Entities (always both languages' rules, since customers mix):

* ``date`` — ``"YYYY-MM-DD"`` in the shipment's timezone: today/tomorrow/"tmrw"/"2moro",
  day after tomorrow, weekdays ("fri", "next monday", "el próximo lunes"), "in 3 days",
  "the 30th", "el 30", "Dec 2", "2 de diciembre", "12/2", "12/2/2026"
  (see :mod:`nlu.entities.dates`);
* ``time_window`` — ``{"start": "HH:MM", "end": "HH:MM"}``: morning/afternoon/evening,
  "por la tarde", "after 5", "antes de las 3", "between 2 and 4", "5pm", "noon"
  (see :mod:`nlu.entities.windows`);
* ``option_number`` — 1..9: "2", "#2", "option 3", "the second one", "la segunda", "el 3"
  (see :mod:`nlu.entities.options`).

Entities in a clause the customer negates are dropped: in "cant be home fri, can u come
sat morning" only Saturday and the morning survive. Entities come in text order.

Language: the ``language`` hint ("en"/"es") only breaks ties between the languages'
keyword rules and picks day-first reading of "2/12" for Spanish; with no hint the
language is guessed from the words (:func:`nlu.intents.detect_language`).

Limits
------
* Keywords, not understanding: paraphrases outside the table fall to out_of_scope,
  and long messages mixing several requests get the strongest keyword.
* No weekends ("this weekend"), no "next week" without a weekday, no ordinal words as
  days ("December first"), no dash dates ("12-2"); "the 2nd" is a date, "2nd one" an option.
* Times without am/pm follow delivery hours (1-7 = pm). A single time ("at 5pm") becomes
  a two-hour window around it; "after 9pm" ends at 23:59, "before 8am" starts at 00:00.
* Negation is clause-level and keyword-based ("not", "can't", "no puedo", ...); a bare
  "no" is an interjection, not a negation, so "no friday" keeps Friday.
* Past explicit dates with a year are returned as written; callers validate ranges.
"""

from __future__ import annotations

from datetime import datetime

from nlu.base import Entity, Intent, ParseResult
from nlu.entities import drop_negated, fold
from nlu.entities.dates import extract_dates, local_today
from nlu.entities.options import extract_options
from nlu.entities.windows import extract_windows
from nlu.intents import classify, detect_language, is_bare

__all__ = ["EmbeddedNLU"]

LANGUAGES = ("en", "es")


class EmbeddedNLU:
    """Rule-based :class:`nlu.base.NLU`; construct once and share (it keeps no state)."""

    def __init__(self, default_language: str = "en") -> None:
        if default_language not in LANGUAGES:
            raise ValueError(f"unsupported language {default_language!r}")
        self.default_language = default_language

    def language_of(self, text: str) -> str:
        """Guess ``"en"`` or ``"es"`` for ``text``."""
        return detect_language(text) if text.strip() else self.default_language

    def entities(self, text: str, reference_time: datetime, tz: str,
                 language: str | None = None) -> list[Entity]:
        """Slot entities of ``text`` in text order, negated ones removed."""
        lang = language if language in LANGUAGES else self.language_of(text)
        folded = fold(text)
        today = local_today(reference_time, tz)
        dates = extract_dates(folded, today, day_first=lang == "es")
        windows = extract_windows(folded)
        options = extract_options(folded, taken=dates + windows)
        found = sorted(dates + windows + options, key=lambda e: (e.start, e.entity))
        return drop_negated(found, folded)

    def parse(self, text: str, reference_time: datetime, tz: str,
              language: str | None = None) -> ParseResult:
        """Parse one message; relative dates resolve against ``reference_time`` in ``tz``."""
        if not text or not text.strip():
            oos = Intent("out_of_scope", 0.3)
            return ParseResult(text=text, intent=oos, intent_ranking=(oos,))
        lang = language if language in LANGUAGES else self.language_of(text)
        entities = self.entities(text, reference_time, tz, lang)
        residual = list(text)
        for e in entities:
            residual[e.start:e.end] = " " * (e.end - e.start)
        ranking = classify(text, language=lang, slots={e.entity for e in entities},
                           bare=bool(entities) and is_bare("".join(residual)))
        return ParseResult(text=text, intent=ranking[0], intent_ranking=tuple(ranking),
                           entities=tuple(entities))
