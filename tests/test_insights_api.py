"""The insights API and page over real HTTP: ``GET /api/insights`` is exactly
``Insights.figures``, ``GET /api/insights/export.csv`` one row per case, both for
supervisors only, and the page and its chart images behind the same rules.

Cases come from the real system (events, an SMS dialogue, an escalation) and from
hand-built timelines (``test_insights.Builder``). Every API answer is checked against
the served OpenAPI document.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from console_api_support import Api, staff_api
from console_support import add_staff, escalate, login
from test_insights import Builder, W, at, queued

from bot.insights import Filters, Insights
from bot.insights_table import CSV_COLUMNS
from console.insights_charts import CHARTS
from support import System, failed_event, wait_for

NOV = {"from": "2026-11-01", "to": "2026-11-03"}


def supervisor(system: System, email: str = "lee@example.com") -> Api:
    """A supervisor calling the API with a Bearer token."""
    add_staff(system, email, "supervisor", name="Lee")
    return Api(system, token=system.runtime.staff.issue_token(email))


def figures_now(system: System, params: dict[str, Any]) -> dict[str, Any]:
    """What ``Insights.figures`` says for these query parameters, as JSON would carry it."""
    insights: Insights = system.runtime.insights
    filters = Filters.from_query(_MultiArgs(params), insights.today())
    return json.loads(json.dumps(insights.figures(filters)))


class _MultiArgs:
    """Query parameters as Flask reads them (a key may repeat: a list value)."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def get(self, name: str) -> str | None:
        value = self.params.get(name)
        return value[0] if isinstance(value, list) else value

    def getlist(self, name: str) -> list[str]:
        value = self.params.get(name)
        return [] if value is None else value if isinstance(value, list) else [value]


def stable_figures(system: System, params: dict[str, Any]) -> dict[str, Any]:
    """The figures once two reads a moment apart agree (the workers have finished)."""
    system.drain()
    last: list[dict[str, Any]] = []

    def settled() -> bool:
        now = figures_now(system, params)
        same = bool(last) and last[-1] == now
        last.append(now)
        return same
    wait_for("the figures to settle", settled)
    return last[-1]


def csv_rows(resp: Any) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(resp.content.decode("utf-8")))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def hand_built(system: System) -> None:
    """Four cases on 1–3 November 2026 (New York), as in test_insights."""
    b = Builder(system.runtime.store)
    b.case("cs_a", at(1, 10), "delivery.failed", "ups", "no_one_home", "10001",
           (0, "windows.offered", {"windows": W, "count": 3}),
           (1, "message.queued", queued("sms")), (2, "message.sent", {"channel": "sms"}),
           (590, "window.reserved", {"window": {"start": W[1], "end": W[1]}}),
           (600, "case.resolved", {"outcome": "rescheduled"}))
    b.case("cs_c", at(2, 9), "delivery.damaged", "fedex", "damaged", "94105",
           (300, "case.escalated", {"reason": "customer asked"}),
           (900, "message.queued", queued("sms", "staff")),
           (3600, "case.resolved", {"outcome": "refund", "resolved_by": "sam@x.test"}))
    b.case("cs_d", at(2, 20, 30), "delivery.failed", "fedex", "no_one_home", "94105",
           (60, "customer.opted_out", {"channel": "sms"}),
           (86400, "case.expired", {"reason": "no_reply"}))
    b.case("cs_e", at(3, 8), "delivery.delayed", "ups", "weather", "10001",
           (1, "message.queued", queued("telegram")),
           (7200, "case.resolved", {"outcome": "delivered"}))


