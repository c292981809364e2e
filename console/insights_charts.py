"""The insights page's pictures: pygal charts and the plain figure tiles beside them.

Everything here is a pure function of :meth:`bot.insights.Insights.figures`, so a chart
can be cached by the figures it was drawn from (:class:`InsightsCache`).

Charts are standalone SVG documents served from their own route and shown with
``<img>``: pygal's SVG always carries an inline ``<script>`` (its config, even with
``js=[]``), a ``<style>`` element and a ``style=`` attribute, all of which the console's
CSP (``script-src 'self'; style-src 'self'``) would block inside the page. As an image
the SVG is its own document: its styles apply, its script never runs, and it can load
nothing, while the page's CSP stays strict.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pygal
from pygal.style import Style

from bot.insights import Filters, Insights
from bot.insights_facts import VERSION_KEY
from console.views import type_label

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
# The console's own colours (console.css) first, then distinct ones that read on white.
PALETTE = ("#1f5fbf", "#e08a00", "#1e7b45", "#b42318", "#6b4fbb", "#0f8b8d", "#9a5b00",
           "#c2185b", "#5f6b76", "#3a4652")
TOP_REASONS = 5  # reasons drawn by name over time; the rest are "other"
MAX_BARS = 120  # more days than this are drawn as weeks (or months beyond two years)


def console_style(colors: tuple[str, ...] = PALETTE) -> Style:
    """A pygal style in the console's colours and type."""
    return Style(background="#ffffff", plot_background="#ffffff", foreground="#1d2329",
                 foreground_strong="#1d2329", foreground_subtle="#d9dee3",
                 opacity=".9", opacity_hover="1", transition="0ms", colors=colors,
                 font_family=FONT, label_font_size=13, major_label_font_size=13,
                 legend_font_size=14, title_font_size=16, value_font_size=13,
                 tooltip_font_size=13, no_data_font_size=20, guide_stroke_color="#d9dee3",
                 major_guide_stroke_color="#d9dee3")


STYLE = console_style()
# Outcome colours carry meaning: green self-service … red expired, orange still open.
OUTCOME_STYLE = console_style(("#1e7b45", "#0f8b8d", "#1f5fbf", "#5f6b76", "#b42318",
                               "#e08a00"))
COMMON: dict[str, Any] = {
    "style": STYLE, "js": [], "disable_xml_declaration": True, "pretty_print": False,
    "no_data_text": "No cases", "legend_at_bottom": True, "truncate_legend": 30,
    "truncate_label": -1, "margin": 12, "spacing": 8}


def count_axis(largest: float) -> dict[str, Any]:
    """Whole-number ticks from 0 past ``largest``: 1, 2 or 5 × 10ⁿ apart, at most six."""
    step = 1
    while largest / step > 5:  # 1, 2, 5, 10, 20, 50 …
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    top = max(step, math.ceil(largest / step) * step)
    return {"y_labels": list(range(0, top + 1, step)), "range": (0, top)}


