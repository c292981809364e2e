"""Time-window entities (English and Spanish): ``{"start": "HH:MM", "end": "HH:MM"}``.

Named parts of the day: morning 08:00-12:00, afternoon 12:00-17:00, evening / night /
tonight 17:00-21:00 ("por la mañana", "en la tarde", "esta noche", "viernes tarde").
Explicit times: "after 5" / "después de las 5" -> 17:00-21:00, "before 3" /
"antes de las 3" -> 08:00-15:00, "between 2 and 4" / "2-4pm" / "10 to 2" /
"entre las 2 y las 4" / "de 2 a 4"; a single time ("at 5pm", "a las 5", "17:00",
"noon", "mediodía") becomes a two-hour window centred on it.

An hour without am/pm follows delivery-hours sense: 1-7 is pm, 8-11 am, 12 noon.
A named part of the day next to an explicit time is intersected with it
("morning after 10" -> 10:00-12:00).
"""

from __future__ import annotations

import re

from nlu.base import Entity
from nlu.entities import Folded, as_folded, make_entity, select
from nlu.entities.dates import MONTH_ALT

DAY_START, DAY_END, LATEST = 8 * 60, 21 * 60, 23 * 60 + 59
NAMED: dict[str, tuple[int, int]] = {"morning": (8 * 60, 12 * 60),
                                     "afternoon": (12 * 60, 17 * 60),
                                     "evening": (17 * 60, 21 * 60)}
_PART = {"morning": "morning", "mornin": "morning", "am": "morning", "manana": "morning",
         "afternoon": "afternoon", "aftn": "afternoon", "pm": "afternoon", "tarde": "afternoon",
         "evening": "evening", "night": "evening", "tonight": "evening", "tonite": "evening",
         "2nite": "evening", "2night": "evening", "noche": "evening"}

_MER = (r"a\.?m\b\.?|p\.?m\b\.?|h\b|o'?clock\b|en\s+punto\b"
        r"|(?:de|por|en)\s+la\s+(?:manana|tarde|noche)\b"
        r"|in\s+the\s+(?:morning|afternoon|evening)\b|at\s+night\b")
_UNITS = (rf"(?!\s*(?:days?|dias?|weeks?|semanas?|hours?|horas?|hrs?|mins?|minutes?|minutos?"
          rf"|(?:of\s+|de\s+)?(?:{MONTH_ALT}))\b)")
_ART = r"(?:(?:las?|el)\s+)?"


def _t(n: int) -> str:
    """A time of day with group names suffixed by ``n``."""
    return (rf"(?:\b(?P<noon{n}>noon|midday|mediodia|medio\s+dia)\b"
            rf"|(?<![\d/.:$#])(?P<h{n}>\d{{1,2}})(?::(?P<m{n}>[0-5]\d))?"
            rf"(?:\s*(?P<mer{n}>{_MER}))?(?![\d/:]){_UNITS})")


_RANGES = tuple(re.compile(p) for p in (
    rf"\b(?:between|btwn|btw|entre)\s+{_ART}{_t(1)}(?:\s*[-&]\s*|\s+(?:and|y|to|a)\s+){_ART}{_t(2)}",
    rf"(?:\b(?:from|desde|de)\s+{_ART})?{_t(1)}"
    rf"(?:\s*-\s*|\s+(?:to|till|til|until|thru|through|hasta)\s+{_ART}){_t(2)}",
    rf"\b(?:de|desde)\s+{_ART}{_t(1)}\s+a\s+{_ART}{_t(2)}"))
_AFTER = re.compile(
    r"\b(?:(?:any\s*time\s+)?after|aftr|later\s+than|not\s+before|past|from|starting(?:\s+at)?"
    r"|(?:despues|luego)\s+de(?:l|\s+las?)?|a\s+partir\s+de(?:l|\s+las?)?|desde(?:\s+las?)?)"
    rf"\s+{_t(1)}")
_BEFORE = re.compile(
    r"(?:\b(?:before|bfr|by|until|till|til|no\s+later\s+than|not\s+after|earlier\s+than"
    rf"|antes\s+de(?:l|\s+las?)?|hasta(?:\s+las?)?)\s+|\bb4\s*){_t(1)}")
_POINT = re.compile(
    rf"(?:\b(?:at|around|about|approx\.?|approximately|round)\s+{_ART}"
    r"|\b(?:a|sobre|hacia|como\s+a|a\s+eso\s+de|cerca\s+de)\s+(?:las?|el)\s+"
    rf"|(?<!\w)[@~]\s*|\bal\s+(?=medio))?{_t(1)}"
    r"(?!\s+(?:\w+\s+)?(?:st|street|ave|avenue|rd|road|blvd|dr|drive|ln|lane|apt|unit|calle"
    r"|avenida)\b)")
_NAMED = re.compile(
    r"(?<!good\s)(?<!last\s)(?:\b(?:in|during)\s+the\s+|\bthis\s+|\bat\s+)?"
    r"\b(?P<w>morning|mornin|afternoon|aftn|evening|night|tonight|tonite|2nite|2night)\b"
    r"|\bin\s+the\s+(?P<w2>am|pm)\b"
    r"|\b(?:(?:por|en|de|a|durante)\s+la|la|esta)\s+(?P<w3>manana|tarde|noche)\b"
    r"|\b(?:today|tomorrow|tmrw|tmr|2moro|hoy|manana|mon|monday|tue|tues|tuesday|wed|wednesday"
    r"|thu|thur|thurs|thursday|fri|friday|sat|saturday|sun|sunday|lunes|martes|miercoles"
    r"|jueves|viernes|sabado|domingo)\s+(?P<w4>am|pm|tarde|noche)\b")


