"""The tracking page in headless Chromium on a phone-sized screen, from the link alone.

A customer picks a new window and confirms; another reports damage with a photo taken
(uploaded) on the page; a tampered link gets the friendly 404. Screenshots go to
``test-artifacts/``: tracking-open.png, tracking-rescheduled.png, tracking-damage-upload.png,
tracking-damage-done.png, tracking-404.png.
"""

from __future__ import annotations

from browser import horizontal_overflow
from images import png_bytes
from playwright.sync_api import Page, expect
from tracking_support import link_in

from support import System, failed_event, wait_for

pytest_plugins = ("browser",)
expect.set_options(timeout=10_000)

PHONE = "+15551230001"
DESCRIPTION = "the box is crushed and the lamp inside is cracked"


def first_sms_link(system: System, event: dict) -> tuple[str, str]:
    """Post ``event``; (case id, the tracking link from the first SMS's opt-out line)."""
    case_id = system.post_event(event).json()["case_id"]
    customer = system.customer(PHONE)
    customer.reply()
    return case_id, link_in(customer.reply())


def callback(system: System, kind: str) -> dict:
    return wait_for(f"a {kind} callback", lambda: next(
        (c["payload"] for c in system.shipper.callbacks if c["payload"]["type"] == kind), None))


def test_a_customer_reschedules_from_the_link_alone(system, phone_page: Page, screenshot):
    event = failed_event(PHONE)
    case_id, link = first_sms_link(system, event)
    phone_page.goto(link)
    expect(phone_page.locator("#status")).to_contain_text("Delivery attempt failed")
    expect(phone_page.locator("#tracking-number")).to_have_text(
        event["shipment"]["tracking_number"])
    assert horizontal_overflow(phone_page) == 0
    screenshot(phone_page, "tracking-open.png")

    phone_page.get_by_role("button", name="Pick a new window").click()
    expect(phone_page.locator("#question")).to_contain_text("Pick a new delivery time")
    choices = phone_page.locator("button.choice")
    expect(choices).to_have_count(3)
    second = choices.nth(1).inner_text()
    choices.nth(1).click()
    expect(phone_page.locator("#question")).to_contain_text("is that right?")
    phone_page.get_by_role("button", name="Yes").click()
    expect(phone_page.locator("#state")).to_have_text("Resolved")
    expect(phone_page.locator("#question")).to_contain_text("Booked")
    expect(phone_page.locator("#history")).to_contain_text("New delivery window: " + second)
    expect(phone_page.locator("form")).to_have_count(0)
    assert horizontal_overflow(phone_page) == 0
    screenshot(phone_page, "tracking-rescheduled.png")

    data = callback(system, "case.rescheduled")["data"]
    assert data["case_id"] == case_id
    assert data["window"] == event["details"]["available_windows"][1]
    assert system.case(case_id).status == "resolved"


def test_a_customer_reports_damage_with_a_photo_from_the_page(system, phone_page: Page,
                                                              screenshot):
    event = failed_event(PHONE, type_="delivery.damaged", windows=False,
                         reason="damaged_in_transit")
    case_id, link = first_sms_link(system, event)
    phone_page.goto(link)
    expect(phone_page.locator("#status")).to_contain_text("Parcel damaged in transit")
    phone_page.get_by_role("button", name="Report damage").click()
    expect(phone_page.locator("#question")).to_contain_text("describe the damage")
    phone_page.fill("#text", DESCRIPTION)
    phone_page.get_by_role("button", name="Send", exact=True).click()
    expect(phone_page.locator("#question")).to_contain_text("photos")

    photo = png_bytes(48, 32)
    phone_page.set_input_files("#photo", files=[{"name": "damage.png", "mimeType": "image/png",
                                                 "buffer": photo}])
    screenshot(phone_page, "tracking-damage-upload.png")
    phone_page.get_by_role("button", name="Send photo").click()
    expect(phone_page.locator("#question")).to_contain_text("1 of 5")
    expect(phone_page.locator("#history")).to_contain_text("Photo received")
    phone_page.get_by_role("button", name="Done").click()
    expect(phone_page.locator("#question")).to_contain_text("What would you prefer?")
    phone_page.get_by_role("button", name="Refund").click()
    expect(phone_page.locator("#question")).to_contain_text("claim reference is CL-")
    expect(phone_page.locator("#state")).to_have_text("Resolved")
    assert horizontal_overflow(phone_page) == 0
    screenshot(phone_page, "tracking-damage-done.png")

    data = callback(system, "case.damage_reported")["data"]
    assert data["case_id"] == case_id and data["description"] == DESCRIPTION
    assert data["preferred_remedy"] == "refund"
    assert [p["content_type"] for p in data["photos"]] == ["image/png"]
    stored = system.runtime.engine.media.store.get(data["photos"][0]["media_id"])
    assert stored == (photo, "image/png")


def test_a_tampered_link_shows_the_friendly_404(system, phone_page: Page, screenshot):
    _, link = first_sms_link(system, failed_event(PHONE))
    token = link.rsplit("/", 1)[1]
    tampered = link[:-len(token)] + token[::-1]
    response = phone_page.goto(tampered)
    assert response is not None and response.status == 404
    expect(phone_page.locator("#gone")).to_contain_text("This link isn't working")
    expect(phone_page.locator("#gone")).to_contain_text("reply to our text message")
    assert horizontal_overflow(phone_page) == 0
    screenshot(phone_page, "tracking-404.png")
