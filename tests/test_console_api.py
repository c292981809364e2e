"""The console's JSON API over real HTTP: conversations (every answer is checked against
/api/openapi.json)."""

from __future__ import annotations

import time

import pytest
from console_api_support import Api, callback_of, staff_api
from console_support import ASK_FOR_A_PERSON
from images import png_bytes

from support import failed_event


# -- escalation, claiming, talking ------------------------------------------------
def test_an_escalated_conversation_is_listed_with_its_handoff_summary(system, sam, escalated):
    case_id, _, _ = escalated
    assert case_id in sam.listed(status="escalated")
    assert case_id not in sam.listed(status="bot")
    listing = sam.get("/api/conversations").json()
    assert listing["queue"]["waiting"] >= 1
    detail = sam.conversation(case_id)
    assert detail["status"] == "escalated" and detail["escalation"]["reason"]
    assert detail["escalation"]["assignee"] is None
    assert detail["handoff_summary"]
    assert any(m["text"] == ASK_FOR_A_PERSON for m in detail["transcript"]
               if m["author"] == "customer")


def test_claiming_tells_the_customer_who_joined(system, sam, escalated):
    case_id, customer, _ = escalated
    resp = sam.post(f"/api/conversations/{case_id}/claim")
    assert resp.status_code == 200, resp.text
    assert resp.json()["conversation"]["status"] == "held"
    assert "Sam from support" in customer.reply()
    assert case_id in sam.listed(status="held")
    assert case_id in sam.listed(view="mine")
    assert case_id not in sam.listed(status="escalated")


def test_a_second_agent_cannot_claim_a_held_conversation(system, sam, escalated):
    case_id, customer, _ = escalated
    kim = staff_api(system, "kim@example.com", name="Kim")
    assert sam.post(f"/api/conversations/{case_id}/claim").status_code == 200
    resp = kim.post(f"/api/conversations/{case_id}/claim")
    assert resp.status_code == 409 and "Sam" in resp.json()["error"]
    assert kim.conversation(case_id)["escalation"]["assignee"] == "sam@example.com"
    assert "Sam from support" in customer.reply()
    customer.silence()  # nobody told the customer Kim joined


def test_a_staff_message_reaches_the_customer_word_for_word(system, sam, escalated):
    case_id, customer, _ = escalated
    sam.post(f"/api/conversations/{case_id}/claim")
    customer.reply()
    text = "Hi Ana, I've asked the depot to hold your parcel until Friday."
    resp = sam.post(f"/api/conversations/{case_id}/messages", json={"text": text})
    assert resp.status_code == 202, resp.text
    assert resp.json()["key"]
    assert customer.reply() == text
    system.drain()
    sent = [m for m in sam.conversation(case_id)["transcript"] if m["author"] == "staff"]
    assert sent[-1]["text"] == text and sent[-1]["author_name"] == "Sam"


def test_notes_stay_inside_the_console(system, sam, escalated):
    case_id, customer, _ = escalated
    sam.post(f"/api/conversations/{case_id}/claim")
    customer.reply()
    resp = sam.post(f"/api/conversations/{case_id}/notes",
                    json={"text": "Customer sounded upset; offer a refund if late again."})
    assert resp.status_code == 201, resp.text
    assert resp.json()["note"]["author"] == "sam@example.com"
    customer.silence()
    notes = sam.conversation(case_id)["notes"]
    assert [n["text"] for n in notes] == ["Customer sounded upset; offer a refund if late again."]
    assert all("refund" not in (m["text"] or "")
               for m in sam.conversation(case_id)["transcript"])


# -- finding conversations --------------------------------------------------------
def test_search_finds_a_conversation_by_tracking_number_phone_or_name(system, sam):
    ana = failed_event(phone="+15551230001", tracking="1ZSEARCH0000000001")
    bob = failed_event(phone="+15551230002", tracking="1ZSEARCH0000000002")
    bob["shipment"]["recipient"]["name"] = "Bob Stone"
    ana_id = system.post_event(ana).json()["case_id"]
    bob_id = system.post_event(bob).json()["case_id"]
    system.drain()
    assert sam.listed(status="bot", q="1ZSEARCH0000000002") == [bob_id]
    assert sam.listed(status="bot", q="(555) 123-0001") == [ana_id]
    assert sam.listed(status="bot", q="bob stone") == [bob_id]
    assert sam.listed(status="bot") == [bob_id, ana_id]  # newest first
    assert sam.listed(status="bot", q="nobody-like-this") == []
    # Names and numbers: no browser or proxy may keep the answer.
    assert sam.get("/api/conversations", params={"status": "bot", "q": "bob stone"}
                   ).headers["Cache-Control"] == "no-store"


def test_conversations_can_be_filtered_by_exception_type(system, sam):
    failed = system.post_event(failed_event(phone="+15551230001")).json()["case_id"]
    moved = system.post_event(failed_event(phone="+15551230002", windows=False,
                                           type_="delivery.address_invalid")).json()["case_id"]
    system.drain()
    assert sam.listed(status="bot", type="delivery.failed") == [failed]
    assert sam.listed(status="bot", type="delivery.address_invalid") == [moved]