def _mer_class(mer: str | None) -> str | None:
    if not mer:
        return None
    if mer[0] == "a" and mer[1:2] in (".", "m"):
        return "am"
    if mer[0] == "p" and mer[1:2] in (".", "m"):
        return "pm"
    if "manana" in mer or "morning" in mer:
        return "am"
    if any(w in mer for w in ("tarde", "noche", "afternoon", "evening", "night")):
        return "pm"
    return None


def _minutes(m: re.Match[str], n: int, force: str | None = None) -> tuple[int, bool] | None:
    """(minutes after midnight, had an explicit am/pm) for time ``n``, or None."""
    if m.group(f"noon{n}"):
        return 12 * 60, True
    hour, minute = int(m.group(f"h{n}")), int(m.group(f"m{n}") or 0)
    mer = _mer_class(m.group(f"mer{n}")) or force
    if mer and not 1 <= hour <= 12 or hour > 23:
        return None
    if mer == "am":
        hour = 0 if hour == 12 else hour
    elif mer == "pm":
        hour = hour if hour == 12 else hour + 12
    elif 1 <= hour <= 7:
        hour += 12
    return hour * 60 + minute, mer is not None


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window(start: int, end: int) -> dict[str, str]:
    return {"start": _fmt(start), "end": _fmt(end)}


def _range(m: re.Match[str]) -> dict[str, str] | None:
    second = _minutes(m, 2)
    if second is None:
        return None
    end, end_explicit = second
    first = _minutes(m, 1)
    if first is None:
        return None
    start, start_explicit = first
    if not start_explicit and end_explicit and m.group("h1"):
        as_pm, as_am = _minutes(m, 1, "pm"), _minutes(m, 1, "am")
        if as_pm and as_pm[0] < end:
            start = as_pm[0]
        elif as_am:
            start = as_am[0]
    if end <= start and not end_explicit and end < 12 * 60:
        end += 12 * 60
    if end <= start and not start_explicit and start >= 12 * 60 and start - 12 * 60 < end:
        start -= 12 * 60
    return _window(start, end) if start < end else None


def _candidates(f: Folded) -> tuple[list[Entity], list[Entity]]:
    text, explicit, named = f.text, [], []

    def add(m: re.Match[str], value: dict[str, str] | None, s: int = -1, e: int = -1) -> None:
        if value is not None:
            explicit.append(make_entity(f, "time_window", value,
                                        m.start() if s < 0 else s, m.end() if e < 0 else e))

    for rx in _RANGES:
        for m in rx.finditer(text):
            add(m, _range(m))
    for m in _AFTER.finditer(text):
        if (t := _minutes(m, 1)) is not None:
            add(m, _window(t[0], DAY_END if t[0] < DAY_END else LATEST))
    for m in _BEFORE.finditer(text):
        if (t := _minutes(m, 1)) is not None:
            add(m, _window(DAY_START if t[0] > DAY_START else 0, t[0]) if t[0] else None)
    for m in _POINT.finditer(text):
        bare = m.group(0)[:1].isdigit()
        if bare and not (m.group("mer1") or m.group("m1")):
            continue  # a lone number is not a time
        if (t := _minutes(m, 1)) is not None:
            add(m, _window(max(0, t[0] - 60), min(LATEST, t[0] + 60)))
    for m in _NAMED.finditer(text):
        key = next(k for k in ("w", "w2", "w3", "w4") if m.group(k))
        start, end = NAMED[_PART[m.group(key)]]
        s = m.start(key) if key == "w4" else m.start()
        named.append(make_entity(f, "time_window", _window(start, end), s, m.end()))
    return select(explicit), named


def _minutes_of(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _merge(named: Entity, exact: Entity, original: str) -> Entity | None:
    """One entity for a part of day next to an explicit time, if they overlap."""
    start = max(_minutes_of(named.value["start"]), _minutes_of(exact.value["start"]))
    end = min(_minutes_of(named.value["end"]), _minutes_of(exact.value["end"]))
    if start >= end:
        return None
    s, e = min(named.start, exact.start), max(named.end, exact.end)
    return Entity("time_window", _window(start, end), s, e, original[s:e])


def extract_windows(text: str | Folded) -> list[Entity]:
    """All ``time_window`` entities in ``text``."""
    f = as_folded(text)
    explicit, named = _candidates(f)
    out: list[Entity] = []
    for n in select(named):
        if any(not (x.end <= n.start or x.start >= n.end) for x in explicit):
            continue  # "5 de la tarde": the explicit time already used it
        near = [x for x in explicit
                if (x.start >= n.end and not f.original[n.end:x.start].strip(" ,"))
                or (x.end <= n.start and not f.original[x.end:n.start].strip(" ,"))]
        merged = _merge(n, near[0], f.original) if near else None
        if merged is not None:
            explicit.remove(near[0])
            out.append(merged)
        else:
            out.append(n)
    return select(out + explicit)
