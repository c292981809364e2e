"""The console's JSON API over real HTTP: every answer is checked against /api/openapi.json."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from console_support import StaffClient, add_staff, login
from images import png_bytes
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_spec_validator import validate as validate_spec

from support import Customer, System, failed_event

ASK_FOR_A_PERSON = "can I talk to a person please"
_specs: dict[str, OpenAPI] = {}


def spec_for(system: System) -> OpenAPI:
    """The app's own OpenAPI document, fetched once per running system."""
    if system.url not in _specs:
        resp = system.http.get(system.url + "/api/openapi.json", timeout=15)
        assert resp.status_code == 200, resp.text
        _specs.clear()
        _specs[system.url] = OpenAPI.from_dict(resp.json())
    return _specs[system.url]


def documented(system: System, resp: requests.Response) -> requests.Response:
    """``resp``, after checking its status, headers and body are what the document says."""
    spec_for(system).validate_response(RequestsOpenAPIRequest(resp.request),
                                       RequestsOpenAPIResponse(resp))
    return resp


class Api:
    """Calls to /api as a staff member (or nobody), each answer checked against the spec."""

    def __init__(self, system: System, client: StaffClient | None = None,
                 token: str | None = None) -> None:
        self.system = system
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 15)
        kw["headers"] = {**self.headers, **kw.get("headers", {})}
        if self.client is not None:
            resp = getattr(self.client, method)(path, **kw)
        else:
            resp = self.system.http.request(method, self.system.url + path, **kw)
        return documented(self.system, resp)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("get", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.call("post", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.call("delete", path, **kw)

    def conversation(self, case_id: str) -> dict[str, Any]:
        resp = self.get(f"/api/conversations/{case_id}")
        assert resp.status_code == 200, resp.text
        return resp.json()

    def listed(self, **params: str) -> list[str]:
        resp = self.get("/api/conversations", params=params)
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["conversations"]]


def staff_api(system: System, email: str, role: str = "agent", name: str | None = None) -> Api:
    add_staff(system, email, role, name=name)
    return Api(system, login(system, email))


def escalate(system: System, phone: str = "+15551230001", **event: Any
             ) -> tuple[str, Customer, str]:
    """A failed delivery whose customer asks for a person: case id, customer, first offer."""
    customer = system.customer(phone)
    resp = system.post_event(failed_event(phone=phone, **event))
    assert resp.status_code == 202, resp.text
    offer = customer.offered()
    customer.say(ASK_FOR_A_PERSON)
    assert "minutes" in " ".join(replies_so_far(customer))  # when a person should reply
    return resp.json()["case_id"], customer, offer


def replies_so_far(customer: Customer) -> list[str]:
    """Everything sent to the customer that was not read yet, once the queues are empty."""
    customer.reply()
    customer.system.drain()
    unread = [m["body"] for m in customer.messages()[customer.read - 1:]]
    customer.read = len(customer.messages())
    return unread


def callback_of(system: System, type_: str, timeout: float = 10.0) -> dict[str, Any]:
    """The first shipper callback of ``type_`` (waiting for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c["payload"] for c in system.shipper.callbacks
                 if c["payload"]["type"] == type_]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no {type_} callback within {timeout}s")


@pytest.fixture
def sam(system: System) -> Api:
    return staff_api(system, "sam@example.com", name="Sam")


@pytest.fixture
def escalated(system: System) -> tuple[str, Customer, str]:
    return escalate(system)


# -- the document itself ----------------------------------------------------------
def test_the_openapi_document_is_public_valid_and_names_every_route(system):
    resp = system.http.get(system.url + "/api/openapi.json", timeout=15)
    assert resp.status_code == 200
    doc = resp.json()
    validate_spec(doc)
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"][0]["url"] == system.url
    for path in ("/api/conversations", "/api/conversations/{id}/resolve", "/api/stream",
                 "/api/staff/{email}/disable", "/api/openapi.json", "/api/me"):
        assert path in doc["paths"], path
    schemes = doc["components"]["securitySchemes"]
    assert schemes["session"]["in"] == "cookie" and schemes["bearer"]["scheme"] == "bearer"


def test_me_says_who_is_signed_in(system, sam):
    assert sam.get("/api/me").json() == {"email": "sam@example.com", "name": "Sam",
                                         "role": "agent"}


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


# -- who may do what ------------------------------------------------------------------
def test_nobody_signed_in_gets_401(system, escalated):
    case_id, _, _ = escalated
    anonymous = Api(system)
    assert anonymous.get("/api/conversations").status_code == 401
    resp = anonymous.post(f"/api/conversations/{case_id}/claim")
    assert resp.status_code == 401 and "sign in" in resp.json()["error"]
    assert anonymous.get("/api/me").status_code == 401
    assert anonymous.get("/api/stream").status_code == 401


def test_a_cookie_call_without_the_csrf_token_is_refused(system, sam, escalated):
    case_id, customer, _ = escalated
    http = sam.client.http  # the session cookie, but no X-CSRF-Token header
    resp = documented(system, http.post(f"{system.url}/api/conversations/{case_id}/claim",
                                        timeout=15))
    assert resp.status_code == 403 and "CSRF" in resp.json()["error"]
    assert sam.conversation(case_id)["status"] == "escalated"
    customer.silence()


def test_a_bearer_token_works_without_a_csrf_token(system, escalated):
    case_id, customer, _ = escalated
    add_staff(system, "bot-ops@example.com", name="Robin")
    token = system.runtime.staff.issue_token("bot-ops@example.com")
    api = Api(system, token=token)
    assert api.get("/api/me").json()["email"] == "bot-ops@example.com"
    assert api.post(f"/api/conversations/{case_id}/claim").status_code == 200
    assert "Robin from support" in customer.reply()
    assert Api(system, token="dst_not-a-real-token").get("/api/me").status_code == 401


def test_only_supervisors_manage_resolution_codes(system, sam):
    resp = sam.post("/api/resolution-codes", json={"code": "goodwill", "label": "Goodwill"})
    assert resp.status_code == 403
    assert sam.delete("/api/resolution-codes/refund_issued").status_code == 403
    boss = staff_api(system, "lee@example.com", "supervisor")
    created = boss.post("/api/resolution-codes", json={"code": "goodwill", "label": "Goodwill"})
    assert created.status_code == 201
    assert boss.delete("/api/resolution-codes/refund_issued").status_code == 204
    codes = [c["code"] for c in sam.get("/api/resolution-codes").json()["resolution_codes"]]
    assert codes[-1] == "goodwill" and "refund_issued" not in codes
    bad = boss.post("/api/resolution-codes", json={"code": "Bad Code", "label": "x"})
    assert bad.status_code == 422 and "code" in bad.json()["error"]
    assert boss.delete("/api/resolution-codes/refund_issued").status_code == 404


def test_supervisors_keep_canned_responses_that_agents_can_read(system, sam):
    boss = staff_api(system, "lee@example.com", "supervisor")
    made = boss.post("/api/canned-responses",
                     json={"title": "Depot hold", "text": "Your parcel is held at the depot."})
    assert made.status_code == 201
    assert sam.post("/api/canned-responses", json={"title": "x", "text": "y"}).status_code == 403
    listed = sam.get("/api/canned-responses").json()["canned_responses"]
    assert listed == [made.json()]
    assert boss.delete(f"/api/canned-responses/{made.json()['id']}").status_code == 204
    assert sam.get("/api/canned-responses").json()["canned_responses"] == []
    assert boss.delete(f"/api/canned-responses/{made.json()['id']}").status_code == 404
    long = boss.post("/api/canned-responses", json={"title": "t", "text": "x" * 1001})
    assert long.status_code == 422 and "text" in long.json()["error"]


def test_a_disabled_account_is_signed_out_at_once(system, sam):
    boss = staff_api(system, "lee@example.com", "supervisor")
    created = boss.post("/api/staff", json={"email": "new@example.com", "role": "agent",
                                            "password": "a long enough password"})
    assert created.status_code == 201 and created.json()["name"] == "New"
    assert "password" not in str(created.json()) and "hash" not in str(created.json())
    newbie = Api(system, login(system, "new@example.com", "a long enough password"))
    assert newbie.get("/api/me").status_code == 200
    assert sam.get("/api/staff").status_code == 403
    disabled = boss.post("/api/staff/new@example.com/disable")
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert newbie.get("/api/me").status_code == 401
    staff = {m["email"]: m for m in boss.get("/api/staff").json()["staff"]}
    assert staff["new@example.com"]["disabled"] is True
    assert boss.post("/api/staff/ghost@example.com/disable").status_code == 404
    dup = boss.post("/api/staff", json={"email": "new@example.com", "role": "agent",
                                        "password": "a long enough password"})
    assert dup.status_code == 422 and "already" in dup.json()["error"]


# -- bodies ---------------------------------------------------------------------------
def test_a_body_that_is_not_json_is_a_400(system, sam, escalated):
    case_id, _, _ = escalated
    sam.post(f"/api/conversations/{case_id}/claim")
    for raw in ("{not json", "[1, 2]", ""):
        resp = sam.call("post", f"/api/conversations/{case_id}/messages", data=raw,
                        headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, raw
        assert resp.json() == {"error": "body must be a JSON object"}


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
