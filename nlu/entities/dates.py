"""Date entities (English and Spanish), resolved to ``"YYYY-MM-DD"``.

Understands relative words ("today", "tmrw", "day after tomorrow", "pasado mañana",
"yesterday", "ayer", "in 3 days", "en una semana"), weekdays with optional modifiers
("fri", "next monday", "el próximo lunes", "friday next week"), day of month ("the 30th",
"el 30", "el día 2"), month-name dates ("Dec 2", "December 2nd, 2026", "2 de diciembre")
and numeric dates ("12/2", "12/2/2026", ISO "2026-12-02"). All resolution is relative to
``today``, the reference day *in the shipment's timezone* (see :func:`local_today`).

Rules: a bare weekday, "this <weekday>" and "next <weekday>" all mean the nearest such
day strictly after today; a day of month means its next occurrence (today counts); a
month-name or numeric date without a year that has already passed rolls to next year.
A bare number ("2") is never a date. "mañana" after "la"/"esta" is a time of day
("por la mañana"), not tomorrow.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nlu.base import Entity
from nlu.entities import Folded, alternation, as_folded, make_entity, select

MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
    "enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5,
    "junio": 6, "julio": 7, "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10,
    "noviembre": 11, "diciembre": 12, "dic": 12,
}
WEEKDAYS: dict[str, int] = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "wensday": 2,
    "wednsday": 2, "weds": 2, "wed": 2, "thursday": 3, "thrusday": 3, "thurs": 3,
    "thur": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6,
    "sun": 6,
    "lunes": 0, "martes": 1, "miercoles": 2, "mier": 2, "mie": 2, "jueves": 3, "jue": 3,
    "viernes": 4, "vie": 4, "sabado": 5, "sab": 5, "domingo": 6, "dom": 6,
}
NUMBER_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "a couple": 2,
    "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "un par de": 2,
}


MONTH_ALT = alternation(MONTHS)
WEEKDAY_ALT = alternation(WEEKDAYS)
TOMORROW_ALT = ("tomorrow|tomorow|tommorow|tommorrow|tomorrw|tmrw|tmrow|tmro|tmr|tmw"
                "|2moro|2morrow|2morro|2mrw|2mro")
_NUM_ALT = alternation(NUMBER_WORDS) + r"|\d{1,2}"
_SUFFIX = r"(?:st|nd|rd|th)"
_NOT_TIME = r"(?!\s*(?::\d|h\b|hrs?\b|a\.?m\b|p\.?m\b|de\s+la\b|/|\.\d))"

_RELATIVE = re.compile(
    r"(?P<before>\b(?:the\s+)?day\s+before\s+yesterday\b|\bantea?yer\b)"
    r"|(?P<yesterday>\b(?:yesterday|yday|ystrdy|ayer)\b)"
    rf"|(?P<after>\b(?:the\s+)?day\s+after\s+(?:{TOMORROW_ALT})\b|\bpasado\s+manana\b)"
    rf"|(?P<tomorrow>\b(?:{TOMORROW_ALT})\b|(?<!la\s)(?<!esta\s)(?<!hasta\s)\bmanana\b)"
    r"|(?P<today>\b(?:today|tdy|2day|tonight|tonite|2nite|2night|hoy"
    r"|this\s+(?:morning|afternoon|evening)|esta\s+(?:manana|tarde|noche))\b)")
_IN_DAYS = re.compile(
    rf"\b(?:in|en|dentro\s+de)\s+(?P<n>{_NUM_ALT})\s+(?P<unit>days?|dias?|weeks?|wks?|semanas?)\b")
_WEEKDAY = re.compile(
    r"\b(?P<pre>(?:this\s+coming|this|next|coming|el\s+proximo|el\s+siguiente|el|este"
    rf"|proximo)\s+)?(?P<wd>{WEEKDAY_ALT})\b\.?"
    r"(?P<post>\s+(?:que\s+viene|next\s+week|de\s+la\s+(?:proxima\s+semana"
    r"|semana\s+que\s+viene)))?")
_ORDINAL_DAY = re.compile(
    rf"\b(?:(?:on\s+)?the\s+)?(?P<d>\d{{1,2}}){_SUFFIX}\b"
    r"(?!\s+(?:one|option|choice|slot|of\s+(?:them|those|these)))")
_EL_DAY = re.compile(rf"\b(?P<pre>el\s+dia|dia|el|on\s+the)\s+(?P<d>\d{{1,2}})\b{_NOT_TIME}")
_MONTH_DAY = re.compile(
    rf"\b(?P<m>{MONTH_ALT})\b\.?\s+(?:the\s+)?(?P<d>\d{{1,2}}){_SUFFIX}?\b{_NOT_TIME}"
    r"(?:,?\s+(?:de\s+|del\s+)?(?P<y>\d{4})\b)?")
_DAY_MONTH = re.compile(
    rf"(?:\b(?:the|el)\s+(?:dia\s+)?)?\b(?P<d>\d{{1,2}}){_SUFFIX}?\s+(?:of\s+|de\s+)?"
    rf"(?P<m>{MONTH_ALT})\b\.?(?:,?\s+(?:de\s+|del\s+)?(?P<y>\d{{4}})\b)?")
_NUMERIC = re.compile(
    r"(?<![\d/.:-])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?(?![\d/])")
_ISO = re.compile(r"(?<![\d/-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d-])")


def local_today(reference_time: datetime, tz: str) -> date:
    """The calendar day of ``reference_time`` in timezone ``tz`` (naive = already local)."""
    zone = ZoneInfo(tz)
    if reference_time.tzinfo is None:
        return reference_time.date()
    try:
        return reference_time.astimezone(zone).date()
    except OverflowError:  # a day from the calendar's ends (year 1 or 9999): keep its own day
        return reference_time.date()


def _plus(day: date, days: int) -> date | None:
    """``day`` moved by ``days``, or None past the calendar's ends (year 1 or 9999)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def next_weekday(today: date, weekday: int) -> date | None:
    """The nearest ``weekday`` (Monday = 0) strictly after ``today`` (None after 9999)."""
    return _plus(today, (weekday - today.weekday() - 1) % 7 + 1)


