"""The support console in a real headless Chromium: sign in, watch an escalation arrive
live, take it over, reply, hand back, resolve; the same pages on a phone; admin.

Screenshots land in ``test-artifacts/``: inbox.png, conversation.png, inbox-phone.png,
conversation-phone.png (and admin.png).
"""

from __future__ import annotations

import re
from typing import Any

from console_support import PASSWORD, add_staff, login
from playwright.sync_api import Page, expect

from support import System, failed_event, wait_for

expect.set_options(timeout=10_000)

PHONE = "+15551230001"
REPLY = "Hi Ana, Sam here. I have asked the depot to hold your parcel for you."
MARKUP = '<img src=x onerror="window.injected=1">where is it?'
NOTE = "Customer prefers evenings; depot confirmed the hold by phone."


def sign_in(page: Page, system: System, email: str) -> None:
    """Through the real sign-in page, starting from the inbox (which sends us there)."""
    page.goto(system.url + "/console")
    expect(page).to_have_url(re.compile(r"/console/login\?next=(/|%2F)console$"))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(system.url + "/console")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")  # SSE connected


def escalate(system: System, phone: str = PHONE) -> str:
    """A failed delivery whose customer asks for a person; the case id."""
    case_id = system.post_event(failed_event(phone)).json()["case_id"]
    customer = system.customer(phone)
    customer.offered()
    customer.say("I want to talk to a person")
    return case_id




def sent(system: System, text: str, phone: str = PHONE) -> dict[str, Any]:
    """The fake Twilio API's record of ``text`` sent to ``phone`` (waits for it)."""
    return wait_for(f"Twilio receiving {text!r}", lambda: next(
        (m for m in system.twilio.messages if m["to"] == phone and m["body"] == text), None))


def callback(system: System, kind: str) -> dict[str, Any]:
    """The shipper callback of type ``kind`` (waits for it)."""
    return wait_for(f"a {kind} callback", lambda: next(
        (c["payload"] for c in system.shipper.callbacks if c["payload"]["type"] == kind), None))


def same_document(page: Page) -> bool:
    """True while the page has not reloaded since :func:`mark_document`."""
    return bool(page.evaluate("window.__notReloaded === true"))


