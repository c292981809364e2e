"""The insights page in a real headless Chromium: a supervisor reads the tiles and charts,
narrows them with a filter, downloads the CSV; the same page on a phone.

Screenshots land in ``test-artifacts/``: insights.png and insights-phone.png.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from browser import horizontal_overflow
from console_support import PASSWORD, add_staff
from playwright.sync_api import Page, expect

from bot.store import Store
from support import System

pytest_plugins = ("browser",)
expect.set_options(timeout=10_000)

CHARTS_LOADED = """() => {
  const images = [...document.querySelectorAll('img.chart')];
  return images.length > 0 && images.every(i => i.complete && i.naturalWidth > 0);
}"""


def case(store: Store, case_id: str, hours_ago: float, type_: str, carrier: str,
         reason: str, postal: str, *entries: tuple[int, str, dict[str, Any]]) -> None:
    """A case opened ``hours_ago``, its entries ``(seconds after opening, kind, data)``."""
    opened = datetime.now(UTC) - timedelta(hours=hours_ago)
    store.append_timeline(case_id, "case.opened", at=opened.isoformat(), type=type_,
                          carrier=carrier, reason=reason, postal_code=postal)
    for plus_s, kind, data in entries:
        store.append_timeline(case_id, kind, at=(opened + timedelta(seconds=plus_s))
                              .isoformat(), **data)


def sms(author: str = "bot") -> tuple[int, str, dict[str, Any]]:
    return (1, "message.queued", {"channel": "sms", "author": author, "key": "k", "text": "t"})


def seed(system: System) -> None:
    """Six cases: four failed deliveries and two damaged parcels.

    All: 3 of 6 self-service, 2 escalated, 1 expired; resolved after 600, 1200, 1800 and
    3600 s (median 25 min); SMS to 3 cases, 1 opted out. Damaged only: 2 cases, 1
    escalated."""
    store = Store(system.runtime.store.redis)
    resolved = "case.resolved"
    case(store, "cs_b1", 5, "delivery.failed", "ups", "no_one_home", "10001", sms(),
         (600, resolved, {"outcome": "rescheduled"}))
    case(store, "cs_b2", 4, "delivery.failed", "ups", "no_one_home", "10001", sms(),
         (1200, resolved, {"outcome": "rescheduled"}))
    case(store, "cs_b3", 4, "delivery.failed", "fedex", "access_denied", "94105",
         (300, "case.escalated", {"reason": "customer asked"}),
         (900, "message.queued", {"channel": "telegram", "author": "staff", "key": "k",
                                  "text": "t"}),
         (3600, resolved, {"outcome": "refund", "resolved_by": "lee@example.com"}))
    case(store, "cs_b4", 3, "delivery.failed", "ups", "no_one_home", "10001", sms(),
         (60, "customer.opted_out", {"channel": "sms"}),
         (7200, "case.expired", {"reason": "no_reply"}))
    case(store, "cs_b5", 2, "delivery.damaged", "fedex", "damaged", "94105",
         (60, "case.escalated", {"reason": "customer asked"}))
    case(store, "cs_b6", 1, "delivery.damaged", "fedex", "damaged", "60601",
         (1800, resolved, {"outcome": "replacement"}))


def sign_in_to_insights(page: Page, system: System, email: str) -> None:
    """Open the insights page; the console sends us to sign in first, then back."""
    page.goto(system.url + "/console/insights")
    expect(page).to_have_url(re.compile(r"/console/login\?next=(/|%2F)console(/|%2F)insights$"))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(system.url + "/console/insights")


def tile(page: Page, name: str) -> Any:
    return page.locator(f"#tile-{name} .figure-value")


def watch(page: Page) -> tuple[list[str], list[str]]:
    """Every URL the page requests, and every console error or warning (a CSP refusal
    is one)."""
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    def console(msg: Any) -> None:
        where = msg.location.get("url") or ""
        # The console serves no favicon: Chromium's own request for one is not the page's.
        if msg.type in ("error", "warning") and not where.endswith("/favicon.ico"):
            problems.append(f"{msg.type}: {msg.text} ({where})")
    page.on("console", console)
    return requested, problems


def test_a_supervisor_reads_the_insights_narrows_them_and_downloads_the_csv(
        make_system, page, screenshot):
    system = make_system()
    seed(system)
    add_staff(system, "lee@example.com", "supervisor", name="Lee")
    requested, problems = watch(page)
    sign_in_to_insights(page, system, "lee@example.com")
    expect(page.locator("#nav-insights")).to_have_attribute("aria-current", "page")

    expect(tile(page, "cases")).to_have_text("6")
    expect(tile(page, "self-service")).to_have_text("50%")
    expect(tile(page, "escalation")).to_have_text("33.3%")
    expect(tile(page, "expiry")).to_have_text("16.7%")
    expect(tile(page, "resolution")).to_have_text("25 min")
    expect(page.locator("#tile-resolution .figure-detail")).to_contain_text("p90 1.0 h")
    expect(tile(page, "first-response")).to_have_text("10 min")
    expect(tile(page, "opt-out")).to_have_text("33.3%")
    charts = page.locator("img.chart")
    expect(charts).to_have_count(8)
    page.wait_for_function(CHARTS_LOADED)
    for src in charts.evaluate_all("images => images.map(i => i.src)"):
        svg = page.context.request.get(src)  # the same cookies as the page
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert svg.text().startswith("<svg") and "<rect" in svg.text()
    expect(page.locator("#chart-carriers img")).to_have_attribute(
        "alt", "Top carriers: fedex 3, ups 3.")
    screenshot(page, "insights.png")

    page.select_option("#type", "delivery.damaged")
    page.click("#apply-filters")
    expect(page).to_have_url(re.compile(r"type=delivery\.damaged"))
    expect(tile(page, "cases")).to_have_text("2")
    expect(tile(page, "escalation")).to_have_text("50%")
    expect(tile(page, "expiry")).to_have_text("0%")
    expect(page.locator("#type")).to_have_value("delivery.damaged")
    page.wait_for_function(CHARTS_LOADED)

    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert re.fullmatch(r"doorstep-cases-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv",
                        download.suggested_filename)
    with Path(download.path()).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["case_id"] for r in rows) == ["cs_b5", "cs_b6"]

    page.fill("#carrier", "nobody")
    page.click("#apply-filters")
    expect(page.locator("#insights-empty")).to_contain_text("No cases in this range")
    expect(page.locator("img.chart")).to_have_count(0)

    outside = [u for u in requested if not u.startswith(system.url + "/")]
    assert outside == [], f"requests left the host: {outside}"
    assert problems == [], f"console errors: {problems}"


def test_the_insights_page_fits_a_phone(make_system, phone_page, screenshot):
    system = make_system()
    seed(system)
    add_staff(system, "lee@example.com", "supervisor", name="Lee")
    requested, problems = watch(phone_page)
    sign_in_to_insights(phone_page, system, "lee@example.com")
    expect(tile(phone_page, "cases")).to_have_text("6")
    phone_page.wait_for_function(CHARTS_LOADED)
    assert horizontal_overflow(phone_page) == 0
    screenshot(phone_page, "insights-phone.png")
    assert [u for u in requested if not u.startswith(system.url + "/")] == []
    assert problems == [], f"console errors: {problems}"

    # A bad range is answered 400 with the error above the form (Chromium logs the 400).
    phone_page.fill("#from", "2026-11-24")
    phone_page.fill("#to", "2026-11-01")
    phone_page.click("#apply-filters")
    expect(phone_page.locator("#insights-error")).to_contain_text(
        "'from' must not be after 'to'")
    expect(phone_page.locator("#from")).to_have_value("2026-11-24")
    assert len(problems) == 1 and "status of 400" in problems[0], problems
