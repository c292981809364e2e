"""All of Doorstep's slot entities for one message, in text order.

Order matters where spans compete: tracking numbers and addresses are found first, and
dates, times and option numbers inside them are discarded ("Apt 4" is not 4 pm, the digits
of a tracking number are not a date). Negated dates and times are then dropped ("can't do
Friday" keeps no Friday).
"""

from __future__ import annotations

from datetime import datetime

from nlu.base import Entity
from nlu.entities import Folded, drop_negated, fold
from nlu.entities.addresses import extract_addresses
from nlu.entities.dates import extract_dates, local_today
from nlu.entities.options import extract_options
from nlu.entities.tracking import extract_tracking_numbers
from nlu.entities.windows import extract_windows

__all__ = ["extract_entities"]


def _blank(f: Folded, entities: list[Entity]) -> Folded:
    """``f`` with the digits inside ``entities`` replaced by spaces (offsets kept)."""
    chars = list(f.text)
    for i, orig in enumerate(f.index[:-1]):
        if chars[i].isdigit() and any(e.start <= orig < e.end for e in entities):
            chars[i] = " "
    return Folded(f.original, "".join(chars), f.index)


def _outside(found: list[Entity], blocks: list[Entity]) -> list[Entity]:
    return [e for e in found if all(e.end <= b.start or e.start >= b.end for b in blocks)]


def extract_entities(text: str, reference_time: datetime, tz: str,
                     language: str | None = None) -> list[Entity]:
    """Entities of ``text``; dates resolve against ``reference_time`` in ``tz``."""
    folded = fold(text)
    tracking = extract_tracking_numbers(folded)
    blocks = tracking + _outside(extract_addresses(folded), tracking)
    dates = _outside(extract_dates(folded, local_today(reference_time, tz),
                                   day_first=language == "es"), blocks)
    # A day's own number is not a time: "dec 7 in the afternoon" is the afternoon of the 7th.
    windows = _outside(extract_windows(_blank(folded, dates)), blocks)
    options = _outside(extract_options(folded, taken=dates + windows + blocks), blocks)
    slots = drop_negated(sorted(dates + windows + options, key=lambda e: (e.start, e.entity)),
                         folded)
    return sorted(slots + blocks, key=lambda e: (e.start, e.entity))