def mark_document(page: Page) -> None:
    page.evaluate("window.__notReloaded = true")


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_agent_sees_an_escalation_live_takes_it_over_replies_hands_back_and_resolves(
        make_system, page, screenshot):
    system = make_system()
    add_staff(system, "sam@example.com", name="Sam")
    system.runtime.playbook.add_canned_response("On it", "I'm looking into this right now.")
    sign_in(page, system, "sam@example.com")
    expect(page.locator("#nav-admin")).to_have_count(0)  # agents do not administer
    mark_document(page)

    # The escalation appears in the open inbox without a reload (SSE).
    case_id = escalate(system)
    row = page.locator(f'.conversation-row[data-id="{case_id}"]')
    expect(row).to_contain_text("Ana Diaz")
    expect(row).to_contain_text("Failed delivery")
    expect(row.locator(".row-escalation")).to_contain_text("Escalated")
    expect(row).to_contain_text("Unassigned")
    expect(page.locator("#q-waiting")).to_have_text("1")
    assert same_document(page), "the inbox reloaded instead of updating live"
    screenshot(page, "inbox.png")

    # Take it over.
    row.locator("a").click()
    expect(page).to_have_url(system.url + f"/console/c/{case_id}")
    expect(page.locator("#conv-name")).to_have_text("Ana Diaz")
    expect(page.locator("#handoff")).to_contain_text("I want to talk to a person")
    expect(page.locator("#reply-text")).to_be_disabled()
    mark_document(page)
    page.click("#claim")
    expect(page.locator("#conv-desk-status")).to_contain_text("held")
    expect(page.locator("#conv-assignee")).to_have_text("Sam")
    expect(page.locator("#claim")).to_be_disabled()
    sent(system, "You're chatting with Sam from support.")

    # A canned response goes into the box; the reply reaches Twilio and shows its status.
    page.select_option("#canned", label="On it")
    expect(page.locator("#reply-text")).to_have_value("I'm looking into this right now.")
    page.fill("#reply-text", REPLY)
    page.click("#send-reply")
    expect(page.locator("#reply-text")).to_have_value("")
    message = sent(system, REPLY)
    staff_said = page.locator("#transcript li.author-staff").filter(has_text=REPLY)
    expect(staff_said.locator(".msg-author")).to_have_text("Sam (staff)")
    expect(staff_said.locator(".delivery")).to_have_text("sent")
    system.twilio.send_status(message["sid"], "delivered")
    expect(staff_said.locator(".delivery")).to_have_text("delivered")

    # An internal note stays internal.
    page.fill("#note-text", NOTE)
    page.click("#add-note")
    expect(page.locator("#notes")).to_contain_text(NOTE)
    expect(page.locator("#notes-section")).to_contain_text("customer never sees this")
    assert all(m["body"] != NOTE for m in system.twilio.messages)
    screenshot(page, "conversation.png")

    # Hand back: the bot takes over again; then the customer asks for a person again.
    page.click("#handback")
    expect(page.locator("#conv-desk-status")).to_have_text("bot")
    expect(page.locator("#handback")).to_be_disabled()
    expect(page.locator("#reply-text")).to_be_disabled()
    system.customer(PHONE).say("No, I need a person please")
    expect(page.locator("#conv-desk-status")).to_contain_text("escalated")  # live
    expect(page.locator("#claim")).to_be_enabled()

    # Resolve with a code and a note: case.resolved reaches the shipper.
    page.click("#resolve")
    page.select_option("#resolution-code", "redelivery_scheduled")
    page.fill("#resolution-note", "Depot holds the parcel; redelivery tomorrow evening.")
    page.click("#confirm-resolve")
    expect(page.locator("#conv-desk-status")).to_have_text("closed")
    expect(page.locator("#resolve")).to_be_disabled()
    assert same_document(page), "the conversation view reloaded instead of updating live"
    resolved = callback(system, "case.resolved")
    assert resolved["data"]["case_id"] == case_id
    assert resolved["data"]["resolution_code"] == "redelivery_scheduled"
    assert resolved["data"]["note"] == "Depot holds the parcel; redelivery tomorrow evening."

    # The inbox's tabs, search and type filter find it among the closed ones.
    page.click(".back")
    page.click("#tab-closed")
    expect(row).to_be_visible()
    page.fill("#search", "no such customer")
    expect(page.locator(".conversation-row")).to_have_count(0)
    page.fill("#search", system.case(case_id).tracking_number)
    expect(row).to_be_visible()
    page.select_option("#type-filter", "delivery.damaged")
    expect(row).to_have_count(0)
    page.reload()  # the tab and filters live in the address
    expect(page.locator("#tab-closed")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#type-filter")).to_have_value("delivery.damaged")


def test_the_inbox_and_a_conversation_fit_a_phone_and_a_lost_claim_says_why(
        make_system, phone_page, screenshot):
    system = make_system()
    add_staff(system, "sam@example.com", name="Sam")
    add_staff(system, "lee@example.com", name="Lee")
    case_id = escalate(system)
    system.customer(PHONE).say(MARKUP)
    page = phone_page
    sign_in(page, system, "lee@example.com")
    row = page.locator(f'.conversation-row[data-id="{case_id}"]')
    expect(row).to_contain_text("Ana Diaz")
    assert page_width(page) <= 390, f"the inbox scrolls sideways ({page_width(page)}px)"
    screenshot(page, "inbox-phone.png")

    row.locator("a").click()
    expect(page.locator("#conv-name")).to_have_text("Ana Diaz")
    expect(page.locator("#claim")).to_be_enabled()
    expect(page.locator("#transcript")).to_contain_text(MARKUP)  # shown as text, not run
    assert page.evaluate("window.injected") is None
    assert page.locator("#transcript img, #transcript script").count() == 0
    assert page_width(page) <= 390, f"the conversation scrolls sideways ({page_width(page)}px)"
    screenshot(page, "conversation-phone.png")

    # Sam claims it first (through the API) while Lee's page, cut off from live updates,
    # still offers the claim.
    page.route("**/api/stream", lambda route: route.abort())
    page.reload()
    expect(page.locator("#claim")).to_be_enabled()
    sam = login(system, "sam@example.com")
    assert sam.post(f"/api/conversations/{case_id}/claim").status_code == 200
    page.click("#claim")
    expect(page.locator("#alert")).to_be_visible()
    expect(page.locator("#alert")).to_contain_text("Sam")
    expect(page.locator("#conv-assignee")).to_have_text("Sam")
    expect(page.locator("#reply-text")).to_be_disabled()
    assert page_width(page) <= 390

    assert page.goto(system.url + "/console/admin").status == 403  # agents only
    assert page.goto(system.url + "/console/c/no-such-case").status == 404


def test_a_supervisor_manages_canned_responses_codes_and_staff(make_system, page, screenshot):
    system = make_system()
    add_staff(system, "kim@example.com", role="supervisor", name="Kim")
    add_staff(system, "sam@example.com", name="Sam")
    sign_in(page, system, "kim@example.com")
    page.click("#nav-admin")
    expect(page.locator("#staff-list")).to_contain_text("sam@example.com")

    page.fill("#canned-title", "Depot hours")
    page.fill("#canned-text", "The depot is open 8am-8pm.")
    page.click("#add-canned")
    expect(page.locator("#canned-list")).to_contain_text("Depot hours")

    page.fill("#code-code", "driver_contacted")
    page.fill("#code-label", "Driver contacted")
    page.click("#add-code")
    expect(page.locator("#codes-list")).to_contain_text("Driver contacted")

    page.fill("#staff-email", "new.agent@example.com")
    page.fill("#staff-password", "a long enough password")
    page.click("#add-staff")
    expect(page.locator("#staff-list")).to_contain_text("new.agent@example.com")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click('#staff-list li[data-email="sam@example.com"] button')
    expect(page.locator('#staff-list li[data-email="sam@example.com"]')).to_contain_text(
        "disabled")
    screenshot(page, "admin.png")
    assert system.runtime.staff.get("sam@example.com").disabled
    assert [c["code"] for c in system.runtime.playbook.resolution_codes()][-1] == \
        "driver_contacted"
