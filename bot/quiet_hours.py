"""Quiet hours: when a proactive text may go out, in the recipient's local time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def in_quiet_hours(now: datetime, tz: str, quiet: tuple[time, time]) -> bool:
    """Whether ``now`` falls inside ``quiet`` (start, end) local time; may span midnight."""
    start, end = quiet
    if start == end:
        return False
    local = now.astimezone(ZoneInfo(tz)).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_send_time(now: datetime, tz: str, quiet: tuple[time, time]) -> datetime:
    """``now`` if sending is allowed, else the end of the current quiet period."""
    if not in_quiet_hours(now, tz, quiet):
        return now
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    end = quiet[1]
    candidate = datetime.combine(local.date(), end, zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), end, zone)
    return candidate
