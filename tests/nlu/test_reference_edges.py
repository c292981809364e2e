"""Relative dates through the whole engine on awkward reference days: DST changes (the
reference time arrives in UTC and is read in the shipment's timezone), US holidays, month
and year ends. The NLU resolves dates; whether a day is deliverable is the calendar's job."""

from __future__ import annotations

import os
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from nlu.embedded import EmbeddedNLU

NY = "America/New_York"
UTC = ZoneInfo("UTC")


@cache
def engine() -> EmbeddedNLU:
    return EmbeddedNLU.from_dir(Path(os.environ["NLU_MODEL_DIR"]))


def dates(text: str, when: datetime, tz: str = NY) -> list[str]:
    return [e.value for e in engine().parse(text, when, tz).entities if e.entity == "date"]


@pytest.mark.parametrize("when, text, expected", [
    # spring forward, Sunday 2026-03-08 02:00 EST -> 03:00 EDT
    (datetime(2026, 3, 8, 6, 59, tzinfo=UTC), "today", "2026-03-08"),  # 01:59 EST
    (datetime(2026, 3, 8, 7, 1, tzinfo=UTC), "tomorrow", "2026-03-09"),  # 03:01 EDT
    (datetime(2026, 3, 8, 4, 30, tzinfo=UTC), "today", "2026-03-07"),  # still Saturday night
    (datetime(2026, 3, 8, 4, 30, tzinfo=UTC), "mañana", "2026-03-08"),
    # fall back, Sunday 2026-11-01 02:00 EDT -> 01:00 EST
    (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "today", "2026-11-01"),  # 01:30 EST
    (datetime(2026, 11, 2, 4, 30, tzinfo=UTC), "tomorrow", "2026-11-02"),  # 23:30 EST Sunday
    (datetime(2026, 11, 2, 4, 30, tzinfo=UTC), "in 3 days", "2026-11-04"),
    # US holidays as the reference day
    (datetime(2026, 11, 26, 15, 0, tzinfo=UTC), "tomorrow", "2026-11-27"),  # Thanksgiving
    (datetime(2026, 11, 26, 15, 0, tzinfo=UTC), "el viernes", "2026-11-27"),
    (datetime(2026, 12, 25, 15, 0, tzinfo=UTC), "monday", "2026-12-28"),  # Christmas, a Friday
    (datetime(2027, 7, 4, 15, 0, tzinfo=UTC), "the 5th", "2027-07-05"),  # Independence Day
    # month and year ends, read in the shipment's zone
    (datetime(2027, 1, 1, 3, 0, tzinfo=UTC), "tomorrow", "2027-01-01"),  # 22:00 Dec 31 in NY
    (datetime(2026, 11, 30, 20, 0, tzinfo=UTC), "el día 2", "2026-12-02"),  # "el 2" is option 2
    (datetime(2026, 12, 30, 20, 0, tzinfo=UTC), "jan 4", "2027-01-04"),
])
def test_relative_dates_on_awkward_days(when: datetime, text: str, expected: str) -> None:
    assert dates(text, when) == [expected]


def test_the_same_instant_is_a_different_day_in_another_zone() -> None:
    when = datetime(2026, 3, 8, 4, 30, tzinfo=UTC)
    assert dates("today", when, "America/Los_Angeles") == ["2026-03-07"]
    assert dates("today", when, "Europe/Madrid") == ["2026-03-08"]