@pytest.mark.parametrize("params", [{"status": "open"}, {"view": "everything"}])
def test_unknown_filters_are_refused_with_the_choices(system, sam, params):
    resp = sam.get("/api/conversations", params=params)
    assert resp.status_code == 422
    assert next(iter(params)) in resp.json()["error"]


def test_an_unknown_conversation_is_not_found(system, sam):
    assert sam.get("/api/conversations/c_nope").status_code == 404
    assert sam.post("/api/conversations/c_nope/claim").status_code == 404


# -- resolving and handing back ------------------------------------------------------
def test_an_unknown_resolution_code_changes_nothing(system, sam, escalated):
    case_id, customer, _ = escalated
    sam.post(f"/api/conversations/{case_id}/claim")
    resp = sam.post(f"/api/conversations/{case_id}/resolve",
                    json={"resolution_code": "made_up", "note": "done"})
    assert resp.status_code == 422 and "resolution_code" in resp.json()["error"]
    system.drain()
    assert sam.conversation(case_id)["status"] == "held"
    assert "case.resolved" not in [c["payload"]["type"] for c in system.shipper.callbacks]


def test_resolving_posts_case_resolved_with_the_code_and_note(system, sam, escalated):
    case_id, customer, _ = escalated
    sam.post(f"/api/conversations/{case_id}/claim")
    codes = sam.get("/api/resolution-codes").json()["resolution_codes"]
    assert {"code": "redelivery_scheduled", "label": "Redelivery scheduled"} in codes
    resp = sam.post(f"/api/conversations/{case_id}/resolve",
                    json={"resolution_code": "redelivery_scheduled",
                          "note": "Booked Friday morning by phone."})
    assert resp.status_code == 200, resp.text
    assert resp.json()["conversation"]["status"] == "closed"
    data = callback_of(system, "case.resolved")["data"]
    assert data["case_id"] == case_id and data["resolution_code"] == "redelivery_scheduled"
    assert data["note"] == "Booked Friday morning by phone."
    assert case_id in sam.listed(status="closed")
    again = sam.post(f"/api/conversations/{case_id}/resolve",
                     json={"resolution_code": "redelivery_scheduled", "note": "twice"})
    assert again.status_code == 409


def test_handing_back_lets_the_bot_ask_its_question_again(system, sam, escalated):
    case_id, customer, offer = escalated
    sam.post(f"/api/conversations/{case_id}/claim")
    customer.reply()
    resp = sam.post(f"/api/conversations/{case_id}/handback", json={"restart": False})
    assert resp.status_code == 200, resp.text
    assert resp.json()["conversation"]["status"] == "bot"
    choices = [line for line in offer.splitlines() if line[:1].isdigit()]
    said = customer.reply()
    if choices[0] not in said:  # the question may follow the "assistant again" line
        said = customer.reply()
    assert choices and all(choice in said for choice in choices), (offer, said)
    assert case_id in sam.listed(status="bot")


def test_a_handback_without_a_body_is_accepted(system, sam, escalated):
    case_id, _, _ = escalated
    sam.post(f"/api/conversations/{case_id}/claim")
    resp = sam.call("post", f"/api/conversations/{case_id}/handback")
    assert resp.status_code == 200, resp.text


# -- bodies ---------------------------------------------------------------------------
def test_a_body_that_is_not_json_is_a_400(system, sam, escalated):
    case_id, _, _ = escalated
    sam.post(f"/api/conversations/{case_id}/claim")
    for raw in ("{not json", "[1, 2]", ""):
        resp = sam.call("post", f"/api/conversations/{case_id}/messages", data=raw,
                        headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, raw
        assert resp.json() == {"error": "body must be a JSON object", "status": 400}


@pytest.mark.parametrize(("body", "named"), [
    ({}, "text"), ({"text": 42}, "text"), ({"message": "hi"}, "text")])
def test_a_missing_or_mistyped_field_is_a_422_naming_it(system, sam, escalated, body, named):
    case_id, customer, _ = escalated
    sam.post(f"/api/conversations/{case_id}/claim")
    customer.reply()
    resp = sam.post(f"/api/conversations/{case_id}/messages", json=body)
    assert resp.status_code == 422 and named in resp.json()["error"]
    customer.silence()


# -- photos ---------------------------------------------------------------------------
def test_a_customers_photo_is_served_only_through_its_own_conversation(system, sam,
                                                                       media_server):
    case_id = system.post_event(failed_event()).json()["case_id"]
    other_id = system.post_event(failed_event(phone="+15551230002")).json()["case_id"]
    picture = png_bytes()
    url = media_server.add(picture, "image/png")
    assert system.mms("+15551230001", "", [url], ["image/png"]).status_code == 200
    deadline = time.monotonic() + 10
    while not (media := sam.conversation(case_id)["media"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert media, "the photo never reached the case"
    resp = sam.get(f"/api/conversations/{case_id}/media/{media[0]['id']}")
    assert resp.status_code == 200 and resp.content == picture
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "private, max-age=3600"
    assert sam.get(f"/api/conversations/{other_id}/media/{media[0]['id']}").status_code == 404
    assert Api(system).get(f"/api/conversations/{case_id}/media/{media[0]['id']}"
                           ).status_code == 401
