"""The customer tracking page over real HTTP: its link in the first message, the one 404,
the same flows and callbacks as the chat, replays, the hand-off, and logs without tokens.
"""

from __future__ import annotations

import io
import logging
import secrets

import pytest
import requests
from console_api_support import staff_api
from tracking_support import Visitor, link_in, token_of

from bot.links import link_key, link_token, tracking_key
from bot.logs import formatter_for
from channels.render import segments
from support import failed_event, wait_for

PHONE = "+15551230001"
CHAT = 5550202
NEW_ADDRESS = "118 Oak St Apt 4B, Springfield IL 62704"


def open_sms_case(system, **event_kw):  # noqa: ANN001, ANN201
    """A failed delivery texted to PHONE: (case id, event, the link in the first SMS)."""
    event = failed_event(PHONE, **event_kw)
    case_id = system.post_event(event).json()["case_id"]
    customer = system.customer(PHONE)
    customer.reply()
    hint = customer.reply()
    assert "STOP" in hint
    return case_id, event, link_in(hint)


def callback(system, kind: str) -> dict:  # noqa: ANN001
    return wait_for(f"a {kind} callback", lambda: next(
        (c["payload"] for c in system.shipper.callbacks if c["payload"]["type"] == kind), None))


def web_turns(system, case_id: str) -> int:  # noqa: ANN001
    return sum(1 for e in system.runtime.store.timeline(case_id)
               if e["kind"] == "message.in" and e.get("channel") == "web")


def test_the_first_sms_and_the_first_telegram_message_carry_a_link_that_opens_the_page(system):
    case_id, event, link = open_sms_case(system)
    assert link.startswith(system.settings.public_url + "/t/")
    hint = system.customer(PHONE).messages()[1]["body"]
    assert hint.endswith("Reply STOP to opt out.") and segments(hint) == 1
    page = Visitor(system, link)
    body = page.open()
    assert event["shipment"]["tracking_number"] in body and "Acme" in body
    assert "Delivery attempt failed: nobody was home" in body
    assert page.state() == "open"
    assert [v for v, _ in page.buttons("action")] == ["reschedule", "address", "damage", "human"]
    assert PHONE not in body and "12 Oak St" not in body and "Ana Diaz" not in body
    headers = page.last.headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Robots-Tag"].startswith("noindex")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]

    tg_event = failed_event(None, tracking="1Z999AA10123456784")
    tg_event["shipment"]["recipient"].update(phone=None, telegram_chat_id=CHAT)
    tg_case = system.post_event(tg_event).json()["case_id"]
    first = system.chat(CHAT).reply_message()
    tg_link = link_in(first["text"])
    assert len(system.chat(CHAT).buttons(first)) == 3  # the windows are still buttons
    assert tg_link != link and "1Z999AA10123456784" in Visitor(system, tg_link).open()
    assert tg_case != case_id


def test_a_spanish_first_sms_keeps_the_link_in_one_segment(system):
    _, _, link = open_sms_case(system, language="es")
    hint = system.customer(PHONE).messages()[1]["body"]
    assert "Responda STOP" in hint and link in hint and segments(hint) == 1


def test_tracking_links_off_leaves_the_link_out(make_system):
    system = make_system(TRACKING_LINKS="off")
    system.post_event(failed_event(PHONE))
    customer = system.customer(PHONE)
    assert "/t/" not in customer.reply()
    assert customer.reply() == "Reply STOP to opt out."