def next_day_of_month(today: date, day: int) -> date | None:
    """The next date (today included) whose day of month is ``day``."""
    for k in range(13):
        year, month = today.year + (today.month - 1 + k) // 12, (today.month - 1 + k) % 12 + 1
        found = _safe(year, month, day)
        if found and found >= today:
            return found
    return None


def calendar_date(today: date, month: int, day: int, year: int | None = None) -> date | None:
    """``month``/``day`` in ``year``, or — with no year — the next one not before today."""
    if year is not None:
        return _safe(year + 2000 if year < 100 else year, month, day)
    for y in range(today.year, today.year + 9):
        found = _safe(y, month, day)
        if found and found >= today:
            return found
    return None


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[" ".join(word.split())]


def _candidates(f: Folded, today: date, day_first: bool) -> list[Entity]:
    text, out = f.text, []

    def add(m: re.Match[str], value: date | None) -> None:
        if value is not None:
            out.append(make_entity(f, "date", value.isoformat(), m.start(), m.end()))

    for m in _RELATIVE.finditer(text):
        offset = 2 if m.group("after") else 1 if m.group("tomorrow") else \
            -2 if m.group("before") else -1 if m.group("yesterday") else 0
        add(m, _plus(today, offset))
    for m in _IN_DAYS.finditer(text):
        n = _number(m.group("n"))
        add(m, _plus(today, n * (7 if m.group("unit")[0] in "ws" else 1)))
    for m in _WEEKDAY.finditer(text):
        weekday = WEEKDAYS[m.group("wd")]
        if m.group("post") and "viene" not in m.group("post"):  # "friday next week"
            add(m, _plus(today, 7 - today.weekday() + weekday))
        else:
            add(m, next_weekday(today, weekday))
    for m in _ORDINAL_DAY.finditer(text):
        add(m, next_day_of_month(today, int(m.group("d"))))
    for m in _EL_DAY.finditer(text):
        day = int(m.group("d"))
        if day >= 10 or m.group("pre") != "el":  # "el 3" alone is an option number
            add(m, next_day_of_month(today, day))
    for rx in (_MONTH_DAY, _DAY_MONTH):
        for m in rx.finditer(text):
            year = int(m.group("y")) if m.group("y") else None
            key = " ".join(m.group("m").split())
            add(m, calendar_date(today, MONTHS[key], int(m.group("d")), year))
    for m in _NUMERIC.finditer(text):
        a, b = int(m.group("a")), int(m.group("b"))
        month, day = (b, a) if day_first else (a, b)
        if month > 12 >= day:
            month, day = day, month
        if 1 <= month <= 12:
            year = int(m.group("y")) if m.group("y") else None
            add(m, calendar_date(today, month, day, year))
    for m in _ISO.finditer(text):
        add(m, _safe(int(m.group("y")), int(m.group("m")), int(m.group("d"))))
    return out


def extract_dates(text: str | Folded, today: date, *, day_first: bool = False) -> list[Entity]:
    """All ``date`` entities in ``text``, resolved against ``today``.

    ``day_first`` reads "2/12" as 2 December (Spanish habit); otherwise US month-first.
    """
    f = as_folded(text)
    return select(_candidates(f, today, day_first))
