"""The console's JSON API over real HTTP: its OpenAPI document, and who may do what (every
answer is checked against /api/openapi.json)."""


from __future__ import annotations

from console_api_support import Api, documented, staff_api
from console_support import add_staff, login
from openapi_spec_validator import validate as validate_spec


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
