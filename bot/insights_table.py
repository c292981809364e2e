"""The in-memory table behind the insights: one row of numpy columns per case.

Text dimensions (type, carrier, reason, postal code, status …) are stored as small
integer codes with one vocabulary each (code 0: not given), so filters and counts are
integer comparisons and ``bincount``; times are POSIX seconds (NaN: not happened).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from bot.insights_facts import CHANNELS, MESSAGE_COUNTS

DIMENSIONS = ("type", "carrier", "reason", "postal_code", "channel", "status", "closed_by",
              "outcome")
TIMES = ("opened", "escalated", "first_staff", "closed")
RESCHEDULE = ("", "booked_first_offer", "booked_other_window", "not_booked")


def _seconds(value: str | None) -> float:
    if not value:
        return math.nan
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return math.nan


def _iso(seconds: float) -> str:
    return "" if math.isnan(seconds) else \
        datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def reschedule_kind(facts: dict[str, str]) -> int:
    """0: no windows offered; else the index of the outcome in ``RESCHEDULE``."""
    if "offered" not in facts:
        return 0
    booked = facts.get("booked")
    if not booked:
        return 3
    return 1 if booked in facts["offered"].split(",") else 2


class FactTable:
    """Case facts as columns; rows are added or overwritten by case id."""

    def __init__(self, tz: ZoneInfo, capacity: int = 1024) -> None:
        self.tz = tz
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.vocab: dict[str, dict[str, int]] = {d: {"": 0} for d in DIMENSIONS}
        self.labels: dict[str, list[str]] = {d: [""] for d in DIMENSIONS}
        self.cols: dict[str, np.ndarray] = {}
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        shapes: dict[str, tuple[tuple[int, ...], Any, Any]] = {
            **{d: ((capacity,), np.int32, 0) for d in DIMENSIONS},
            **{t: ((capacity,), np.float64, math.nan) for t in TIMES},
            "day": ((capacity,), np.int64, 0), "opted_out": ((capacity,), np.bool_, False),
            "resched": ((capacity,), np.int8, 0), "full": ((capacity,), np.int32, 0),
            "messages": ((capacity, len(CHANNELS), len(MESSAGE_COUNTS)), np.int32, 0)}
        grown = {}
        for name, (shape, dtype, fill) in shapes.items():
            col = np.full(shape, fill, dtype=dtype)
            if name in self.cols:
                col[:len(self.ids)] = self.cols[name][:len(self.ids)]
            grown[name] = col
        self.cols = grown

    def __len__(self) -> int:
        return len(self.ids)

    def code(self, dim: str, label: str) -> int:
        """The code of ``label`` in ``dim`` (-1 if never seen: matches no row)."""
        return self.vocab[dim].get(label, -1)

    def label(self, dim: str, code: int) -> str:
        return self.labels[dim][code]

    def _encode(self, dim: str, label: str | None) -> int:
        label = label or ""
        vocab = self.vocab[dim]
        if label not in vocab:
            vocab[label] = len(self.labels[dim])
            self.labels[dim].append(label)
        return vocab[label]

    def col(self, name: str) -> np.ndarray:
        """The column ``name`` over the rows in use."""
        return self.cols[name][:len(self.ids)]

    def put(self, case_id: str, facts: dict[str, str]) -> None:
        """Add or overwrite the row of ``case_id`` from its facts hash."""
        i = self.index.get(case_id)
        if i is None:
            i = len(self.ids)
            if i == len(self.cols["day"]):
                self._allocate(2 * i)
            self.ids.append(case_id)
            self.index[case_id] = i
        c = self.cols
        for dim in DIMENSIONS:
            c[dim][i] = self._encode(dim, facts.get(dim) or ("open" if dim == "status" else ""))
        for name in TIMES:
            c[name][i] = _seconds(facts.get(name))
        opened = c["opened"][i]
        c["day"][i] = 0 if math.isnan(opened) else \
            datetime.fromtimestamp(opened, self.tz).date().toordinal()
        c["opted_out"][i] = bool(facts.get("opted_out"))
        c["resched"][i] = reschedule_kind(facts)
        c["full"][i] = int(facts.get("full") or 0)
        for ci, channel in enumerate(CHANNELS):
            for mi, count in enumerate(MESSAGE_COUNTS):
                c["messages"][i, ci, mi] = int(facts.get(f"{count}:{channel}") or 0)

    def select(self, first_day: int, last_day: int, types: tuple[str, ...],
               carriers: tuple[str, ...]) -> np.ndarray:
        """Row numbers of the cases opened on those local days, of those types/carriers."""
        day = self.col("day")
        mask = (day >= first_day) & (day <= last_day)
        if types:
            mask &= np.isin(self.col("type"), [self.code("type", t) for t in types])
        if carriers:
            mask &= np.isin(self.col("carrier"), [self.code("carrier", c) for c in carriers])
        return np.flatnonzero(mask)

    def snapshot(self, rows: np.ndarray) -> FactTable:
        """A copy of ``rows`` only (in that order), to read while this table changes."""
        copy = FactTable.__new__(FactTable)
        copy.tz, copy.vocab = self.tz, self.vocab
        copy.labels = {d: list(labels) for d, labels in self.labels.items()}
        copy.ids = [self.ids[int(i)] for i in rows]
        copy.index = {}
        copy.cols = {name: col[rows] for name, col in self.cols.items()}
        return copy

    def row(self, i: int) -> dict[str, Any]:
        """One case as the CSV export shows it."""
        c = self.cols

        def since(a: str, b: str) -> float | str:
            value = c[b][i] - c[a][i]
            return "" if math.isnan(value) else round(float(value), 3)
        out: dict[str, Any] = {"case_id": self.ids[i], "opened_at": _iso(c["opened"][i])}
        for dim in ("type", "reason", "carrier", "postal_code", "channel", "status",
                    "outcome", "closed_by"):
            out[dim] = self.label(dim, int(c[dim][i]))
        out.update({"closed_at": _iso(c["closed"][i]),
                    "escalated_at": _iso(c["escalated"][i]),
                    "first_staff_response_at": _iso(c["first_staff"][i]),
                    "time_to_resolution_s": since("opened", "closed")
                    if out["status"] == "resolved" else "",
                    "time_to_first_staff_response_s": since("escalated", "first_staff"),
                    "reschedule": RESCHEDULE[int(c["resched"][i])],
                    "opted_out": "yes" if c["opted_out"][i] else "no"})
        for ci, channel in enumerate(CHANNELS):
            for mi, count in enumerate(MESSAGE_COUNTS):
                out[f"{channel}_{count}"] = int(c["messages"][i, ci, mi])
        return out


CSV_COLUMNS = ("case_id", "opened_at", "type", "reason", "carrier", "postal_code", "channel",
               "status", "outcome", "closed_by", "closed_at", "escalated_at",
               "first_staff_response_at", "time_to_resolution_s",
               "time_to_first_staff_response_s", "reschedule", "opted_out",
               *(f"{ch}_{count}" for ch in CHANNELS for count in MESSAGE_COUNTS))
