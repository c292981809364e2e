"""Delivery windows: the built-in calendar and matching a request to offered windows.

Pure functions: no clock, no I/O. Deliveries run Monday to Saturday, not on
Sundays or configured holidays, in three local windows per day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.models import Window

DAY_WINDOWS = ((time(8), time(12)), (time(12), time(17)), (time(17), time(21)))
LEAD_TIME = timedelta(hours=2)  # a window must start at least this long from now


def not_offered_reason(day: date, today: date, holidays: frozenset[date]) -> str | None:
    """Why no delivery can happen on ``day``: 'past', 'sunday', 'holiday' or None."""
    if day < today:
        return "past"
    if day.weekday() == 6:
        return "sunday"
    if day in holidays:
        return "holiday"
    return None


def business_windows(now: datetime, tz: str, holidays: frozenset[date],
                     days: int) -> list[Window]:
    """List the calendar's windows from ``now`` over the next ``days`` delivery days."""
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    out: list[Window] = []
    day = local_now.date()
    counted = 0
    while counted < days:
        if not_offered_reason(day, local_now.date(), holidays) is None:
            counted += 1
            for start, end in DAY_WINDOWS:
                window = Window(datetime.combine(day, start, zone),
                                datetime.combine(day, end, zone))
                if window.start >= local_now + LEAD_TIME:
                    out.append(window)
        day += timedelta(days=1)
    return out


def local_date(window: Window, tz: str) -> date:
    return window.start.astimezone(ZoneInfo(tz)).date()


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def overlaps(window: Window, tz: str, span: dict[str, str]) -> bool:
    """Whether ``window`` meets the requested local span {"start": "HH:MM", "end": "HH:MM"}."""
    zone = ZoneInfo(tz)
    start = window.start.astimezone(zone)
    end = window.end.astimezone(zone)
    w_start = start.hour * 60 + start.minute
    w_end = end.hour * 60 + end.minute if end.date() == start.date() else 24 * 60
    want_start, want_end = _minutes(span["start"]), _minutes(span["end"])
    return w_start < want_end and want_start < w_end


def match_windows(candidates: list[Window], tz: str, day: date | None,
                  span: dict[str, str] | None) -> list[Window]:
    """Windows among ``candidates`` on ``day`` (if given) that meet ``span`` (if given)."""
    found = [w for w in candidates if day is None or local_date(w, tz) == day]
    if span is not None:
        found = [w for w in found if overlaps(w, tz, span)]
    return found


def nearest_windows(candidates: list[Window], tz: str, day: date, count: int = 3) -> list[Window]:
    """The ``count`` candidates closest in days to ``day``, earliest first among equals."""
    ranked = sorted(candidates, key=lambda w: (abs((local_date(w, tz) - day).days), w.start))
    return sorted(ranked[:count], key=lambda w: w.start)
