"""Supervisors' figures: where exceptions come from and how they end.

Each process keeps the case facts (:mod:`bot.insights_facts`) in a columnar table in
memory (numpy arrays, one row per case) and brings it up to date before each read by
fetching only the cases changed since its last look. Figures for any date range, type
and carrier are then array operations over the rows: no timeline is read on a request.

Definitions (also in the README):

* A case counts in the day it **opened**, in the service's ``DEFAULT_TIMEZONE``.
* **Self-service**: resolved by the customer's own dialogue (chat or tracking page) and
  never escalated. **Escalation**: escalated at least once. **Expiry**: closed for want
  of a reply. Rates are shares of the cases that opened in the range.
* **Time to resolution**: opened → resolved, resolved cases only. **Time to first staff
  response**: first escalated → first message written by a person. Medians are the
  usual median (mean of the middle two for an even count); p90 is the nearest-rank
  value (the smallest that at least 90 % are at or under).
* **Reschedule outcomes**, for cases offered windows: booked one of the windows first
  shown, booked another (asked for a different time), or booked none.
* **Delivery** per channel counts messages: queued, sent (accepted by Twilio/Telegram),
  delivered (Twilio's receipt), failed for good, suppressed (not sent on purpose).
  Success = (queued − suppressed − failed) / (queued − suppressed).
* **Opt-out rate**: cases whose customer texted STOP, of the cases messaged by SMS.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from bot.insights_facts import (
    CHANGED_KEY,
    CHANNELS,
    MESSAGE_COUNTS,
    VERSION_KEY,
    apply_ops,
    facts_key,
    fold,
)
from bot.insights_table import FactTable
from bot.store import Store, key_for

log = logging.getLogger("doorstep.insights")

TOP = 10
EARLIEST = date(2000, 1, 1)  # no parcel Doorstep handled opened before this
FETCH_BATCH = 2000


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def median_p90(values: np.ndarray) -> dict[str, Any]:
    """Count, median and nearest-rank p90 of durations in seconds (None when empty)."""
    n = int(values.size)
    if not n:
        return {"count": 0, "median_s": None, "p90_s": None}
    ordered = np.sort(values)
    return {"count": n, "median_s": round(float(np.median(ordered)), 3),
            "p90_s": round(float(ordered[math.ceil(0.9 * n) - 1]), 3)}


class Filters:
    """Which cases a figure covers: opened in [start, end] (local days), of these types
    and carriers (empty: all)."""

    def __init__(self, start: date, end: date, types: tuple[str, ...] = (),
                 carriers: tuple[str, ...] = ()) -> None:
        if end < start:
            raise ValueError("'from' must not be after 'to'")
        if (end - start).days > 3660:
            raise ValueError("a date range may span at most ten years")
        self.start, self.end, self.types, self.carriers = start, end, types, carriers

    @classmethod
    def from_query(cls, args: Any, today: date, default_days: int = 90) -> Filters:
        """Read ``from``, ``to`` (YYYY-MM-DD), ``type`` and ``carrier`` (repeatable or
        comma-separated) from a query string; ValueError names the bad one."""
        def day(name: str, default: date) -> date:
            raw = (args.get(name) or "").strip()
            if not raw:
                return default
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise ValueError(f"'{name}' must be a date like 2026-11-24") from None

        def many(name: str) -> tuple[str, ...]:
            values = args.getlist(name) if hasattr(args, "getlist") else [args.get(name) or ""]
            return tuple(sorted({v.strip() for raw in values for v in raw.split(",")
                                 if v.strip()}))
        end = day("to", today)
        if end < EARLIEST:
            raise ValueError(f"'to' must not be before {EARLIEST.isoformat()}")
        start = day("from", max(EARLIEST, end - timedelta(days=default_days - 1)))
        return cls(start, end, many("type"), tuple(c.lower() for c in many("carrier")))

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "type": list(self.types), "carrier": list(self.carriers)}


class Insights:
    """The figures, from an in-memory table of case facts kept in step with Redis."""

    def __init__(self, store: Store, timezone: str) -> None:
        self.redis = store.redis
        self.tz = ZoneInfo(timezone)
        self.table = FactTable(self.tz)
        self._version = 0
        self._lock = threading.Lock()

    def warm_up(self) -> threading.Thread:
        """Load the table in the background (a first read of 100 000 cases takes seconds),
        so a supervisor's first page view does not wait for it."""
        def load() -> None:
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - Redis not up yet: the first read loads it
                log.warning("insights: could not load the figures at start", exc_info=True)
        thread = threading.Thread(target=load, name="insights-warm-up", daemon=True)
        thread.start()
        return thread

    def today(self) -> date:
        return datetime.now(UTC).astimezone(self.tz).date()

    # -- keeping up --------------------------------------------------------------
    def refresh(self) -> int:
        """Read the cases changed since the last refresh; returns how many."""
        with self._lock:
            latest = int(self.redis.get(VERSION_KEY) or 0)
            if latest == self._version:
                return 0
            if latest < self._version:  # Redis was emptied or replaced: start again
                self.table = FactTable(self.tz)
                self._version = 0
            changed = self.redis.zrangebyscore(CHANGED_KEY, f"({self._version}", latest)
            for i in range(0, len(changed), FETCH_BATCH):
                ids = [c.decode() for c in changed[i:i + FETCH_BATCH]]
                pipe = self.redis.pipeline(transaction=False)
                for case_id in ids:
                    pipe.hgetall(facts_key(case_id))
                for case_id, raw in zip(ids, pipe.execute(), strict=True):
                    self.table.put(case_id, {k.decode(): v.decode() for k, v in raw.items()})
            self._version = latest
            return len(changed)

    # -- figures -------------------------------------------------------------------
    def figures(self, filters: Filters) -> dict[str, Any]:
        """Every figure of the insights page for ``filters``, JSON-ready."""
        self.refresh()
        with self._lock:
            return self._figures(filters)

    def _figures(self, f: Filters) -> dict[str, Any]:
        t = self.table
        rows = t.select(f.start.toordinal(), f.end.toordinal(), f.types, f.carriers)
        n = int(rows.size)
        status = t.col("status")[rows]
        closed_by = t.col("closed_by")[rows]
        escalated = ~np.isnan(t.col("escalated")[rows])
        resolved = status == t.code("status", "resolved")
        by = {name: int(np.count_nonzero(resolved & (closed_by == t.code("closed_by", name))))
              for name in ("customer", "staff", "shipper")}
        self_service = int(np.count_nonzero(resolved & ~escalated &
                                            (closed_by == t.code("closed_by", "customer"))))
        expired = int(np.count_nonzero(status == t.code("status", "expired")))
        esc = int(np.count_nonzero(escalated))
        opened, closed = t.col("opened")[rows], t.col("closed")[rows]
        first_staff = t.col("first_staff")[rows]
        waited = first_staff - t.col("escalated")[rows]
        return {
            "filters": f.to_dict(),
            "timezone": str(self.tz),
            "cases": n,
            "over_time": self._over_time(rows, f),
            "outcomes": {"resolved_by_customer": by["customer"], "resolved_by_staff": by["staff"],
                         "resolved_by_shipper": by["shipper"], "expired": expired,
                         "escalated": esc, "self_service": self_service,
                         "open": n - int(np.count_nonzero(resolved)) - expired},
            "rates": {"self_service": _rate(self_service, n), "escalation": _rate(esc, n),
                      "expiry": _rate(expired, n)},
            "durations": {
                "time_to_resolution": median_p90((closed - opened)[resolved]),
                "time_to_first_staff_response": median_p90(waited[waited >= 0])},
            "reschedule": self._reschedule(rows),
            "top": {"postal_codes": self._top(rows, "postal_code"),
                    "carriers": self._top(rows, "carrier"),
                    "reasons": self._top(rows, "reason")},
            "delivery": self._delivery(rows),
            "opt_out": self._opt_out(rows),
        }

    def _over_time(self, rows: np.ndarray, f: Filters) -> dict[str, Any]:
        t = self.table
        days = (f.end - f.start).days + 1
        offset = t.col("day")[rows] - f.start.toordinal()
        out: dict[str, Any] = {"days": [(f.start + timedelta(days=i)).isoformat()
                                        for i in range(days)]}
        for dim, name in (("type", "by_type"), ("reason", "by_reason")):
            codes = t.col(dim)[rows]
            series = {}
            for code in np.unique(codes):
                counts = np.bincount(offset[codes == code], minlength=days)
                series[t.label(dim, int(code)) or "unknown"] = counts.tolist()
            out[name] = dict(sorted(series.items(), key=lambda kv: -sum(kv[1])))
        return out

    def _top(self, rows: np.ndarray, dim: str) -> list[list[Any]]:
        """The ``TOP`` most frequent values (ties in alphabetical order)."""
        t = self.table
        counts = np.bincount(t.col(dim)[rows], minlength=1)
        found = [(t.label(dim, int(c)), int(counts[c])) for c in np.flatnonzero(counts) if c]
        return [[label, n] for label, n in sorted(found, key=lambda x: (-x[1], x[0]))[:TOP]]

    def _reschedule(self, rows: np.ndarray) -> dict[str, int]:
        kind = self.table.col("resched")[rows]
        full = self.table.col("full")[rows]
        offered = kind > 0
        return {"offered": int(np.count_nonzero(offered)),
                "booked_first_offer": int(np.count_nonzero(kind == 1)),
                "booked_other_window": int(np.count_nonzero(kind == 2)),
                "not_booked": int(np.count_nonzero(kind == 3)),
                "met_a_full_window": int(np.count_nonzero(offered & (full > 0)))}

    def _delivery(self, rows: np.ndarray) -> dict[str, dict[str, Any]]:
        sums = self.table.col("messages")[rows].sum(axis=0)
        out: dict[str, dict[str, Any]] = {}
        for ci, channel in enumerate(CHANNELS):
            figures = {name: int(sums[ci, mi]) for mi, name in enumerate(MESSAGE_COUNTS)}
            attempted = figures["queued"] - figures["suppressed"]
            figures["success_rate"] = _rate(attempted - figures["failed"], attempted)
            out[channel] = figures
        return out

    def _opt_out(self, rows: np.ndarray) -> dict[str, Any]:
        sms = self.table.col("messages")[rows][:, CHANNELS.index("sms"), 0] > 0
        opted = self.table.col("opted_out")[rows]
        stopped = int(np.count_nonzero(sms & opted))
        return {"sms_cases": int(np.count_nonzero(sms)), "opted_out": stopped,
                "rate": _rate(stopped, int(np.count_nonzero(sms)))}

    # -- export ------------------------------------------------------------------
    def rows(self, filters: Filters) -> Iterator[dict[str, Any]]:
        """One dict per case in ``filters``, oldest first (the CSV export), built one at a
        time from a copy of the selected rows, so the table stays free meanwhile."""
        self.refresh()
        with self._lock:
            picked = self.table.select(filters.start.toordinal(), filters.end.toordinal(),
                                       filters.types, filters.carriers)
            picked = picked[np.argsort(self.table.col("opened")[picked], kind="stable")]
            copy = self.table.snapshot(picked)
        for i in range(len(copy)):
            yield copy.row(i)


def rebuild_facts(store: Store) -> int:
    """Fold every case's whole timeline into fresh facts (after a change of definitions,
    or for cases from before the insights existed); returns how many cases."""
    from bot.insights_facts import case_dimensions

    done = 0
    for raw in store.redis.zrange(key_for("cases"), 0, -1):
        case_id = raw.decode()
        case = store.get_case(case_id)
        timeline = store.timeline(case_id)
        pipe = store.pipeline()
        pipe.delete(facts_key(case_id))
        for entry in timeline:
            if entry.get("kind") == "case.opened" and case is not None:
                entry = {**case_dimensions(case), **{k: v for k, v in entry.items() if v}}
            apply_ops(pipe, case_id, fold(entry))
        store.mark_insights_changed(case_id, pipe)
        pipe.execute()
        done += 1
    return done