# -- words for figures ------------------------------------------------------------
def duration_words(seconds: float | None) -> str:
    """``42 s``, ``42 min``, ``3.5 h``, ``2.1 d``; an em dash for none."""
    if seconds is None or math.isnan(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def percent(rate: float | None) -> str:
    """``33.3%``; an em dash when there was nothing to divide by."""
    return "—" if rate is None else f"{rate * 100:.1f}%".replace(".0%", "%")


@dataclass(frozen=True)
class Tile:
    """One plain figure beside the charts."""

    id: str
    label: str
    value: str
    detail: str = ""


def tiles(figures: dict[str, Any]) -> list[Tile]:
    """The figure tiles, in reading order."""
    rates, durations = figures["rates"], figures["durations"]
    resolution = durations["time_to_resolution"]
    response = durations["time_to_first_staff_response"]
    opt_out = figures["opt_out"]
    return [
        Tile("cases", "Cases", f"{figures['cases']:,}"),
        Tile("self-service", "Self-service", percent(rates["self_service"]),
             "resolved without staff"),
        Tile("escalation", "Escalated", percent(rates["escalation"])),
        Tile("expiry", "Expired", percent(rates["expiry"]), "no reply in time"),
        Tile("resolution", "Time to resolution", duration_words(resolution["median_s"]),
             f"median · p90 {duration_words(resolution['p90_s'])}"),
        Tile("first-response", "First staff response", duration_words(response["median_s"]),
             f"median · p90 {duration_words(response['p90_s'])}"),
        Tile("opt-out", "Opted out", percent(opt_out["rate"]),
             f"of {opt_out['sms_cases']:,} SMS cases"),
    ]


# -- cases over time -----------------------------------------------------------------
def buckets(days: list[str]) -> tuple[list[str], list[int]]:
    """Labels of the bars and, per day, the bar it falls in: days, weeks or months."""
    parsed = [date.fromisoformat(d) for d in days]
    if len(parsed) <= MAX_BARS:
        return [f"{d:%b} {d.day}" for d in parsed], list(range(len(parsed)))
    if len(parsed) <= 7 * MAX_BARS:
        index = [i // 7 for i in range(len(parsed))]
        return [f"wk {d:%b} {d.day}" for d in parsed[::7]], index
    months = sorted({(d.year, d.month) for d in parsed})
    position = {m: i for i, m in enumerate(months)}
    return [f"{date(y, m, 1):%b %Y}" for y, m in months], \
        [position[(d.year, d.month)] for d in parsed]


def _regroup(counts: list[int], index: list[int], size: int) -> list[int]:
    out = [0] * size
    for i, n in zip(index, counts, strict=True):
        out[i] += n
    return out


def _over_time(title: str, series: dict[str, list[int]], days: list[str],
               label: Callable[[str], str]) -> pygal.Graph:
    labels, index = buckets(days)
    grouped = {name: _regroup(counts, index, len(labels)) for name, counts in series.items()}
    totals = [sum(bar) for bar in zip(*grouped.values(), strict=True)] or [0]
    chart = pygal.StackedBar(title=title, x_label_rotation=0,
                             show_minor_x_labels=len(labels) <= 16,
                             x_labels_major_every=max(1, math.ceil(len(labels) / 8)),
                             **count_axis(max(totals)), **COMMON)
    chart.x_labels = labels
    for name, counts in grouped.items():
        chart.add(label(name), counts)
    return chart


def by_type(figures: dict[str, Any]) -> pygal.Graph:
    over = figures["over_time"]
    return _over_time("Cases by type", over["by_type"], over["days"], type_label)


def by_reason(figures: dict[str, Any]) -> pygal.Graph:
    over = figures["over_time"]
    named = dict(list(over["by_reason"].items())[:TOP_REASONS])
    rest = list(over["by_reason"].values())[TOP_REASONS:]
    if rest:
        named["other"] = [sum(day) for day in zip(*rest, strict=True)]
    return _over_time("Cases by reason", named, over["days"], str)


# -- how cases ended -----------------------------------------------------------------
def outcomes(figures: dict[str, Any]) -> pygal.Graph:
    o = figures["outcomes"]
    chart = pygal.Pie(title="How cases ended", inner_radius=0.45, legend_at_bottom_columns=2,
                      **{**COMMON, "style": OUTCOME_STYLE})
    for label, n in (("Self-service", o["self_service"]),
                     ("Customer, after escalation", o["resolved_by_customer"]
                      - o["self_service"]),
                     ("Staff", o["resolved_by_staff"]), ("Shipper", o["resolved_by_shipper"]),
                     ("Expired", o["expired"]), ("Open", o["open"])):
        chart.add(f"{label} ({n:,})", n)
    return chart


def _horizontal(title: str, pairs: list[tuple[str, float]], none: str,
                value_formatter: Callable[[float], str] = lambda v: f"{v:,.0f}",
                **options: Any) -> pygal.Graph:
    """One bar per label, top to bottom as given; ``none`` when there are no pairs."""
    if "range" not in options:
        options |= count_axis(max((value for _, value in pairs), default=0))
    chart = pygal.HorizontalBar(title=title, show_legend=False, print_values=True,
                                value_formatter=value_formatter,
                                **{**COMMON, "no_data_text": none, **options})
    # Horizontal bars are drawn bottom-up: reverse so the first pair is on top.
    chart.x_labels = [label for label, _ in reversed(pairs)]
    chart.add(title, [value for _, value in reversed(pairs)])
    return chart


def reschedule(figures: dict[str, Any]) -> pygal.Graph:
    r = figures["reschedule"]
    return _horizontal(f"Reschedules ({r['offered']:,} offered windows)", [
        ("Booked a window first offered", r["booked_first_offer"]),
        ("Booked another window", r["booked_other_window"]),
        ("Booked none", r["not_booked"]),
    ] if r["offered"] else [], "No windows offered")


def delivery(figures: dict[str, Any]) -> pygal.Graph:
    pairs = []
    for channel, f in figures["delivery"].items():
        attempted = f["queued"] - f["suppressed"]
        if f["success_rate"] is not None:
            pairs.append((f"{channel.upper() if channel == 'sms' else channel.capitalize()}"
                          f" ({attempted:,} sent)", round(f["success_rate"] * 100, 1)))
    return _horizontal("Messages delivered, by channel", pairs, "No messages sent",
                       lambda v: f"{v:.1f}%".replace(".0%", "%"), range=(0, 100))


def _top(title: str, key: str) -> Callable[[dict[str, Any]], pygal.Graph]:
    def build(figures: dict[str, Any]) -> pygal.Graph:
        return _horizontal(title, [(label, n) for label, n in figures["top"][key]],
                           "None recorded")
    return build


@dataclass(frozen=True)
class ChartKind:
    name: str
    title: str
    build: Callable[[dict[str, Any]], pygal.Graph]
    width: int = 600
    height: int = 360
    wide: bool = False


CHARTS: dict[str, ChartKind] = {c.name: c for c in (
    ChartKind("by-type", "Cases per day by type", by_type, 1000, wide=True),
    ChartKind("by-reason", "Cases per day by reason", by_reason, 1000, wide=True),
    ChartKind("outcomes", "How cases ended", outcomes),
    ChartKind("reschedule", "Reschedule outcomes", reschedule, height=260),
    ChartKind("delivery", "Message delivery by channel", delivery, height=260),
    ChartKind("postal-codes", "Top postal codes", _top("Top postal codes", "postal_codes"),
              height=420),
    ChartKind("carriers", "Top carriers", _top("Top carriers", "carriers"), height=420),
    ChartKind("reasons", "Top reasons", _top("Top reasons", "reasons"), height=420),
)}


def render_svg(name: str, figures: dict[str, Any]) -> bytes:
    """The chart ``name`` drawn from ``figures``, as a UTF-8 SVG document."""
    kind = CHARTS[name]
    chart = kind.build(figures)
    chart.width, chart.height = kind.width, kind.height
    return chart.render(is_unicode=True).encode("utf-8")


def alt_text(name: str, figures: dict[str, Any]) -> str:
    """What a chart shows, in words (the image's alt text)."""
    if name in ("postal-codes", "carriers", "reasons"):
        key = {"postal-codes": "postal_codes"}.get(name, name)
        return f"{CHARTS[name].title}: " + ", ".join(
            f"{label} {n}" for label, n in figures["top"][key]) + "."
    if name in ("by-type", "by-reason"):
        key = "by_type" if name == "by-type" else "by_reason"
        totals = [(type_label(k) if key == "by_type" else k, sum(v))
                  for k, v in figures["over_time"][key].items()]
        return f"{CHARTS[name].title}, totals: " + ", ".join(
            f"{label} {n}" for label, n in totals) + "."
    return CHARTS[name].title + "."


# -- caching -----------------------------------------------------------------------
def digest(figures: dict[str, Any]) -> str:
    """A short fingerprint of the figures (a chart is a function of them and its name)."""
    text = json.dumps(figures, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class InsightsCache:
    """Figures by (filters, insights version) and rendered charts by (name, figures),
    least recently used dropped first; one per app, so one per Redis."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._figures: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._svgs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, store: OrderedDict[Any, Any], key: Any) -> Any:
        with self._lock:
            if key in store:
                store.move_to_end(key)
                return store[key]
        return None

    def _put(self, store: OrderedDict[Any, Any], key: Any, value: Any) -> Any:
        with self._lock:
            store[key] = value
            while len(store) > self.size:
                store.popitem(last=False)
        return value

    def figures(self, insights: Insights, filters: Filters) -> dict[str, Any]:
        """``insights.figures(filters)``, computed again only when a case changed (the
        returned dict is shared: do not change it)."""
        version = int(insights.redis.get(VERSION_KEY) or 0)
        key = (version, filters.start, filters.end, filters.types, filters.carriers)
        found = self._get(self._figures, key)
        return found if found is not None else \
            self._put(self._figures, key, insights.figures(filters))

    def svg(self, name: str, figures: dict[str, Any]) -> bytes:
        """The chart ``name`` of ``figures`` (rendered outside the lock: in parallel)."""
        key = (name, digest(figures))
        found = self._get(self._svgs, key)
        return found if found is not None else self._put(self._svgs, key,
                                                         render_svg(name, figures))
