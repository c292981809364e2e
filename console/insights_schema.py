"""The insights API in the OpenAPI document: ``/api/insights`` and its CSV export."""

from __future__ import annotations

from typing import Any

from bot.insights_facts import CHANNELS
from bot.insights_table import CSV_COLUMNS
from console.openapi import COUNT, STRING, Schema, _json_response, _op, extend, nullable, obj

DAY: Schema = {"type": "string", "format": "date"}
RATE: Schema = {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                "description": "A share of cases (0–1); null when there were none."}
PER_DAY: Schema = {"type": "object", "additionalProperties": {
    "type": "array", "items": COUNT}, "description": "Cases per day, one count per day in "
                                                     "`days`, by label (largest first)."}
# A pair [label, cases]; one item schema for both (tuple schemas trip some validators).
TOP_LIST: Schema = {"type": "array", "maxItems": 10, "items": {
    "type": "array", "items": {"type": ["string", "integer"]}, "minItems": 2, "maxItems": 2},
    "description": "[label, cases], most cases first (ties alphabetical)."}


def _counts(*names: str) -> Schema:
    return obj(list(names), **{name: COUNT for name in names})


def _duration() -> Schema:
    return obj(["count", "median_s", "p90_s"], count=COUNT, median_s=nullable("number"),
               p90_s=nullable("number"))


def _delivery() -> Schema:
    counts = ("queued", "sent", "delivered", "failed", "suppressed")
    return obj([*counts, "success_rate"], success_rate=RATE, **{c: COUNT for c in counts})


FIGURES: Schema = obj(
    ["filters", "timezone", "cases", "over_time", "outcomes", "rates", "durations",
     "reschedule", "top", "delivery", "opt_out"],
    filters=obj(["from", "to", "type", "carrier"], **{
        "from": DAY, "to": DAY, "type": {"type": "array", "items": STRING},
        "carrier": {"type": "array", "items": STRING}}),
    timezone=STRING, cases=COUNT,
    over_time=obj(["days", "by_type", "by_reason"],
                  days={"type": "array", "items": DAY}, by_type=PER_DAY, by_reason=PER_DAY),
    outcomes=_counts("resolved_by_customer", "resolved_by_staff", "resolved_by_shipper",
                     "expired", "escalated", "self_service", "open"),
    rates=obj(["self_service", "escalation", "expiry"], self_service=RATE, escalation=RATE,
              expiry=RATE),
    durations=obj(["time_to_resolution", "time_to_first_staff_response"],
                  time_to_resolution=_duration(), time_to_first_staff_response=_duration()),
    reschedule=_counts("offered", "booked_first_offer", "booked_other_window", "not_booked",
                       "met_a_full_window"),
    top=obj(["postal_codes", "carriers", "reasons"], postal_codes=TOP_LIST, carriers=TOP_LIST,
            reasons=TOP_LIST),
    delivery=obj(list(CHANNELS), **{channel: _delivery() for channel in CHANNELS}),
    opt_out=obj(["sms_cases", "opted_out", "rate"], sms_cases=COUNT, opted_out=COUNT,
                rate=RATE),
)

FILTER_PARAMS: list[dict[str, Any]] = [
    {"name": "from", "in": "query", "schema": STRING,
     "description": "First day (YYYY-MM-DD, local to the service's time zone) a case opened "
                    "on. Default: 89 days before `to`."},
    {"name": "to", "in": "query", "schema": STRING,
     "description": "Last day (YYYY-MM-DD). Default: today. At most ten years after `from`."},
    {"name": "type", "in": "query", "style": "form", "explode": True,
     "schema": {"type": "array", "items": STRING},
     "description": "Exception types (repeat or comma-separate); default all."},
    {"name": "carrier", "in": "query", "style": "form", "explode": True,
     "schema": {"type": "array", "items": STRING},
     "description": "Carriers, any case (repeat or comma-separate); default all."},
]


def _operation(summary: str, ok: dict[int, Any]) -> dict[str, Any]:
    op = _op(summary, ok, (400,), supervisor=True, params=FILTER_PARAMS)
    op["responses"]["400"] = _json_response("A filter is not valid (the error names it).",
                                            {"$ref": "#/components/schemas/Error"})
    return op


def register_openapi() -> None:
    """Add the two insights routes to the served document."""
    extend(
        schemas={"InsightsFigures": FIGURES},
        paths={
            "/api/insights": {"get": _operation(
                "The insights figures for a date range, exception types and carriers.",
                {200: _json_response("The figures (definitions in the README).",
                                     {"$ref": "#/components/schemas/InsightsFigures"})})},
            "/api/insights/export.csv": {"get": _operation(
                "The cases behind the figures, one CSV row each, oldest first.",
                {200: {"description": "CSV with a header row (" + ", ".join(CSV_COLUMNS)
                       + "); text cells that would start a spreadsheet formula get a "
                         "leading apostrophe.",
                       "headers": {"Content-Disposition": {
                           "schema": STRING,
                           "description": 'attachment; filename="doorstep-cases-'
                                          '<from>-<to>.csv"'}},
                       "content": {"text/csv": {}}}})},
        })