def test_bad_links_all_get_the_same_friendly_404(make_system, http):
    system = make_system(TRACKING_LINK_DAYS="0")
    case_id, _, link = open_sms_case(system)
    base, token = link.rsplit("/", 1)
    flipped = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    secret = system.settings.events_webhook_secret
    unknown = link_token("cs_" + secrets.token_hex(8), tracking_key(secret))
    deep_link = link_token(case_id, link_key(secret))
    bodies = set()
    for bad in (flipped, token[:-1], "not-a-token", deep_link, unknown, token + "/x"):
        for method in ("get", "post"):
            resp = http.request(method, f"{base}/{bad}", data={"nonce": "x" * 20}, timeout=15)
            assert resp.status_code == 404, (bad, method)
            assert resp.headers["Content-Type"].startswith("text/html")
            assert resp.headers["Cache-Control"] == "no-store"
            bodies.add(resp.text)
    assert len(bodies) == 1
    (body,) = bodies
    assert "This link isn&#39;t working" in body and "reply to our text message" in body
    assert case_id not in body
    spanish = http.get(f"{base}/{flipped}", headers={"Accept-Language": "es-MX,es;q=0.9"},
                       timeout=15)
    assert spanish.status_code == 404 and "responda a nuestro mensaje de texto" in spanish.text

    assert http.get(link, timeout=15).status_code == 200  # open: the link works...
    system.post_event(failed_event(PHONE, type_="delivery.delivered",
                                   tracking=system.case(case_id).tracking_number))
    assert system.case(case_id).status == "resolved"
    closed = http.get(link, timeout=15)  # ...closed, and TRACKING_LINK_DAYS=0 is past
    assert closed.status_code == 404 and closed.text == body


def test_a_closed_case_within_the_grace_shows_its_outcome_without_actions(system):
    case_id, event, link = open_sms_case(system)
    customer = system.customer(PHONE)
    customer.read = 2  # the offer and the opt-out line, read by open_sms_case
    customer.book("2")
    page = Visitor(system, link)
    body = page.open()
    assert page.state() == "resolved"
    assert "<form" not in body and "Nothing more to do here" in body
    assert page.history()[0].startswith("Resolved")
    assert any(line.startswith("New delivery window: ") for line in page.history())
    assert page.history()[-1] == "Delivery attempt failed"


def test_reschedule_from_the_page_resolves_the_case_with_the_chats_callback(system):
    case_id, event, link = open_sms_case(system)
    page = Visitor(system, link)
    page.open()
    page.act("reschedule")
    assert "Pick a new delivery time" in page.question()
    choices = page.buttons("choice")
    assert [v for v, _ in choices] == ["1", "2", "3"]
    page.answer("2")
    assert "is that right?" in page.question()
    assert [label for _, label in page.buttons("quick")] == ["Yes", "No"]
    page.answer("yes")
    assert page.question().startswith("Booked")
    assert page.state() == "resolved" and page.buttons("action") == []
    assert system.case(case_id).status == "resolved"

    data = callback(system, "case.rescheduled")["data"]
    assert data == {"case_id": case_id, "tracking_number": event["shipment"]["tracking_number"],
                    "order_ref": "A-1001",
                    "window": event["details"]["available_windows"][1]}
    system.drain()
    assert len(system.customer(PHONE).messages()) == 2  # nothing more texted to the phone
    store = system.runtime.store
    web = [e for e in store.timeline(case_id) if e["kind"] == "message.queued"
           and e["channel"] == "web"]
    assert web and all(store.outbound_record(e["key"])["status"] == "sent" for e in web)


def test_a_double_submit_changes_nothing(system):
    case_id, _, link = open_sms_case(system)
    page = Visitor(system, link)
    page.open()
    nonce = page.nonce()
    page.post({"action": "reschedule"}, nonce=nonce)
    page.post({"action": "reschedule"}, nonce=nonce)
    assert web_turns(system, case_id) == 1
    page.answer("1")
    confirm_nonce = page.nonce()
    page.post({"answer": "yes"}, nonce=confirm_nonce)
    page.post({"answer": "yes"}, nonce=confirm_nonce)
    assert web_turns(system, case_id) == 3
    kinds = system.timeline_kinds(case_id)
    assert kinds.count("window.reserved") == 1 and kinds.count("callback.queued") == 1
    system.drain()
    assert [c["payload"]["type"] for c in system.shipper.callbacks] == ["case.rescheduled"]


def test_address_correction_from_the_page_is_seen_by_that_browser_only(system):
    case_id, _, link = open_sms_case(system, reason="address_not_found")
    page = Visitor(system, link)
    page.open()
    assert [v for v, _ in page.buttons("action")][0] == "address"
    page.act("address")
    assert "correct delivery address" in page.question()
    page.say(NEW_ADDRESS)
    assert "118 Oak St" in page.question() and "is that right?" in page.question().lower()
    stranger = Visitor(system, link)
    assert "118 Oak" not in stranger.open() and "Springfield" not in stranger.page
    page.answer("yes")
    assert "delivery instructions" in page.question()
    page.answer("no")
    assert page.state() == "resolved"
    data = callback(system, "case.address_changed")["data"]
    assert data["address"]["line1"] == "118 Oak St" and data["address"]["postal_code"] == "62704"
    assert "Address updated" in stranger.open() and "118 Oak" not in stranger.page


