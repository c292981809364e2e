"""Insights in the console, for supervisors: the page, its charts, the JSON and the CSV.

``GET /console/insights`` shows figure tiles and pygal charts for a date range, exception
type and carrier; ``GET /api/insights`` returns the same figures as JSON and
``GET /api/insights/export.csv`` the cases behind them, one row each. All three read
:class:`bot.insights.Insights` with the same query parameters: ``from`` and ``to``
(YYYY-MM-DD, local days), ``type`` and ``carrier`` (repeatable or comma-separated).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from bot.desk import SUPERVISOR
from bot.insights import Filters, Insights
from bot.insights_table import CSV_COLUMNS
from console.auth import current_staff, staff_required
from console.insights_charts import CHARTS, InsightsCache, alt_text, tiles
from console.insights_schema import register_openapi
from console.views import CONVERSATION_TYPES, type_label

bp = Blueprint("console_insights", __name__)

SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def insights() -> Insights:
    return current_app.extensions["doorstep"].insights


def cache() -> InsightsCache:
    """This app's cache of figures and charts."""
    return current_app.extensions.setdefault("doorstep.insights_cache", InsightsCache())


def read_filters() -> Filters:
    """The request's filters; ValueError names the bad parameter."""
    return Filters.from_query(request.args, insights().today())


def _bad_request(exc: ValueError) -> tuple[Response, int]:
    return jsonify({"error": str(exc), "status": 400}), 400


def query_string(filters: Filters) -> str:
    """The filters as a query string (for the page's links and chart images)."""
    pairs: list[tuple[str, str]] = [("from", filters.start.isoformat()),
                                    ("to", filters.end.isoformat())]
    pairs += [("type", t) for t in filters.types]
    pairs += [("carrier", c) for c in filters.carriers]
    return urlencode(pairs)


def known_carriers(ins: Insights) -> list[str]:
    """Every carrier seen so far, for the filter's suggestions."""
    return sorted(label for label in list(ins.table.labels["carrier"]) if label)


# -- the page ---------------------------------------------------------------------
@bp.get("/console/insights")
@staff_required(SUPERVISOR)
def page() -> tuple[str, int]:
    """Tiles and charts for the filters; a bad filter is shown above the form."""
    ins = insights()
    form = {"from": request.args.get("from", ""), "to": request.args.get("to", ""),
            "type": request.args.get("type", ""),
            "carrier": ", ".join(request.args.getlist("carrier"))}
    context: dict[str, Any] = {"page": "insights", "staff": current_staff(), "form": form,
                               "types": [(t, type_label(t)) for t in CONVERSATION_TYPES],
                               "carriers": known_carriers(ins), "error": None,
                               "figures": None}
    try:
        filters = read_filters()
    except ValueError as exc:
        context["error"] = str(exc)
        return render_template("insights.html", **context), 400
    figures = cache().figures(ins, filters)
    query = query_string(filters)
    form.update({"from": filters.start.isoformat(), "to": filters.end.isoformat()})
    context.update(figures=figures, tiles=tiles(figures), query=query, charts=[
        {"name": c.name, "title": c.title, "width": c.width, "height": c.height,
         "wide": c.wide,
         "alt": alt_text(c.name, figures)} for c in CHARTS.values()])
    return render_template("insights.html", **context), 200


@bp.get("/console/insights/charts/<name>.svg")
@staff_required(SUPERVISOR)
def chart(name: str) -> Response | tuple[Response, int]:
    """One chart as an SVG image (cached by the figures it shows)."""
    if name not in CHARTS:
        abort(404)
    try:
        filters = read_filters()
    except ValueError as exc:
        return _bad_request(exc)
    response = Response(cache().svg(name, cache().figures(insights(), filters)),
                        mimetype="image/svg+xml")
    # Opened on its own the SVG is a document: keep pygal's inline script from running.
    response.headers["Content-Security-Policy"] = SVG_POLICY
    return response


# -- the API ----------------------------------------------------------------------
@bp.get("/api/insights")
@staff_required(SUPERVISOR)
def figures() -> Response | tuple[Response, int]:
    """Every figure of the insights page as JSON."""
    try:
        filters = read_filters()
    except ValueError as exc:
        return _bad_request(exc)
    return jsonify(cache().figures(insights(), filters))


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """The header and then one CSV line per case, written as they are read."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text
    writer.writeheader()
    yield flush()
    for i, row in enumerate(rows, 1):
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
        if i % 500 == 0:  # a few kilobytes per chunk, not one write per row
            yield flush()
    yield flush()


@bp.get("/api/insights/export.csv")
@staff_required(SUPERVISOR)
def export_csv() -> Response | tuple[Response, int]:
    """The cases in the filters with their resolution, one CSV row each, streamed."""
    try:
        filters = read_filters()
    except ValueError as exc:
        return _bad_request(exc)
    name = f"doorstep-cases-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    response = Response(csv_lines(insights().rows(filters)),
                        content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


register_openapi()