# -- the JSON is the figures ----------------------------------------------------------
def test_the_json_is_the_figures_of_cases_the_system_handled(system):
    api = supervisor(system)
    booked = "+15551234601"
    system.post_event(failed_event(phone=booked))
    me = system.customer(booked)
    me.offered()
    me.book("2")  # a self-service reschedule by SMS
    escalate(system, system.customer("+15551234602"))  # asks for a person
    other = failed_event(phone="+15551234603", type_="delivery.damaged", reason="damaged")
    other["shipment"]["carrier"] = "Zipline"
    assert system.post_event(other).status_code == 202

    expected = stable_figures(system, {})
    assert expected["cases"] == 3 and expected["outcomes"]["escalated"] == 1
    assert expected["outcomes"]["self_service"] == 1
    assert api.get("/api/insights").json() == expected
    damaged = {"type": "delivery.damaged"}
    assert api.get("/api/insights", params=damaged).json() == figures_now(system, damaged)
    assert figures_now(system, damaged)["cases"] == 1
    zipline = {"carrier": "ZIPLINE,acme"}  # any case, comma-separated
    assert api.get("/api/insights", params=zipline).json()["cases"] == 3
    assert api.get("/api/insights", params={"carrier": "zipline"}).json() == figures_now(
        system, {"carrier": "zipline"})


def test_the_json_is_the_figures_of_hand_built_timelines(system):
    api = supervisor(system)
    hand_built(system)
    got = api.get("/api/insights", params=NOV).json()
    assert got == figures_now(system, NOV)
    assert got["cases"] == 4 and got["filters"] == {**NOV, "type": [], "carrier": []}
    assert got["durations"]["time_to_resolution"] == {"count": 3, "median_s": 3600.0,
                                                      "p90_s": 7200.0}
    both = {**NOV, "type": ["delivery.failed", "delivery.delayed"]}  # repeated
    narrowed = api.get("/api/insights", params=both).json()
    assert narrowed == figures_now(system, both) and narrowed["cases"] == 3


# -- the CSV --------------------------------------------------------------------------
def test_the_csv_has_the_columns_and_one_row_per_case_and_filters_narrow_it(system):
    api = supervisor(system)
    hand_built(system)
    resp = api.get("/api/insights/export.csv", params=NOV)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"] == \
        'attachment; filename="doorstep-cases-2026-11-01-2026-11-03.csv"'
    header, rows = csv_rows(resp)
    assert tuple(header) == CSV_COLUMNS
    assert [r["case_id"] for r in rows] == ["cs_a", "cs_c", "cs_d", "cs_e"]
    expected = list(system.runtime.insights.rows(Filters(date(2026, 11, 1),
                                                         date(2026, 11, 3))))
    assert rows == [{k: str(v) for k, v in row.items()} for row in expected]
    c = rows[1]
    assert (c["status"], c["closed_by"], c["time_to_resolution_s"]) == \
        ("resolved", "staff", "3600.0")

    _, fedex = csv_rows(api.get("/api/insights/export.csv", params={**NOV,
                                                                    "carrier": "fedex"}))
    assert [r["case_id"] for r in fedex] == ["cs_c", "cs_d"]
    _, one_day = csv_rows(api.get("/api/insights/export.csv",
                                  params={"from": "2026-11-03", "to": "2026-11-03"}))
    assert [r["case_id"] for r in one_day] == ["cs_e"]
    header, none = csv_rows(api.get("/api/insights/export.csv",
                                    params={"from": "2026-10-01", "to": "2026-10-02"}))
    assert tuple(header) == CSV_COLUMNS and none == []


def test_text_a_spreadsheet_would_run_as_a_formula_is_defused(system):
    api = supervisor(system)
    Builder(system.runtime.store).case(
        "cs_x", at(2, 9), "delivery.failed", "=HYPERLINK(\"http://evil.test\",\"ups\")",
        "+cmd|' /C calc'!A0", "@SUM(1)", (5, "case.expired", {"reason": "-1+1"}))
    _, rows = csv_rows(api.get("/api/insights/export.csv", params=NOV))
    row = rows[0]
    assert row["carrier"] == "'=HYPERLINK(\"http://evil.test\",\"ups\")"
    assert row["reason"] == "'+cmd|' /C calc'!A0"
    assert row["postal_code"] == "'@SUM(1)"
    assert row["outcome"] == "'-1+1"
    assert row["time_to_resolution_s"] == ""  # numbers and empty cells untouched
    assert row["opened_at"][0].isdigit()
    figures = api.get("/api/insights", params=NOV).json()  # JSON carries the raw text
    assert figures["top"]["reasons"] == [["+cmd|' /C calc'!A0", 1]]