def test_asking_for_a_person_escalates_and_the_page_shows_the_hand_off(system):
    case_id, _, link = open_sms_case(system)
    page = Visitor(system, link)
    page.open()
    page.act("human")
    assert "will contact you by text message" in page.question()
    assert page.state() == "with_team"
    assert page.buttons("action") == [] and "<form" not in page.page
    assert "Passed to our support team" in page.history()
    sam = staff_api(system, "sam@example.com", name="Sam Rivera")
    rows = sam.get("/api/conversations").json()["conversations"]
    assert [(r["id"], r["status"]) for r in rows] == [(case_id, "escalated")]
    assert callback(system, "case.escalated")["data"]["reason"] == "customer asked for a person"
    # A post from a page drawn before the hand-off changes nothing.
    stale = page.http.post(link, data={"nonce": "n" * 22, "action": "reschedule"},
                           allow_redirects=False, timeout=15)
    assert stale.status_code == 303 and system.case(case_id).status == "escalated"

    assert sam.post(f"/api/conversations/{case_id}/claim").status_code == 200
    page.open()
    assert page.state() == "held"
    assert "Sam from our support team is handling this" in page.page
    assert "Rivera" not in page.page


def test_a_refused_upload_says_why_on_the_page(system):
    event = failed_event(PHONE, type_="delivery.damaged", windows=False,
                         reason="damaged_in_transit")
    case_id = system.post_event(event).json()["case_id"]
    customer = system.customer(PHONE)
    customer.reply()
    page = Visitor(system, link_in(customer.reply()))
    page.open()
    page.act("damage")
    page.say("the box is crushed")
    assert 'type="file"' in page.page and "photos" in page.question()
    page.photo(b"%PDF-1.4 not a photo", "claim.pdf", "application/pdf")
    assert "we can only use photos" in page.question()
    assert "media.refused" in system.timeline_kinds(case_id)


def test_the_token_never_appears_in_logs(make_system):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    before = root.level
    root.setLevel(logging.DEBUG)
    try:
        system = make_system(LOG_LEVEL="DEBUG")
        case_id, _, link = open_sms_case(system)
        page = Visitor(system, link)
        page.open()
        page.act("reschedule")
        page.answer("1")
        page.answer("yes")
        requests.get(link + "x", timeout=15)
        system.drain()
        # What an access log (waitress, gunicorn) would write for these requests.
        logging.getLogger("waitress").warning('"GET %s HTTP/1.1" 200', link)
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
    lines = stream.getvalue()
    assert '/t/[token]' in lines
    assert token_of(link) not in lines and token_of(link)[:12] not in lines


@pytest.mark.parametrize("value", ["0", "-1", "seven"])
def test_tracking_link_days_must_be_a_whole_number_of_days(value):
    from bot.errors import ConfigError
    from bot.settings import load_settings

    env = {"EVENTS_WEBHOOK_SECRET": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
           "TRACKING_LINK_DAYS": value}
    if value == "0":
        assert load_settings(env, read_dotenv=False).tracking_link_days == 0
    else:
        with pytest.raises(ConfigError, match="TRACKING_LINK_DAYS"):
            load_settings(env, read_dotenv=False)


def test_posts_over_the_rate_limit_get_a_page_with_retry_after(make_system):
    system = make_system(RATE_LIMIT_TRACKING="2/minute")
    _, _, link = open_sms_case(system)
    page = Visitor(system, link)
    page.open()
    page.post({"text": ""})
    page.post({"text": ""})
    refused = page.http.post(link, data={"nonce": page.nonce()}, allow_redirects=False,
                             timeout=15)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Content-Type"].startswith("text/html")
    assert "Too many tries" in refused.text
    assert Visitor(system, link).open()  # reading the page is not limited