# -- who may ask ----------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/insights", "/api/insights/export.csv"])
def test_supervisors_only_by_token_or_session(system, path):
    assert Api(system).get(path).status_code == 401
    agent = staff_api(system, "sam@example.com", name="Sam")
    refused = agent.get(path)
    assert refused.status_code == 403 and refused.json()["status"] == 403
    add_staff(system, "robin@example.com")
    token = system.runtime.staff.issue_token("robin@example.com")
    assert Api(system, token=token).get(path).status_code == 403
    assert supervisor(system).get(path).status_code == 200
    boss = staff_api(system, "kim@example.com", "supervisor", name="Kim")  # a session
    assert boss.get(path).status_code == 200


def test_the_page_and_its_charts_are_for_supervisors(system):
    hand_built(system)
    add_staff(system, "sam@example.com")
    agent = login(system, "sam@example.com")
    assert agent.get("/console/insights").status_code == 403
    assert agent.get("/console/insights/charts/outcomes.svg").status_code == 403
    assert 'id="nav-insights"' not in agent.get("/console").text
    anonymous = system.http.get(system.url + "/console/insights", allow_redirects=False,
                                timeout=15)
    assert anonymous.status_code in (302, 303)
    assert "/console/login" in anonymous.headers["Location"]

    add_staff(system, "lee@example.com", "supervisor")
    boss = login(system, "lee@example.com")
    page = boss.get("/console/insights", params=NOV)
    assert page.status_code == 200 and 'id="nav-insights"' in page.text
    assert 'id="tile-cases"' in page.text
    for name in CHARTS:
        assert f'src="/console/insights/charts/{name}.svg?from=2026-11-01' in page.text
        svg = boss.get(f"/console/insights/charts/{name}.svg", params=NOV)
        assert svg.status_code == 200, name
        assert svg.headers["Content-Type"].startswith("image/svg+xml")
        assert svg.text.startswith("<svg") and "<?xml" not in svg.text
        assert "src=" not in svg.text and "href=\"http" not in svg.text  # no CDN script
        assert "script-src" not in svg.headers["Content-Security-Policy"]
    assert boss.get("/console/insights/charts/nope.svg").status_code == 404


# -- bad filters ----------------------------------------------------------------------
@pytest.mark.parametrize(("params", "named"), [
    ({"from": "last week"}, "'from'"), ({"to": "2026-13-01"}, "'to'"),
    ({"from": "2026-11-05", "to": "2026-11-01"}, "'from'"),
    ({"to": "0001-01-02"}, "'to'")])
def test_a_bad_filter_is_a_400_naming_it(system, params, named):
    api = supervisor(system)
    for path in ("/api/insights", "/api/insights/export.csv"):
        resp = api.get(path, params=params)
        assert resp.status_code == 400
        assert named in resp.json()["error"] and resp.json()["status"] == 400


def test_the_page_shows_a_bad_filter_and_an_empty_range_plainly(system):
    add_staff(system, "lee@example.com", "supervisor")
    boss = login(system, "lee@example.com")
    bad = boss.get("/console/insights", params={"from": "yesterday"})
    assert bad.status_code == 400 and 'id="insights-error"' in bad.text
    assert "&#39;from&#39; must be a date" in bad.text and 'id="insights-filters"' in bad.text
    today = system.runtime.insights.today()
    empty = boss.get("/console/insights", params={"from": (today - timedelta(days=3))
                                                  .isoformat()})
    assert empty.status_code == 200 and "No cases in this range" in empty.text
    assert "<img" not in empty.text
